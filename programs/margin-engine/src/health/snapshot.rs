//! What health needs of a market, per market: `MarketSnapshot` (price, stable price, margin
//! parameters, funding indexes, mode), and the per-instruction cache of them, `PriceCache`.
use anchor_lang::prelude::*;

use crate::constants::MAX_POSITIONS;
use crate::error::ErrorCode;
use crate::math::breaker::MarketMode;
use crate::math::margin::MarginParams;
use crate::oracle::{AcceptedPrice, OracleValidity};
use crate::state::Market;

/// Two accounts' worth of markets (a fill touches a taker and a maker).
pub const MAX_CACHED_MARKETS: usize = 2 * MAX_POSITIONS;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketSnapshot {
    pub market_index: u16,
    pub price: u64,
    /// Growth-limited price positive PnL counts at in initial health (`math::stable_price`).
    pub stable_price: u64,
    pub params: MarginParams,
    pub cumulative_funding_long: i64,
    pub cumulative_funding_short: i64,
    pub liquidation_fee: u32,
    pub last_bad_debt_slot: u64,
    /// The market's mode at this price (`Market::mode`).
    pub mode: MarketMode,
}

impl MarketSnapshot {
    /// Snapshot at a price an instruction accepted from the oracle at `slot`: the stable price it
    /// moves to and the mode it implies (its feed's EMA included).
    pub fn at_accepted_price(market: &Market, price: &AcceptedPrice, slot: u64) -> Self {
        let valid = price.validity == OracleValidity::Valid;
        Self::with(
            market,
            price.price,
            market.stable_price_at(price.price, valid, slot),
            market.mode(price.price, price.ema_price, slot),
        )
    }

    /// Snapshot at a hypothetical price (previews off-chain): the stored stable price, and the
    /// mode that price implies at the market's last oracle slot (no EMA known).
    pub fn at_hypothetical_price(market: &Market, price: u64) -> Self {
        let slot = market.last_oracle_slot;
        Self::with(market, price, market.stable_price_at(price, false, slot), market.mode(price, 0, slot))
    }

    fn with(market: &Market, price: u64, stable_price: u64, mode: MarketMode) -> Self {
        Self {
            market_index: market.market_index,
            price,
            stable_price,
            params: market.margin_params(),
            cumulative_funding_long: market.cumulative_funding_long,
            cumulative_funding_short: market.cumulative_funding_short,
            liquidation_fee: market.risk.liquidation_fee,
            last_bad_debt_slot: market.last_bad_debt_slot,
            mode,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PriceCache {
    entries: [MarketSnapshot; MAX_CACHED_MARKETS],
    len: usize,
}

impl PriceCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or refreshes) a market's snapshot.
    pub fn insert(&mut self, snapshot: MarketSnapshot) -> Result<()> {
        if let Some(existing) = self.entries[..self.len].iter_mut().find(|e| e.market_index == snapshot.market_index) {
            *existing = snapshot;
            return Ok(());
        }
        require!(self.len < MAX_CACHED_MARKETS, ErrorCode::TooManyMarketAccounts);
        self.entries[self.len] = snapshot;
        self.len += 1;
        Ok(())
    }

    /// Puts initial margin back at its base level, in place (a second cache would not fit the
    /// 4 KiB SBF stack frame): the volatility multiplier and the STRESSED add-on deter
    /// discretionary new risk, and must not choke the liquidators who take positions over exactly
    /// when volatility is high. Maintenance scaling is kept.
    pub fn make_liquidator_view(&mut self) {
        for e in self.entries[..self.len].iter_mut() {
            e.params.initial_multiplier = 0;
            e.params.initial_addon = 0;
        }
    }

    pub fn get(&self, market_index: u16) -> Option<&MarketSnapshot> {
        self.entries[..self.len].iter().find(|e| e.market_index == market_index)
    }
}
