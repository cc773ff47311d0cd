//! Pure classification of an oracle reading and the table of which action accepts which class
//! (Drift's per-action policy): liquidation keeps running on a stale-but-sane price, new risk does
//! not.
use super::OracleReading;
use crate::constants::RATIO_PRECISION;
use crate::error::ErrorCode;
use crate::state::OracleConfig;

/// Worst first; a reading gets the first class it falls into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OracleValidity {
    NonPositive,
    /// For liquidation and the waterfall: a Pyth price too far from its own EMA (the breaker's
    /// bad-oracle test). For any action: a fallback price too far from the last valid price.
    Diverged,
    TooUncertain,
    /// Published longer ago than the hard maximum age: unusable for anything.
    TooOld,
    /// Older than the margin staleness limit (slots or seconds).
    StaleForMargin,
    /// Fresh enough for margin, too old to take new risk on.
    StaleForTrading,
    Valid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleAction {
    /// Removing collateral: needs a fully valid price.
    Withdraw,
    /// Placing or filling orders that may add risk.
    Trade,
    /// Funding index update.
    Funding,
    /// Liquidation and the loss waterfall: keep defending solvency on a stale but sane price
    /// (never one older than `max_age_seconds_liquidation`).
    Liquidate,
    /// `refresh_market`: persists TWAP, volatility and breaker state, so only a valid price.
    Refresh,
}

pub fn classify(reading: &OracleReading, config: &OracleConfig, now_slot: u64, now_unix: i64) -> OracleValidity {
    if reading.price <= 0 {
        return OracleValidity::NonPositive;
    }
    // conf / price > limit  <=>  conf × 1e6 > limit × price (u128: no overflow, no rounding).
    let price = reading.price as u64; // > 0 here
    let too_uncertain = match (
        reading.confidence.checked_mul(RATIO_PRECISION),
        (config.max_confidence_ratio as u64).checked_mul(price),
    ) {
        (Some(lhs), Some(rhs)) => lhs > rhs,
        _ => {
            (reading.confidence as u128) * (RATIO_PRECISION as u128)
                > (config.max_confidence_ratio as u128) * (price as u128)
        }
    };
    if too_uncertain {
        return OracleValidity::TooUncertain;
    }
    let age_slots = now_slot.saturating_sub(reading.publish_slot);
    let age_seconds = now_unix.saturating_sub(reading.publish_time).max(0) as u64;
    // The posted slot is the poster's choice (an old signed update can be posted now): the hard
    // bound is on the publish time, which the signature covers.
    if age_seconds > config.max_age_seconds_liquidation as u64 {
        return OracleValidity::TooOld;
    }
    if age_slots > config.max_staleness_slots_margin as u64 || age_seconds > config.max_staleness_seconds as u64 {
        return OracleValidity::StaleForMargin;
    }
    if age_slots > config.max_staleness_slots_trading as u64 {
        return OracleValidity::StaleForTrading;
    }
    OracleValidity::Valid
}

pub fn accepts(action: OracleAction, validity: OracleValidity) -> bool {
    use OracleValidity::*;
    match action {
        OracleAction::Withdraw | OracleAction::Trade | OracleAction::Refresh => validity == Valid,
        OracleAction::Funding => matches!(validity, Valid | StaleForTrading),
        OracleAction::Liquidate => matches!(validity, Valid | StaleForTrading | StaleForMargin),
    }
}

/// The error a rejected class reports.
pub fn rejection_error(validity: OracleValidity) -> ErrorCode {
    match validity {
        OracleValidity::NonPositive => ErrorCode::OracleNonPositive,
        OracleValidity::Diverged => ErrorCode::OracleDiverged,
        OracleValidity::TooOld => ErrorCode::OracleTooOld,
        OracleValidity::TooUncertain => ErrorCode::OracleTooUncertain,
        OracleValidity::StaleForMargin => ErrorCode::OracleStaleForMargin,
        OracleValidity::StaleForTrading | OracleValidity::Valid => ErrorCode::OracleStaleForTrading,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::OracleSource;
    use anchor_lang::prelude::Pubkey;

    fn config() -> OracleConfig {
        OracleConfig {
            pyth_feed_id: [1; 32],
            switchboard_feed: Pubkey::default(),
            max_staleness_slots_margin: 120,
            max_staleness_slots_trading: 10,
            max_staleness_seconds: 60,
            max_confidence_ratio: 20_000, // 2%
            max_age_seconds_liquidation: 300,
            fallback_max_divergence: 200_000,
        }
    }

    fn reading(price: i64, confidence: u64, slot: u64, time: i64) -> OracleReading {
        OracleReading {
            price,
            confidence,
            publish_slot: slot,
            publish_time: time,
            ema_price: 0,
            source: OracleSource::Pyth,
        }
    }

    #[test]
    fn classes_in_order() {
        let c = config();
        assert_eq!(classify(&reading(0, 0, 100, 100), &c, 100, 100), OracleValidity::NonPositive);
        assert_eq!(classify(&reading(-5, 0, 100, 100), &c, 100, 100), OracleValidity::NonPositive);
        // 2% exactly passes, one unit more fails.
        assert_eq!(classify(&reading(1_000_000, 20_000, 100, 100), &c, 100, 100), OracleValidity::Valid);
        assert_eq!(classify(&reading(1_000_000, 20_001, 100, 100), &c, 100, 100), OracleValidity::TooUncertain);
        assert_eq!(classify(&reading(1_000_000, 0, 100, 100), &c, 110, 100), OracleValidity::Valid);
        assert_eq!(classify(&reading(1_000_000, 0, 100, 100), &c, 111, 100), OracleValidity::StaleForTrading);
        assert_eq!(classify(&reading(1_000_000, 0, 100, 100), &c, 221, 100), OracleValidity::StaleForMargin);
        assert_eq!(classify(&reading(1_000_000, 0, 100, 100), &c, 100, 161), OracleValidity::StaleForMargin);
        // Past the hard age on its publish time, however fresh its posted slot.
        assert_eq!(classify(&reading(1_000_000, 0, 100, 100), &c, 100, 400), OracleValidity::StaleForMargin);
        assert_eq!(classify(&reading(1_000_000, 0, 100, 100), &c, 100, 401), OracleValidity::TooOld);
        // A publish time in the future is not "negative age".
        assert_eq!(classify(&reading(1_000_000, 0, 100, 200), &c, 100, 100), OracleValidity::Valid);
    }

    #[test]
    fn action_table() {
        use OracleValidity::*;
        for v in [NonPositive, Diverged, TooUncertain, TooOld] {
            for a in [
                OracleAction::Withdraw,
                OracleAction::Trade,
                OracleAction::Funding,
                OracleAction::Liquidate,
                OracleAction::Refresh,
            ] {
                assert!(!accepts(a, v));
            }
        }
        assert!(accepts(OracleAction::Liquidate, StaleForMargin));
        assert!(!accepts(OracleAction::Funding, StaleForMargin));
        assert!(accepts(OracleAction::Funding, StaleForTrading));
        assert!(!accepts(OracleAction::Withdraw, StaleForTrading));
        assert!(!accepts(OracleAction::Trade, StaleForTrading));
        assert!(accepts(OracleAction::Withdraw, Valid));
        assert!(!accepts(OracleAction::Refresh, StaleForTrading));
        assert!(accepts(OracleAction::Refresh, Valid));
    }
}
