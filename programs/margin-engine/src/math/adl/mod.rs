//! Auto-deleveraging: the bankruptcy price, candidate ranking, and socialised-loss spreading.
use super::fixed::{div_i128, mul_div_u128, Rounding};
use super::MathResult;
use crate::constants::{BASE_PRECISION, FUNDING_INDEX_SCALE, RATIO_PRECISION};
use crate::error::ErrorCode;

/// The price at which closing `base` (signed) brings an account of `equity` (at `oracle`) to zero:
/// `oracle − equity × 1e9 / base`. Rounded toward the oracle, so counterparties never pay more
/// than the exact loss (a residual unit at most is left for socialisation).
pub fn bankruptcy_price(oracle: u64, base: i64, equity: i128) -> MathResult<u64> {
    if base == 0 {
        return Err(ErrorCode::NoPositionInMarket);
    }
    let shift_num = equity.checked_mul(BASE_PRECISION as i128).ok_or(ErrorCode::MathOverflow)?;
    // shift = −equity × 1e9 / base, rounded toward zero (toward the oracle) in either direction.
    let shift = if base > 0 {
        div_i128(-shift_num, base as i128, Rounding::Down)?
    } else {
        div_i128(shift_num, base.unsigned_abs() as i128, Rounding::Up)?
    };
    let price = oracle as i128 + shift;
    u64::try_from(price.max(1)).map_err(|_| ErrorCode::MathOverflow)
}

/// Clamps a price into `oracle ± band` (ppm).
pub fn clamp_to_band(price: u64, oracle: u64, band: u32) -> u64 {
    let width = (oracle as u128 * band as u128 / RATIO_PRECISION as u128) as u64;
    price.clamp(oracle.saturating_sub(width), oracle.saturating_add(width))
}

/// ADL score (ppm): PnL% × effective leverage = (pnl / entry notional) × (notional / equity).
/// Higher = deleveraged first. Equity at or below zero ranks highest.
pub fn adl_score(pnl: i128, entry_notional: u128, notional: u128, equity: i128) -> u64 {
    if pnl <= 0 || entry_notional == 0 {
        return 0;
    }
    if equity <= 0 {
        return u64::MAX;
    }
    let pnl_ppm = (pnl as u128).saturating_mul(RATIO_PRECISION as u128) / entry_notional;
    let score = pnl_ppm.saturating_mul(notional) / equity as u128;
    u64::try_from(score).unwrap_or(u64::MAX)
}

/// Index step that spreads `loss` over all open interest (longs and shorts each pay per base),
/// rounded up so at least `loss` is collected.
pub fn socialized_loss_index_delta(loss: u64, open_interest_long: u64, open_interest_short: u64) -> MathResult<i64> {
    let total = open_interest_long as u128 + open_interest_short as u128;
    if total == 0 {
        return Err(ErrorCode::NoOpenInterest);
    }
    let scaled = (loss as u128).checked_mul(BASE_PRECISION as u128).ok_or(ErrorCode::MathOverflow)?;
    let delta = mul_div_u128(scaled, FUNDING_INDEX_SCALE as u128, total, Rounding::Up)?;
    i64::try_from(delta).map_err(|_| ErrorCode::MathOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::position::funding_owed;
    use proptest::prelude::*;

    const B: i64 = 1_000_000_000;

    #[test]
    fn bankruptcy_price_hand_checked() {
        // Long 10 at oracle $80 with equity −$50: closing at $85 absorbs the $50.
        assert_eq!(bankruptcy_price(80_000_000, 10 * B, -50_000_000).unwrap(), 85_000_000);
        // Short 4 at $120 with equity −$20: closing at $115.
        assert_eq!(bankruptcy_price(120_000_000, -4 * B, -20_000_000).unwrap(), 115_000_000);
        // Rounded toward the oracle: long 3, equity −$1 -> +$0.333333.
        assert_eq!(bankruptcy_price(80_000_000, 3 * B, -1_000_000).unwrap(), 80_333_333);
        assert_eq!(clamp_to_band(85_000_000, 80_000_000, 50_000), 84_000_000);
        assert_eq!(clamp_to_band(79_000_000, 80_000_000, 50_000), 79_000_000);
    }

    #[test]
    fn score_ranks_profit_and_leverage() {
        // +20% PnL at 5x = 1.0.
        assert_eq!(adl_score(200, 1_000, 1_200, 240), 1_000_000);
        assert_eq!(adl_score(-1, 1_000, 1_200, 240), 0);
        assert_eq!(adl_score(200, 1_000, 1_200, 0), u64::MAX);
        assert!(adl_score(200, 1_000, 1_200, 120) > adl_score(200, 1_000, 1_200, 240));
    }

    #[test]
    fn socialised_loss_hand_checked() {
        // $30 over 10 long + 20 short base = $1 per base.
        assert_eq!(socialized_loss_index_delta(30_000_000, 10 * B as u64, 20 * B as u64).unwrap(), 1_000_000_000);
        assert_eq!(socialized_loss_index_delta(1, 0, 0), Err(ErrorCode::NoOpenInterest));
    }

    proptest! {
        /// The index step, applied to every position, collects at least the loss and at most one
        /// unit per position more.
        #[test]
        fn socialisation_collects_the_loss(loss in 1u64..1_000_000_000_000, longs in prop::collection::vec(1i64..1_000 * B, 1..6), shorts in prop::collection::vec(1i64..1_000 * B, 1..6)) {
            let oi_long: i64 = longs.iter().sum();
            let oi_short: i64 = shorts.iter().sum();
            let d = socialized_loss_index_delta(loss, oi_long as u64, oi_short as u64).unwrap();
            let paid_longs: i128 = longs.iter().map(|b| -(funding_owed(*b, d, 0).unwrap() as i128)).sum();
            let paid_shorts: i128 = shorts.iter().map(|b| -(funding_owed(-*b, -d, 0).unwrap() as i128)).sum();
            let collected = paid_longs + paid_shorts;
            prop_assert!(collected >= loss as i128, "collected {} < loss {}", collected, loss);
            // Index rounding (< 1 unit per base-lot scale) plus one unit per position.
            let slack = ((oi_long + oi_short) as i128 / (B as i128)) + 1 + (longs.len() + shorts.len()) as i128;
            prop_assert!(collected - loss as i128 <= slack, "over-collected {}", collected - loss as i128);
        }
    }
}
