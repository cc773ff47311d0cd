use anchor_lang::prelude::*;

use crate::constants::MARKET_ORDER_MAX_SLOTS;
use crate::error::ErrorCode;
use crate::instructions::PlaceOrderArgs;
use crate::math::trading::{pegged_price, trigger_fired, within_band};
use crate::safe_math::SafeMath;
use crate::state::{order_flags, order_kind, order_side, order_trigger, MarginAccount, Market, Order};

/// Every rule an order's arguments must meet at placement, at the oracle price `oracle_price`.
pub fn validate_order(args: &PlaceOrderArgs, market: &Market, oracle_price: u64, slot: u64) -> Result<()> {
    let tick = market.risk.tick_size;
    require!(args.side == order_side::BID || args.side == order_side::ASK, ErrorCode::InvalidOrderSide);
    require!(
        matches!(args.kind, order_kind::LIMIT | order_kind::MARKET | order_kind::ORACLE_PEG)
            && matches!(args.trigger, order_trigger::NONE | order_trigger::ABOVE | order_trigger::BELOW),
        ErrorCode::InvalidOrderKind
    );
    // A market order never rests as a maker, so post-only means nothing for it; a pegged trigger
    // would need two prices to follow the oracle.
    require!(!(args.kind == order_kind::MARKET && args.post_only), ErrorCode::InvalidOrderKind);
    require!(
        !(args.kind == order_kind::ORACLE_PEG && args.trigger != order_trigger::NONE),
        ErrorCode::InvalidOrderKind
    );
    if args.kind == order_kind::ORACLE_PEG {
        // `price` is an optional cap for a pegged order.
        require!(args.price.is_multiple_of(tick), ErrorCode::InvalidOrderPrice);
        let bound = oracle_price.safe_add(args.peg_offset.unsigned_abs())?;
        require!(
            args.peg_offset.unsigned_abs().is_multiple_of(tick)
                && within_band(bound, oracle_price, market.risk.fill_price_band),
            ErrorCode::PegOffsetOutOfBounds
        );
        let pegged = pegged_price(oracle_price, args.peg_offset, tick, args.side == order_side::BID, args.price);
        require!(pegged.is_some(), ErrorCode::InvalidOrderPrice);
    } else {
        require!(args.peg_offset == 0, ErrorCode::PegOffsetOutOfBounds);
        require!(args.price > 0 && args.price.is_multiple_of(tick), ErrorCode::InvalidOrderPrice);
    }
    if args.trigger == order_trigger::NONE {
        require!(args.trigger_price == 0, ErrorCode::InvalidOrderKind);
    } else {
        // A trigger already met would fire at once: the trader meant a different side or price.
        require!(
            args.trigger_price > 0 && !trigger_fired(args.trigger, args.trigger_price, oracle_price),
            ErrorCode::TriggerWrongSide
        );
    }
    require!(
        args.base_amount >= market.risk.min_order_size && args.base_amount.is_multiple_of(market.risk.step_size),
        ErrorCode::InvalidOrderSize
    );
    // Base amounts are i64 in positions; orders must stay inside that range.
    require!(args.base_amount <= i64::MAX as u64, ErrorCode::InvalidOrderSize);
    require!(args.expiry_slot == 0 || args.expiry_slot >= slot, ErrorCode::OrderExpiryInPast);
    Ok(())
}

/// Writes a validated order into a free slot and counts it in the position's open orders (unless
/// reduce-only). Returns (order slot, order id). A live market order gets the market-order expiry.
pub fn insert_order(account: &mut MarginAccount, args: &PlaceOrderArgs, slot: u64) -> Result<(usize, u64)> {
    let order_slot = account.orders.iter().position(|o| o.is_empty()).ok_or(ErrorCode::TooManyOrders)?;
    let position_slot = account.position_index_or_open(args.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let order_id = account.next_order_id;
    account.next_order_id = order_id.safe_add(1)?;
    let mut flags = 0u8;
    if args.reduce_only {
        flags |= order_flags::REDUCE_ONLY;
    }
    if args.post_only {
        flags |= order_flags::POST_ONLY;
    }
    let mut expiry_slot = args.expiry_slot;
    if args.kind == order_kind::MARKET && args.trigger == order_trigger::NONE {
        expiry_slot = market_order_expiry(expiry_slot, slot);
    }
    account.orders[order_slot] = Order {
        order_id,
        client_order_id: args.client_order_id,
        price: args.price,
        base_amount: args.base_amount,
        expiry_slot,
        trigger_price: args.trigger_price,
        peg_offset: args.peg_offset,
        market_index: args.market_index,
        side: args.side,
        flags,
        kind: args.kind,
        trigger: args.trigger,
        _padding: [0; 2],
    };
    if !args.reduce_only {
        let p = &mut account.positions[position_slot];
        let open = if args.side == order_side::BID { &mut p.open_bids } else { &mut p.open_asks };
        *open = open.safe_add(args.base_amount)?;
    }
    Ok((order_slot, order_id))
}

/// The expiry of a market order that goes live at `slot`: its own, if sooner.
pub fn market_order_expiry(expiry_slot: u64, slot: u64) -> u64 {
    let latest = slot.saturating_add(MARKET_ORDER_MAX_SLOTS);
    if expiry_slot == 0 {
        latest
    } else {
        expiry_slot.min(latest)
    }
}

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
