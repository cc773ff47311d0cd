use anchor_lang::prelude::*;

use crate::controller::orders::cancel_orders;
use crate::error::ErrorCode;
use crate::events::OrdersCancelled;
use crate::state::MarginAccount;

/// Owner or delegate. Cancelling only lowers risk, so no oracle is read.
#[derive(Accounts)]
pub struct CancelOrder<'info> {
    pub authority: Signer<'info>,
    #[account(mut, constraint = margin_account.load()?.can_trade(&authority.key()) @ ErrorCode::NotOwnerOrDelegate)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
}

pub fn handle_cancel_order(ctx: Context<CancelOrder>, order_id: u64) -> Result<()> {
    let mut account = ctx.accounts.margin_account.load_mut()?;
    require!(account.order_index(order_id).is_some(), ErrorCode::OrderNotFound);
    let count = cancel_orders(&mut account, |o| o.order_id == order_id)?;
    emit!(OrdersCancelled { margin_account: ctx.accounts.margin_account.key(), count });
    Ok(())
}
