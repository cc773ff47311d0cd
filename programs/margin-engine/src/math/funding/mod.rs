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

/// The mark level and the mark TWAP carried forward to `now`. Over the `dt` slots since
/// `last_slot` (capped at the window) the level decays linearly toward the oracle TWAP (no
/// trades, no premium), and the TWAP takes in the level's average over those slots. Unset values
/// (0) start at the oracle TWAP.
pub fn advance_mark(
    level: u64,
    twap: u64,
    last_slot: u64,
    oracle_twap: u64,
    now: u64,
    window: u64,
) -> MathResult<(u64, u64)> {
    let level = if level == 0 { oracle_twap } else { level };
    let twap = if twap == 0 { oracle_twap } else { twap };
    if window == 0 {
        return Ok((level, twap));
    }
    let dt = now.saturating_sub(last_slot).min(window);
    let gap = level.abs_diff(oracle_twap) as u128;
    let gap_end = u64::try_from(mul_div_u128(gap, (window - dt) as u128, window as u128, Rounding::Down)?)
        .map_err(|_| ErrorCode::MathOverflow)?;
    let level_end = if level >= oracle_twap { oracle_twap + gap_end } else { oracle_twap - gap_end };
    let average = ((level as u128 + level_end as u128) / 2) as u64;
    Ok((level_end, update_twap(twap, last_slot, average, now, window)?))
}

/// The mark after a fill of `fill_base` at `fill_price`: both are first carried to `now`
/// (`advance_mark`), then the fill pulls the level toward its price by `fill_base / reference`
/// of the way (at most all of it), the reference being the larger of open interest before and
/// after the fill. The fill itself adds nothing to the TWAP: only the slots the new level then
/// lasts do. So a dust wash fill moves the premium by dust / open interest, and a fill in the
/// last slot of a period moves that period's funding not at all. Rounded toward the old level.
#[allow(clippy::too_many_arguments)]
pub fn mark_after_fill(
    level: u64,
    twap: u64,
    last_slot: u64,
    oracle_twap: u64,
    fill_price: u64,
    fill_base: u64,
    reference_base: u64,
    now: u64,
    window: u64,
) -> MathResult<(u64, u64)> {
    let (level, twap) = advance_mark(level, twap, last_slot, oracle_twap, now, window)?;
    if level == 0 {
        return Ok((fill_price, fill_price));
    }
    let reference = reference_base.max(fill_base).max(1) as u128;
    let pull = mul_div_u128(fill_price.abs_diff(level) as u128, fill_base as u128, reference, Rounding::Down)?;
    let pull = u64::try_from(pull).map_err(|_| ErrorCode::MathOverflow)?;
    Ok((if fill_price >= level { level + pull } else { level - pull }, twap))
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
    fn the_mark_follows_volume_and_time_not_single_fills() {
        // A fill the size of open interest sets the level; a hundredth of it moves it 1% of the
        // way; neither touches the TWAP in the slot it happens.
        assert_eq!(mark_after_fill(100, 100, 10, 100, 200, 50, 50, 10, 100).unwrap(), (200, 100));
        assert_eq!(mark_after_fill(100, 100, 10, 100, 200, 1, 100, 10, 100).unwrap(), (101, 100));
        // The level then counts for the slots it lasts, decaying toward the oracle: 50 slots of a
        // level falling from 200 to 150 average 175, half a window at 175 next to 100.
        assert_eq!(advance_mark(200, 100, 0, 100, 50, 100).unwrap(), (150, 137));
        // After a full quiet window both are back at the oracle TWAP.
        assert_eq!(advance_mark(150, 150, 0, 100, 500, 100).unwrap(), (100, 125));
        assert_eq!(advance_mark(100, 125, 0, 100, 500, 100).unwrap(), (100, 100));
        // Unset: start at the oracle TWAP.
        assert_eq!(mark_after_fill(0, 0, 0, 100, 300, 10, 100, 5, 100).unwrap(), (120, 100));
    }

    proptest::proptest! {
        /// A fill of size s moves the level by at most s / reference of its distance, and the
        /// premium it adds to the TWAP over the next dt slots is at most dt / window of that.
        #[test]
        fn small_fills_move_the_premium_little(
            level in 1u64..1_000_000_000_000,
            oracle in 1u64..1_000_000_000_000,
            fill in 1u64..1_000_000_000_000,
            s in 0u64..1_000_000_000_000,
            reference in 1u64..1_000_000_000_000,
            dt in 0u64..10_000,
        ) {
            let window = 3_600;
            let (start, twap) = advance_mark(level, oracle, 0, oracle, 0, window).unwrap();
            let (moved, twap_at_fill) = mark_after_fill(level, oracle, 0, oracle, fill, s, reference, 0, window).unwrap();
            proptest::prop_assert_eq!(twap_at_fill, twap, "the fill itself adds nothing to the TWAP");
            let pull = moved.abs_diff(start) as u128;
            proptest::prop_assert!(pull <= (fill.abs_diff(start) as u128 * s as u128).div_ceil(reference.max(s) as u128));
            let (_, with_fill) = advance_mark(moved, twap_at_fill, 0, oracle, dt, window).unwrap();
            let (_, without) = advance_mark(start, twap, 0, oracle, dt, window).unwrap();
            let bound = (pull * dt.min(window) as u128).div_ceil(window as u128) + 2;
            proptest::prop_assert!((with_fill.abs_diff(without) as u128) <= bound, "{} vs {}", with_fill.abs_diff(without), bound);
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
