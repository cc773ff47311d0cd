use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::safe_math::SafeMath;
use crate::state::{order_side, MarginAccount};

/// Reduces an order by `base` (removing it when nothing remains) and releases the same amount from
/// the position's open-order totals (reduce-only orders were never counted there).
pub fn reduce_order(account: &mut MarginAccount, order_slot: usize, base: u64) -> Result<()> {
    let order = account.orders[order_slot];
    let remaining = order.base_amount.safe_sub(base)?;
    account.orders[order_slot].base_amount = remaining;
    if !order.is_reduce_only() {
        let slot = account.position_index(order.market_index).ok_or(ErrorCode::MathOverflow)?;
        let p = &mut account.positions[slot];
        let open = if order.side == order_side::BID { &mut p.open_bids } else { &mut p.open_asks };
        *open = open.safe_sub(base)?;
    }
    if remaining == 0 {
        account.orders[order_slot] = Default::default();
    }
    Ok(())
}

/// Cancels every order matching `filter`; returns how many.
pub fn cancel_orders(account: &mut MarginAccount, filter: impl Fn(&crate::state::Order) -> bool) -> Result<u32> {
    let mut cancelled = 0;
    for i in 0..account.orders.len() {
        let order = account.orders[i];
        if !order.is_empty() && filter(&order) {
            reduce_order(account, i, order.base_amount)?;
            cancelled += 1;
        }
    }
    Ok(cancelled)
}
