//! Order arguments by name: every order type the program offers, built the one way the program
//! reads it. Trigger orders (stop-loss, take-profit) are reduce-only by default, as a trader
//! protecting a position expects; set `reduce_only = false` on the result for a trigger entry.
use margin_engine::instructions::PlaceOrderArgs;
use margin_engine::state::{order_kind, order_side, order_trigger};

fn args(market_index: u16, side: u8, price: u64, base_amount: u64, kind: u8) -> PlaceOrderArgs {
    PlaceOrderArgs {
        market_index,
        side,
        price,
        base_amount,
        reduce_only: false,
        post_only: false,
        expiry_slot: 0,
        client_order_id: 0,
        kind,
        trigger: order_trigger::NONE,
        trigger_price: 0,
        peg_offset: 0,
    }
}

/// A limit order at `price`.
pub fn limit(market_index: u16, side: u8, price: u64, base_amount: u64) -> PlaceOrderArgs {
    args(market_index, side, price, base_amount, order_kind::LIMIT)
}

/// A market order: takes at any price up to `worst_price` (a bid) or down to it (an ask).
pub fn market(market_index: u16, side: u8, worst_price: u64, base_amount: u64) -> PlaceOrderArgs {
    args(market_index, side, worst_price, base_amount, order_kind::MARKET)
}

/// An oracle-pegged limit order: oracle + `offset` at fill time, never beyond `cap` (0 = no cap).
pub fn oracle_peg(market_index: u16, side: u8, offset: i64, base_amount: u64, cap: u64) -> PlaceOrderArgs {
    PlaceOrderArgs { peg_offset: offset, ..args(market_index, side, cap, base_amount, order_kind::ORACLE_PEG) }
}

/// The condition under which an order on `side` stops a loss: a sell (closing a long) when the
/// price falls to the trigger, a buy (closing a short) when it rises to it.
pub fn stop_condition(side: u8) -> u8 {
    if side == order_side::ASK {
        order_trigger::BELOW
    } else {
        order_trigger::ABOVE
    }
}

/// The condition under which an order on `side` takes profit: the opposite of the stop.
pub fn take_profit_condition(side: u8) -> u8 {
    if side == order_side::ASK {
        order_trigger::ABOVE
    } else {
        order_trigger::BELOW
    }
}

fn trigger(mut order: PlaceOrderArgs, condition: u8, trigger_price: u64) -> PlaceOrderArgs {
    order.trigger = condition;
    order.trigger_price = trigger_price;
    order.reduce_only = true;
    order
}

/// Stop-market: once the oracle reaches `trigger_price`, a market order with `worst_price`.
pub fn stop_market(
    market_index: u16,
    side: u8,
    trigger_price: u64,
    worst_price: u64,
    base_amount: u64,
) -> PlaceOrderArgs {
    trigger(market(market_index, side, worst_price, base_amount), stop_condition(side), trigger_price)
}

/// Stop-limit: once the oracle reaches `trigger_price`, a limit order at `price`.
pub fn stop_limit(market_index: u16, side: u8, trigger_price: u64, price: u64, base_amount: u64) -> PlaceOrderArgs {
    trigger(limit(market_index, side, price, base_amount), stop_condition(side), trigger_price)
}

/// Take-profit-market: once the oracle reaches `trigger_price`, a market order with `worst_price`.
pub fn take_profit_market(
    market_index: u16,
    side: u8,
    trigger_price: u64,
    worst_price: u64,
    base_amount: u64,
) -> PlaceOrderArgs {
    trigger(market(market_index, side, worst_price, base_amount), take_profit_condition(side), trigger_price)
}

/// Take-profit-limit: once the oracle reaches `trigger_price`, a limit order at `price`.
pub fn take_profit_limit(
    market_index: u16,
    side: u8,
    trigger_price: u64,
    price: u64,
    base_amount: u64,
) -> PlaceOrderArgs {
    trigger(limit(market_index, side, price, base_amount), take_profit_condition(side), trigger_price)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_and_take_profits_fire_on_the_side_that_closes_the_position() {
        // Closing a long is a sell: its stop fires below, its take-profit above.
        let stop = stop_market(0, order_side::ASK, 90_000_000, 85_000_000, 1);
        assert_eq!((stop.trigger, stop.kind, stop.reduce_only), (order_trigger::BELOW, order_kind::MARKET, true));
        let tp = take_profit_limit(0, order_side::ASK, 120_000_000, 120_000_000, 1);
        assert_eq!((tp.trigger, tp.kind), (order_trigger::ABOVE, order_kind::LIMIT));
        // Closing a short is a buy: the other way round.
        assert_eq!(stop_limit(0, order_side::BID, 110_000_000, 111_000_000, 1).trigger, order_trigger::ABOVE);
        assert_eq!(take_profit_market(0, order_side::BID, 80_000_000, 81_000_000, 1).trigger, order_trigger::BELOW);
    }
}
