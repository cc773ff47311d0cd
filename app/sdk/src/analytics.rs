//! Numbers traders and keepers want, computed with the program's own functions on decoded
//! accounts: oracle prices, health, liquidation price, liquidation preview, ADL score, tomorrow's
//! volatility margin.
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use margin_engine::controller::adl::{adl_price, candidate_score};
use margin_engine::controller::liquidation::{plan, LiquidationPlan};
use margin_engine::health::{account_health, MarketSnapshot, PriceCache};
use margin_engine::math::margin::HealthReport;
use margin_engine::math::volatility::{project, VolState};
use margin_engine::oracle::pyth::reading_from_update;
use margin_engine::oracle::OracleReading;
use margin_engine::state::{MarginAccount, Market};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

/// Decodes a Pyth `PriceUpdateV2` account and checks it against the market's feed, as the program
/// does (staleness and confidence are for the caller to judge with `oracle::validity`).
pub fn pyth_reading(market: &Market, data: &[u8]) -> Option<OracleReading> {
    let update = PriceUpdateV2::try_deserialize(&mut &data[..]).ok()?;
    reading_from_update(&market.oracle, &update).ok()
}

/// A price cache from (market, price) pairs: what the program would build for these prices
/// (refused, as the program refuses it, beyond `MAX_CACHED_MARKETS` markets).
pub fn price_cache<'a>(markets: impl IntoIterator<Item = (&'a Market, u64)>) -> anchor_lang::Result<PriceCache> {
    let mut cache = PriceCache::new();
    for (market, price) in markets {
        cache.insert(MarketSnapshot::at_hypothetical_price(market, price))?;
    }
    Ok(cache)
}

pub fn health(account: &MarginAccount, prices: &PriceCache) -> Option<HealthReport> {
    account_health(account, prices).ok()
}

/// The price of `market_index` at which the account's maintenance health reaches zero, all other
/// prices held: found by bisection on the program's health function. None if no such price exists
/// in (0, 1000 × current].
pub fn liquidation_price(account: &MarginAccount, prices: &PriceCache, market_index: u16) -> Option<u64> {
    let snapshot = *prices.get(market_index)?;
    let at = |p: u64| {
        let mut c = *prices;
        // Replaces the market's own entry, which exists: cannot run out of room.
        c.insert(MarketSnapshot { price: p, ..snapshot }).ok()?;
        account_health(account, &c).ok().map(|h| h.maintenance_health)
    };
    let now = at(snapshot.price)?;
    let position = account.active_positions().find(|p| p.market_index == market_index)?;
    if position.base_amount == 0 {
        return None;
    }
    let long = position.base_amount > 0;
    if now < 0 {
        return Some(snapshot.price);
    }
    // Long: health falls with price -> search below; short: above.
    let (mut safe, mut bad) =
        if long { (snapshot.price, 0u64) } else { (snapshot.price, snapshot.price.saturating_mul(1_000)) };
    if !long && at(bad)? >= 0 {
        return None;
    }
    while safe.abs_diff(bad) > 1 {
        let mid = safe / 2 + bad / 2;
        if at(mid.max(1))? >= 0 {
            safe = mid;
        } else {
            bad = mid;
        }
    }
    Some(if long { safe } else { bad })
}

/// What a `liquidate` call would do right now (same function the program runs).
pub fn liquidation_preview(
    target: &MarginAccount,
    market: &Market,
    prices: &PriceCache,
    slot: u64,
    max_base: u64,
) -> Option<LiquidationPlan> {
    plan(target, market, prices, slot, max_base).ok()
}

/// The ADL score `auto_deleverage` would give this account's position in `market_index` against
/// the bankrupt `target` (None when the program would refuse it as a candidate): the program's own
/// eligibility rule, `controller::adl::candidate_score`.
pub fn adl_candidate_score(
    account: &MarginAccount,
    target: &MarginAccount,
    market: &Market,
    prices: &PriceCache,
) -> Option<u64> {
    let market_index = market.market_index;
    let snapshot = prices.get(market_index)?;
    let target_base = target.active_positions().find(|p| p.market_index == market_index)?.base_amount;
    let equity = account_health(target, prices).ok()?.equity();
    let price = adl_price(snapshot.price, target_base, equity, market.risk.adl_price_band).ok()?;
    let position = account.active_positions().find(|p| p.market_index == market_index && p.base_amount != 0)?;
    candidate_score(position, account.collateral, snapshot, price, target_base, market.risk.adl_min_score).ok()
}

