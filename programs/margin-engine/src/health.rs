//! Account plumbing around the health math. A `PriceCache` holds, per market, the accepted oracle
//! price, margin parameters and funding indexes, read once per instruction from the remaining
//! accounts (groups of market, Pyth update and, when configured, Switchboard feed) or from the
//! instruction's own market. `account_health` turns a margin account into plain `PositionRisk`s
//! and calls `math::margin::compute_health`. Markets an account does not hold are never needed, so
//! a stale oracle elsewhere cannot block it.
use anchor_lang::prelude::*;

use crate::constants::MAX_POSITIONS;
use crate::controller::market::{effective_mode, stable_price_at};
use crate::error::ErrorCode;
use crate::math::breaker::HALTED;
use crate::math::fixed::bytes32_eq;
use crate::math::margin::{compute_health, HealthReport, MarginParams, PositionRisk};
use crate::math::position::{funding_owed, side_index};
use crate::oracle::{self, AcceptedPrice, OracleAction};
use crate::state::{MarginAccount, Market, PerpPosition};

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
    /// `math::breaker` NORMAL / REDUCE_ONLY / HALTED for this price.
    pub mode: u8,
}

impl MarketSnapshot {
    /// Snapshot at a hypothetical price (previews): the stored stable price and stored modes.
    pub fn new(market: &Market, price: u64) -> Self {
        let stable = crate::math::stable_price::follow(
            market.stable_price,
            market.stable_price_slot,
            price,
            market.stable_price_slot,
        );
        Self::with_mode(market, price, stable, market.manual_mode(market.last_oracle_slot).max(market.breaker_status))
    }

    /// Snapshot at an accepted price, with the stable price and the mode that price implies now.
    pub fn at(market: &Market, price: &AcceptedPrice, slot: u64) -> Self {
        Self::with_mode(market, price.price, stable_price_at(market, price, slot), effective_mode(market, price, slot))
    }

    fn with_mode(market: &Market, price: u64, stable_price: u64, mode: u8) -> Self {
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

    /// Reads market groups from `remaining`. `exclude` is the instruction's own market, already
    /// borrowed mutably: passing it again is an error rather than a silent double borrow.
    pub fn load_remaining<'info>(
        &mut self,
        remaining: &'info [AccountInfo<'info>],
        clock: &Clock,
        action: OracleAction,
        exclude: Option<&Pubkey>,
    ) -> Result<()> {
        let mut cursor = 0usize;
        while cursor < remaining.len() {
            let market_info = &remaining[cursor];
            require!(
                exclude.is_none_or(|own| !bytes32_eq(market_info.key.as_ref(), &own.to_bytes())),
                ErrorCode::DuplicateMarketAccount
            );
            let market = load_market(market_info)?;
            let per_market = oracle::accounts_per_market(&market);
            let pyth = remaining.get(cursor + 1).ok_or(ErrorCode::MissingMarketAccounts)?;
            let switchboard = match per_market {
                3 => Some(remaining.get(cursor + 2).ok_or(ErrorCode::MissingMarketAccounts)?),
                _ => None,
            };
            let price = oracle::read_price(&market, pyth, switchboard, clock, action)?;
            self.insert(MarketSnapshot::at(&market, &price, clock.slot))?;
            cursor += per_market;
        }
        Ok(())
    }
}

/// `AccountLoader::<Market>::try_from(info)?.load()?`: the same checks in the same order with
/// the same errors (owner, discriminator present, discriminator), compared as 64-bit words. It
/// runs once per market in every health check.
fn load_market<'a>(info: &'a AccountInfo) -> Result<core::cell::Ref<'a, Market>> {
    use anchor_lang::error::ErrorCode as AnchorError;
    if !bytes32_eq(info.owner.as_ref(), &crate::ID.to_bytes()) {
        return Err(Error::from(AnchorError::AccountOwnedByWrongProgram).with_pubkeys((*info.owner, crate::ID)));
    }
    let data = info.try_borrow_data()?;
    let discriminator = <Market as anchor_lang::Discriminator>::DISCRIMINATOR;
    if data.len() < discriminator.len() {
        return Err(AnchorError::AccountDiscriminatorNotFound.into());
    }
    let word = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap());
    if word(&data[..8]) != word(discriminator) {
        return Err(AnchorError::AccountDiscriminatorMismatch.into());
    }
    let end = 8 + core::mem::size_of::<Market>();
    if data.len() < end {
        return Err(AnchorError::AccountDidNotDeserialize.into());
    }
    Ok(core::cell::Ref::map(data, |d| bytemuck::from_bytes(&d[8..end])))
}

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
/// money out call [`require_no_halted_exposure`] as well.
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

/// New risk and withdrawals may not lean on a halted market's price: refuses when the account
/// holds anything in a market the cache sees HALTED.
pub fn require_no_halted_exposure(account: &MarginAccount, cache: &PriceCache) -> Result<()> {
    for position in account.active_positions() {
        let snapshot = cache.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        require!(snapshot.mode != HALTED, ErrorCode::MarketHalted);
    }
    Ok(())
}
