use anchor_lang::prelude::*;

use crate::controller::orders::cancel_orders;
use crate::events::OrdersCancelled;
use crate::instructions::cancel_order::CancelOrder;

/// Cancels every order, or every order of one market.
pub fn handle_cancel_all_orders(ctx: Context<CancelOrder>, market_index: Option<u16>) -> Result<()> {
    let mut account = ctx.accounts.margin_account.load_mut()?;
    let count = cancel_orders(&mut account, |o| market_index.is_none_or(|m| o.market_index == m))?;
    emit!(OrdersCancelled { margin_account: ctx.accounts.margin_account.key(), count });
    Ok(())
}