/// The candidates a keeper passes to `auto_deleverage` against the bankrupt `target` in `market`:
/// accounts the program accepts (`adl_candidate_score`), not bankrupt, highest score first, just
/// enough to cover the target's position and at most `batch`.
pub fn adl_candidates(
    target: &MarginAccount,
    accounts: &[(Pubkey, MarginAccount)],
    market: &Market,
    prices: &PriceCache,
    batch: usize,
) -> Vec<Pubkey> {
    let market_index = market.market_index;
    let Some(base) = target.active_positions().find(|p| p.market_index == market_index).map(|p| p.base_amount) else {
        return vec![];
    };
    let mut ranked: Vec<(u64, u64, Pubkey)> = accounts
        .iter()
        .filter(|(_, a)| !a.has_flag(margin_engine::state::margin_account_flags::BANKRUPT))
        .filter_map(|(k, a)| {
            let score = adl_candidate_score(a, target, market, prices)?;
            let size = a
                .active_positions()
                .find(|p| p.market_index == market_index && p.base_amount != 0)?
                .base_amount
                .unsigned_abs();
            Some((score, size, *k))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0));
    let mut needed = base.unsigned_abs();
    let mut out = vec![];
    for (_, size, key) in ranked {
        if needed == 0 || out.len() >= batch {
            break;
        }
        out.push(key);
        needed = needed.saturating_sub(size);
    }
    out
}

/// Conservation gap from aggregates alone: `vault − (Σ collateral + Σ position quote + Σ funding
/// pools + fee pool)`. Zero when every unit is accounted for; needs no scan of margin accounts.
pub fn conservation_gap(
    collateral_vault_balance: u64,
    exchange: &margin_engine::state::Exchange,
    markets: &[Market],
) -> i128 {
    let owed = exchange.total_collateral as i128
        + exchange.fee_pool as i128
        + markets.iter().map(|m| m.total_position_quote as i128 + m.funding_pool as i128).sum::<i128>();
    collateral_vault_balance as i128 - owed
}

/// Volatility multipliers `slots` from now if nothing new happens (tomorrow's margin).
pub fn projected_volatility(market: &Market, slots: u64) -> VolState {
    project(&market.vol_state(), &market.risk.vol_params(), slots)
}

/// Insurance coverage under a uniform shock: every market moved by `shock_ppm` against the
/// book, down and then up, with no liquidation in between (the gap a keeper cannot close).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StressCoverage {
    /// Σ over accounts of the equity below zero after the worse of the two shocks (native units):
    /// the bad debt such a gap leaves for the waterfall.
    pub shortfall: u128,
    /// Insurance fund / shortfall; infinite when nothing would go short.
    pub coverage: f64,
}

/// What governance watches to size the insurance fund: the loss a `shock_ppm` gap in every
/// market would leave, and how many times the fund covers it. Uses the program's health math on
/// decoded accounts; `markets` with their current prices.
pub fn stress_coverage(
    accounts: &[MarginAccount],
    markets: &[(&Market, u64)],
    insurance_fund: u64,
    shock_ppm: u32,
) -> anchor_lang::Result<StressCoverage> {
    let shocked = |up: bool| {
        price_cache(markets.iter().map(|&(m, p)| {
            let moved = p as u128 * shock_ppm as u128 / 1_000_000;
            (m, if up { p.saturating_add(moved as u64) } else { p.saturating_sub(moved as u64).max(1) })
        }))
    };
    let (down, up) = (shocked(false)?, shocked(true)?);
    let mut shortfall = 0u128;
    for account in accounts {
        let worst = [&down, &up]
            .iter()
            .filter_map(|prices| account_health(account, prices).ok())
            .map(|h| h.equity().min(0).unsigned_abs())
            .max()
            .unwrap_or(0);
        shortfall += worst;
    }
    let coverage = if shortfall == 0 { f64::INFINITY } else { insurance_fund as f64 / shortfall as f64 };
    Ok(StressCoverage { shortfall, coverage })
}
