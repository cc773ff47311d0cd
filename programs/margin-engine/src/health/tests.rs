//! Health plumbing without a runtime: snapshots, the mode check, and the stable price in initial
//! health, on zeroed (Pod) accounts.
use super::*;
use crate::math::breaker::{MarketAction, MarketMode};
use crate::oracle::{AcceptedPrice, OracleSource, OracleValidity};
use crate::state::{market_status, MarginAccount, Market, PerpPosition};

const B: i64 = 1_000_000_000;

fn market(index: u16) -> Market {
    let mut m: Market = bytemuck::Zeroable::zeroed();
    m.market_index = index;
    m.risk.initial_margin_ratio = 100_000;
    m.risk.maintenance_margin_ratio = 50_000;
    m.risk.breaker_soft_band = 150_000;
    m.risk.breaker_hard_band = 400_000;
    m.risk.breaker_window_slots = 100;
    m.risk.oracle_divergence_limit = 200_000;
    m.initial_multiplier = 1_000_000;
    m.maintenance_multiplier = 1_000_000;
    m.breaker_reference_price = 100_000_000;
    m.breaker_last_price = 100_000_000;
    m.breaker_window_start_slot = 10;
    m.stable_price = 100_000_000;
    m.stable_price_slot = 10;
    m.last_oracle_slot = 10;
    m
}

fn accepted(price: u64, validity: OracleValidity) -> AcceptedPrice {
    AcceptedPrice {
        price,
        confidence: 0,
        publish_slot: 10,
        publish_time: 10,
        ema_price: price,
        validity,
        source: OracleSource::Pyth,
    }
}

fn long(market_index: u16, base: i64, entry: u64) -> MarginAccount {
    let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
    a.collateral = 1_000_000_000;
    a.positions[0] = PerpPosition {
        market_index,
        base_amount: base,
        quote_amount: -((base as i128 * entry as i128 / B as i128) as i64),
        ..PerpPosition::default()
    };
    a
}

#[test]
fn snapshots_say_how_they_were_made() {
    let m = market(0);
    // A valid accepted price moves the stable price (at most 1% per observation); a stale one
    // does not; a hypothetical one reads the stored value.
    let fresh = MarketSnapshot::at_accepted_price(&m, &accepted(150_000_000, OracleValidity::Valid), 1_000);
    assert_eq!(fresh.stable_price, 101_000_000);
    let stale = MarketSnapshot::at_accepted_price(&m, &accepted(150_000_000, OracleValidity::StaleForMargin), 1_000);
    assert_eq!(stale.stable_price, 100_000_000);
    assert_eq!(MarketSnapshot::at_hypothetical_price(&m, 150_000_000).stable_price, 100_000_000);
    // Both modes come from `Market::mode`: +50% against the reference implies HALTED.
    assert_eq!(fresh.mode, MarketMode::Halted);
    assert_eq!(MarketSnapshot::at_hypothetical_price(&m, 150_000_000).mode, MarketMode::Halted);
    assert_eq!(MarketSnapshot::at_hypothetical_price(&m, 120_000_000).mode, MarketMode::ReduceOnly);
    assert_eq!(MarketSnapshot::at_hypothetical_price(&m, 101_000_000).mode, MarketMode::Normal);
    // The guardian's flag is part of the one mode.
    let mut flagged = market(0);
    flagged.status = market_status::GUARDIAN_REDUCE_ONLY;
    assert_eq!(MarketSnapshot::at_hypothetical_price(&flagged, 101_000_000).mode, MarketMode::ReduceOnly);
}

#[test]
fn a_halted_market_blocks_margin_checks_but_not_health() {
    let mut cache = PriceCache::new();
    cache.insert(MarketSnapshot::at_hypothetical_price(&market(0), 150_000_000)).unwrap();
    let account = long(0, 10 * B, 100_000_000);
    assert!(account_health(&account, &cache).is_ok(), "liquidation still prices it");
    assert_eq!(
        require_held_markets_allow(&account, &cache, MarketAction::MarginCheck),
        Err(crate::error::ErrorCode::MarketHalted.into())
    );
    assert!(require_held_markets_allow(&account, &cache, MarketAction::DeRisk).is_ok());
    // A market the account does not hold never blocks it.
    let elsewhere = long(1, 10 * B, 100_000_000);
    let mut both = cache;
    both.insert(MarketSnapshot::at_hypothetical_price(&market(1), 100_000_000)).unwrap();
    assert!(require_held_markets_allow(&elsewhere, &both, MarketAction::MarginCheck).is_ok());
}

#[test]
fn initial_health_counts_a_gain_at_the_stable_price_and_a_loss_at_once() {
    let account = long(0, 10 * B, 100_000_000);
    let mut up = PriceCache::new();
    up.insert(MarketSnapshot::at_hypothetical_price(&market(0), 110_000_000)).unwrap();
    let h = account_health(&account, &up).unwrap();
    // Maintenance sees +$100 at $110; initial sees $0 of it (stable still $100) and the $110
    // requirement.
    assert_eq!(h.maintenance_health, 1_000_000_000 + 100_000_000 - 55_000_000);
    assert_eq!(h.initial_health, 1_000_000_000 - 110_000_000);
    let mut down = PriceCache::new();
    down.insert(MarketSnapshot::at_hypothetical_price(&market(0), 90_000_000)).unwrap();
    let h = account_health(&account, &down).unwrap();
    assert_eq!(h.initial_health, 1_000_000_000 - 100_000_000 - 90_000_000);
}
