//! Funding: time-weighted averages of oracle and fill prices, and the clamped premium between them.
use super::fixed::{mul_div_i128, mul_div_u128, Rounding};
use super::MathResult;
use crate::constants::{FUNDING_INDEX_SCALE, RATIO_PRECISION};
use crate::error::ErrorCode;

/// Time-weighted average over a window of `window` slots: the new price weighs in by the slots
/// elapsed (capped at the window). An uninitialised average (0) starts at the price.
pub fn update_twap(twap: u64, last_slot: u64, price: u64, now: u64, window: u64) -> MathResult<u64> {
    if twap == 0 || window == 0 {
        return Ok(price);
    }
    let elapsed = now.saturating_sub(last_slot).min(window) as u128;
    let weighted = (twap as u128) * (window as u128 - elapsed) + (price as u128) * elapsed;
    mul_div_u128(weighted, 1, window as u128, Rounding::Down)
        .and_then(|v| u64::try_from(v).map_err(|_| ErrorCode::MathOverflow))
}

/// The mark TWAP after a fill of `fill_base` at `fill_price`. The interval since the last fill is
/// first folded in at the oracle TWAP (no trade, no premium: a quiet hour decays the premium
/// instead of leaving the next fill to set it), then the fill pulls the mark toward its price by
/// the share `fill_base / reference_base` of the way (at most all of it), where the reference is
/// the market's open interest. A dust wash fill after a quiet hour therefore moves the premium by
/// `dust / open interest` of the band at most: setting funding takes volume comparable to the
/// positions it charges. Rounded toward the previous mark.
pub fn update_mark_twap(
    mark: u64,
    mark_slot: u64,
    oracle_twap: u64,
    fill_price: u64,
    fill_base: u64,
    reference_base: u64,
    now: u64,
    window: u64,
) -> MathResult<u64> {
    let start = if mark == 0 { oracle_twap } else { update_twap(mark, mark_slot, oracle_twap, now, window)? };
    if start == 0 {
        return Ok(fill_price);
    }
    let reference = reference_base.max(fill_base).max(1) as u128;
    let pull = mul_div_u128(fill_price.abs_diff(start) as u128, fill_base as u128, reference, Rounding::Down)?;
    let pull = u64::try_from(pull).map_err(|_| ErrorCode::MathOverflow)?;
    Ok(if fill_price >= start { start + pull } else { start - pull })
}

/// Funding payment for one period per whole base, quote native: mark TWAP minus oracle TWAP,
/// clamped to ±`max_rate` of the oracle TWAP. Positive: longs pay shorts. No fills yet: zero.
pub fn funding_payment(mark_twap: u64, oracle_twap: u64, max_rate: u32) -> MathResult<i64> {
    if mark_twap == 0 || oracle_twap == 0 {
        return Ok(0);
    }
    let premium = mark_twap as i128 - oracle_twap as i128;
    let cap = mul_div_i128(oracle_twap as i128, max_rate as i128, RATIO_PRECISION as i128, Rounding::Down)?;
    i64::try_from(premium.clamp(-cap, cap)).map_err(|_| ErrorCode::MathOverflow)
}

/// Index increment for a payment (quote native per whole base).
pub fn index_delta(payment: i64) -> MathResult<i64> {
    i64::try_from(payment as i128 * FUNDING_INDEX_SCALE).map_err(|_| ErrorCode::MathOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twap_weighs_by_elapsed_slots() {
        assert_eq!(update_twap(0, 0, 100, 5, 10).unwrap(), 100);
        assert_eq!(update_twap(100, 0, 200, 5, 10).unwrap(), 150);
        assert_eq!(update_twap(100, 0, 200, 50, 10).unwrap(), 200);
        assert_eq!(update_twap(100, 7, 200, 7, 10).unwrap(), 100);
    }

    #[test]
    fn mark_twap_follows_volume_not_single_fills() {
        // A fill the size of open interest sets the mark; a hundredth of it moves it 1% of the way.
        assert_eq!(update_mark_twap(100, 10, 100, 200, 50, 50, 10, 100).unwrap(), 200);
        assert_eq!(update_mark_twap(100, 10, 100, 200, 1, 100, 10, 100).unwrap(), 101);
        // After a full quiet window the mark starts again from the oracle TWAP.
        assert_eq!(update_mark_twap(150, 0, 100, 100, 1, 100, 500, 100).unwrap(), 100);
        // Half a quiet window: halfway back to the oracle, then the fill.
        assert_eq!(update_mark_twap(200, 0, 100, 100, 0, 100, 50, 100).unwrap(), 150);
        // Unset mark: starts at the oracle TWAP.
        assert_eq!(update_mark_twap(0, 0, 100, 300, 10, 100, 5, 100).unwrap(), 120);
    }

    proptest::proptest! {
        /// A fill of size s moves the mark (so the premium over the oracle TWAP) by at most
        /// s / reference of its distance to the mark: the move shrinks with the size.
        #[test]
        fn small_fills_move_the_premium_little(
            mark in 1u64..1_000_000_000_000,
            oracle in 1u64..1_000_000_000_000,
            fill in 1u64..1_000_000_000_000,
            s in 0u64..1_000_000_000_000,
            reference in 1u64..1_000_000_000_000,
            elapsed in 0u64..10_000,
        ) {
            let window = 3_600;
            let start = update_twap(mark, 0, oracle, elapsed, window).unwrap();
            let next = update_mark_twap(mark, 0, oracle, fill, s, reference, elapsed, window).unwrap();
            let bound = (fill.abs_diff(start) as u128 * s as u128).div_ceil(reference.max(s) as u128);
            proptest::prop_assert!((next.abs_diff(start) as u128) <= bound);
            // Twice the size moves at least as far, and never past the fill price.
            let bigger = update_mark_twap(mark, 0, oracle, fill, s.saturating_mul(2), reference, elapsed, window).unwrap();
            proptest::prop_assert!(bigger.abs_diff(start) >= next.abs_diff(start));
            proptest::prop_assert!(next.abs_diff(fill) <= start.abs_diff(fill));
        }
    }

    #[test]
    fn payment_is_clamped_premium() {
        assert_eq!(funding_payment(101_000_000, 100_000_000, 100_000).unwrap(), 1_000_000);
        assert_eq!(funding_payment(99_000_000, 100_000_000, 100_000).unwrap(), -1_000_000);
        // 1% cap: a 5% premium pays 1%.
        assert_eq!(funding_payment(105_000_000, 100_000_000, 10_000).unwrap(), 1_000_000);
        assert_eq!(funding_payment(0, 100_000_000, 10_000).unwrap(), 0);
        assert_eq!(index_delta(-7).unwrap(), -7_000);
    }
}
