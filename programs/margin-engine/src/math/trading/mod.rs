//! Order matching rules and fees, as pure functions.
use super::fixed::{mul_div_u128, u128_to_u64, Rounding};
use super::MathResult;
use crate::constants::{BASE_PRECISION, RATIO_PRECISION};

/// A bid at `bid` and an ask at `ask` cross when the bid is at least the ask.
pub fn crosses(bid: u64, ask: u64) -> bool {
    bid >= ask
}

/// |price − oracle| ≤ band × oracle.
pub fn within_band(price: u64, oracle: u64, band: u32) -> bool {
    let diff = price.abs_diff(oracle) as u128;
    diff * RATIO_PRECISION as u128 <= band as u128 * oracle as u128
}

/// An oracle-pegged limit price: the oracle rounded to a tick away from crossing (a bid down, an
/// ask up), plus `offset`, capped by `limit` when it is not 0 (a bid never above it, an ask never
/// below it). `None` when the result would not be a positive price.
pub fn pegged_price(oracle: u64, offset: i64, tick: u64, is_bid: bool, limit: u64) -> Option<u64> {
    let tick = tick.max(1);
    let rounded = if is_bid { oracle - oracle % tick } else { oracle.checked_add((tick - oracle % tick) % tick)? };
    let pegged = (rounded as i128).checked_add(offset as i128)?;
    if pegged <= 0 || pegged > u64::MAX as i128 {
        return None;
    }
    let pegged = pegged as u64;
    Some(match (limit, is_bid) {
        (0, _) => pegged,
        (l, true) => pegged.min(l),
        (l, false) => pegged.max(l),
    })
}

/// Whether a trigger condition (`order_trigger`) has fired at `oracle`.
pub fn trigger_fired(trigger: u8, trigger_price: u64, oracle: u64) -> bool {
    use crate::state::order_trigger::{ABOVE, BELOW};
    match trigger {
        ABOVE => oracle >= trigger_price,
        BELOW => oracle <= trigger_price,
        _ => false,
    }
}

/// Quote for `base` at `price`: what the buyer pays (rounded up) and the seller gets (rounded
/// down). The difference, at most one unit, goes to the fee pool.
pub fn trade_quote(base: u64, price: u64) -> MathResult<(u64, u64)> {
    let paid = u128_to_u64(mul_div_u128(base as u128, price as u128, BASE_PRECISION as u128, Rounding::Up)?)?;
    let received = u128_to_u64(mul_div_u128(base as u128, price as u128, BASE_PRECISION as u128, Rounding::Down)?)?;
    Ok((paid, received))
}

/// A fee of `rate` ppm on `notional`, rounded up.
pub fn fee(notional: u64, rate: u32) -> MathResult<u64> {
    u128_to_u64(mul_div_u128(notional as u128, rate as u128, RATIO_PRECISION as u128, Rounding::Up)?)
}

/// Splits a fee into (insurance, filler reward, protocol): the shares round down, the protocol
/// keeps the remainder, so the three always add up to the fee.
pub fn split_fee(total: u64, insurance_share: u32, filler_share: u32) -> MathResult<(u64, u64, u64)> {
    let insurance =
        u128_to_u64(mul_div_u128(total as u128, insurance_share as u128, RATIO_PRECISION as u128, Rounding::Down)?)?;
    let filler =
        u128_to_u64(mul_div_u128(total as u128, filler_share as u128, RATIO_PRECISION as u128, Rounding::Down)?)?;
    Ok((insurance, filler, total - insurance - filler))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_checked() {
        assert!(crosses(101, 100) && crosses(100, 100) && !crosses(99, 100));
        assert!(within_band(105_000_000, 100_000_000, 50_000));
        assert!(!within_band(105_000_001, 100_000_000, 50_000));
        assert!(within_band(95_000_000, 100_000_000, 50_000));
        assert_eq!(trade_quote(1_500_000_000, 100_000_001).unwrap(), (150_000_002, 150_000_001));
        assert_eq!(fee(1_000_000, 500).unwrap(), 500);
        assert_eq!(fee(1_001, 500).unwrap(), 1);
        assert_eq!(split_fee(1_000, 250_000, 100_000).unwrap(), (250, 100, 650));
        // Peg: a bid rounds the oracle down to a tick, an ask up; the limit caps either side.
        assert_eq!(pegged_price(100_004_000, -1_000_000, 10_000, true, 0), Some(99_000_000));
        assert_eq!(pegged_price(100_004_000, 1_000_000, 10_000, false, 0), Some(101_010_000));
        assert_eq!(pegged_price(100_000_000, 0, 10_000, true, 98_000_000), Some(98_000_000));
        assert_eq!(pegged_price(100_000_000, 0, 10_000, false, 102_000_000), Some(102_000_000));
        assert_eq!(pegged_price(1_000_000, -1_000_000, 10_000, true, 0), None);
        use crate::state::order_trigger::{ABOVE, BELOW, NONE};
        assert!(trigger_fired(ABOVE, 100, 100) && !trigger_fired(ABOVE, 100, 99));
        assert!(trigger_fired(BELOW, 100, 100) && !trigger_fired(BELOW, 100, 101));
        assert!(!trigger_fired(NONE, 100, 100));
    }

    proptest! {
        #[test]
        fn fee_split_adds_up(total in any::<u64>(), a in 0u32..=500_000, b in 0u32..=500_000) {
            let (i, f, p) = split_fee(total, a, b).unwrap();
            prop_assert_eq!(i as u128 + f as u128 + p as u128, total as u128);
        }
    }
}
