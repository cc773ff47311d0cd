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
    fn payment_is_clamped_premium() {
        assert_eq!(funding_payment(101_000_000, 100_000_000, 100_000).unwrap(), 1_000_000);
        assert_eq!(funding_payment(99_000_000, 100_000_000, 100_000).unwrap(), -1_000_000);
        // 1% cap: a 5% premium pays 1%.
        assert_eq!(funding_payment(105_000_000, 100_000_000, 10_000).unwrap(), 1_000_000);
        assert_eq!(funding_payment(0, 100_000_000, 10_000).unwrap(), 0);
        assert_eq!(index_delta(-7).unwrap(), -7_000);
    }
}
