//! Oracle adapters: Pyth pull (`PriceUpdateV2`) first, Switchboard On-Demand as fallback, both
//! reduced to one `OracleReading`, classified by `validity` and checked against the action.
pub mod pyth;
pub mod switchboard;
pub mod validity;

use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::math::breaker::{diverges_from_ema, relative_move};
use crate::state::Market;
pub use validity::{OracleAction, OracleValidity};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleSource {
    Pyth,
    Switchboard,
}

/// A price as read, before classification. `price` may be non-positive here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleReading {
    /// Quote native units per whole base unit (1e6).
    pub price: i64,
    /// Confidence half-width, same scale, rounded up.
    pub confidence: u64,
    pub publish_slot: u64,
    pub publish_time: i64,
    /// The feed's own EMA price (Pyth), same scale; 0 when the source has none.
    pub ema_price: i64,
    pub source: OracleSource,
}

/// A price accepted for a given action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptedPrice {
    pub price: u64,
    pub confidence: u64,
    pub publish_slot: u64,
    /// Signed publish time: writing instructions store it, and nothing older is accepted again.
    pub publish_time: i64,
    /// EMA of the feed (0 = unknown): the breaker's bad-oracle check.
    pub ema_price: u64,
    pub validity: OracleValidity,
    pub source: OracleSource,
}

/// Reads the market's price for `action`: Pyth if it is acceptable, else the Switchboard feed
/// when the market has one. Accounts that are not the configured feeds are rejected outright
/// (no fallback: that is bad input, not a bad price), and so is an update older than one the
/// market already accepted from that source (a replay). The fallback is also refused when it is
/// further than `fallback_max_divergence` from the market's last valid price: it has no EMA to
/// be checked against, and forcing the fallback must not switch the bad-oracle guard off. When
/// neither source is acceptable, the error names Pyth's problem.
pub fn read_price(
    market: &Market,
    pyth_account: &AccountInfo,
    switchboard_account: Option<&AccountInfo>,
    clock: &Clock,
    action: OracleAction,
) -> Result<AcceptedPrice> {
    let pyth_reading = pyth::read(&market.oracle, pyth_account)?;
    require!(pyth_reading.publish_time >= market.last_pyth_publish_time, ErrorCode::OracleReplayed);
    let mut pyth_validity = validity::classify(&pyth_reading, &market.oracle, clock.slot, clock.unix_timestamp);
    // De-risking runs in every breaker state, so it cannot lean on the HALTED mode to keep a
    // suspect print out: a price its own EMA disowns is refused here instead (the actions that add
    // risk see the same test as HALTED through the breaker).
    if action == OracleAction::Liquidate
        && pyth_validity > OracleValidity::NonPositive
        && diverges_from_ema(
            pyth_reading.price.unsigned_abs(),
            pyth_reading.ema_price.unsigned_abs(),
            market.risk.oracle_divergence_limit,
        )
    {
        pyth_validity = OracleValidity::Diverged;
    }
    if validity::accepts(action, pyth_validity) {
        return Ok(accepted(pyth_reading, pyth_validity));
    }
    if market.oracle.has_switchboard() {
        let sb_account = switchboard_account.ok_or(ErrorCode::MissingMarketAccounts)?;
        let sb_reading = switchboard::read(&market.oracle, sb_account)?;
        require!(sb_reading.publish_time >= market.last_switchboard_publish_time, ErrorCode::OracleReplayed);
        let mut sb_validity = validity::classify(&sb_reading, &market.oracle, clock.slot, clock.unix_timestamp);
        if sb_validity > OracleValidity::NonPositive
            && market.last_oracle_price > 0
            && relative_move(sb_reading.price.unsigned_abs(), market.last_oracle_price)
                > market.oracle.fallback_max_divergence as u64
        {
            sb_validity = OracleValidity::Diverged;
        }
        if validity::accepts(action, sb_validity) {
            return Ok(accepted(sb_reading, sb_validity));
        }
    }
    Err(validity::rejection_error(pyth_validity).into())
}

fn accepted(reading: OracleReading, validity: OracleValidity) -> AcceptedPrice {
    AcceptedPrice {
        // classify() only accepts positive prices, so this cast cannot change the value.
        price: reading.price.unsigned_abs(),
        confidence: reading.confidence,
        publish_slot: reading.publish_slot,
        publish_time: reading.publish_time,
        ema_price: reading.ema_price.max(0) as u64,
        validity,
        source: reading.source,
    }
}

/// Number of remaining accounts a market occupies in health checks: market, Pyth, and the
/// Switchboard feed when configured.
pub fn accounts_per_market(market: &Market) -> usize {
    if market.oracle.has_switchboard() {
        3
    } else {
        2
    }
}
