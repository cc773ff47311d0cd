//! Health: account plumbing around `math::margin`. `snapshot` holds what health needs of each
//! market (`MarketSnapshot`) in a per-instruction `PriceCache`; `loader` fills it from the
//! remaining accounts; here a margin account becomes plain `PositionRisk`s for
//! `math::margin::compute_health`. A price reaches the math in two hops: accepted oracle price ->
//! `MarketSnapshot` -> `PositionRisk`. Markets an account does not hold are never needed, so a
//! stale oracle elsewhere cannot block it.
use anchor_lang::prelude::*;

use crate::constants::MAX_POSITIONS;
use crate::error::ErrorCode;
use crate::math::breaker::MarketAction;
use crate::math::margin::{compute_health, HealthReport, PositionRisk};
use crate::math::position::{funding_owed, side_index};
use crate::state::{MarginAccount, PerpPosition};

mod loader;
mod snapshot;
#[cfg(test)]
mod tests;

pub use snapshot::{MarketSnapshot, PriceCache, MAX_CACHED_MARKETS};

/// A position priced from its market snapshot, unsettled funding included.
pub fn position_risk(position: &PerpPosition, snapshot: &MarketSnapshot) -> Result<PositionRisk> {
    let index = side_index(position.base_amount, snapshot.cumulative_funding_long, snapshot.cumulative_funding_short);
    Ok(PositionRisk {
        base_amount: position.base_amount,
        quote_amount: position.quote_amount,
        unsettled_funding: funding_owed(position.base_amount, index, position.last_cumulative_funding)?,
        open_bids: position.open_bids,
        open_asks: position.open_asks,
        price: snapshot.price,
        stable_price: snapshot.stable_price,
        params: snapshot.params,
    })
}

/// Health of an account: every open position must have its market in the cache. Valid in every
/// market mode: liquidation and the waterfall value positions in a halted market at the same
/// accepted price (a breaker stops new risk, never de-risking); actions that add risk or move
/// money out call [`require_held_markets_allow`] as well.
pub fn account_health(account: &MarginAccount, cache: &PriceCache) -> Result<HealthReport> {
    let mut priced = [PositionRisk::default(); MAX_POSITIONS];
    let mut count = 0usize;
    for position in account.active_positions() {
        let snapshot = cache.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        priced[count] = position_risk(position, snapshot)?;
        count += 1;
    }
    Ok(compute_health(account.collateral, &priced[..count])?)
}

/// Every market the account holds must allow `action` (`MarketAction::MarginCheck` for a
/// withdrawal, or new risk valued on those markets' prices): a halted market's price backs nothing.
pub fn require_held_markets_allow(account: &MarginAccount, cache: &PriceCache, action: MarketAction) -> Result<()> {
    for position in account.active_positions() {
        let snapshot = cache.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        snapshot.mode.require_allows(action)?;
    }
    Ok(())
}
