use anchor_lang::prelude::*;

use crate::controller::orders::cancel_orders;
use crate::events::OrdersCancelled;
use crate::state::MarginAccount;

/// Permissionless: anyone may remove orders whose expiry slot has passed (they can no longer fill,
/// but still tie up margin).
#[derive(Accounts)]
pub struct PruneExpiredOrders<'info> {
    pub keeper: Signer<'info>,
    #[account(mut)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
}

pub fn handle_prune_expired_orders(ctx: Context<PruneExpiredOrders>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let mut account = ctx.accounts.margin_account.load_mut()?;
    let count = cancel_orders(&mut account, |o| o.is_expired(slot))?;
    emit!(OrdersCancelled { margin_account: ctx.accounts.margin_account.key(), count });
    Ok(())
}
