//! The keeper alone, against the in-process bank running the real program, liquidates and resolves
//! a crash end to end: the test only moves the oracle and the clock.
mod common;

use margin_engine::state::margin_account_flags::BANKRUPT;
use margin_engine_keeper::config::{MarketOracle, Modes};
use margin_engine_keeper::{Keeper, KeeperConfig};
use margin_engine_sdk::pda;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;
use solana_sdk::signature::Keypair;

#[test]
fn the_keeper_unwinds_a_crash_without_help() {
    let common::Crash { env, longs, keeper_trader } = common::six_levered_longs();
    let modes = Modes { liquidator: true, waterfall: true, filler: true, cranks: true, triggers: false };
    let mut keeper = keeper_of(env, &keeper_trader, modes);
    keeper.ensure_account().unwrap();
    assert_eq!(keeper.account, keeper_trader.margin_account);
    let fund_before = keeper.chain.token_balance(pda::insurance_vault());

    // The crash: −2% a slot down to $76, then flat. The keeper ticks once a slot.
    let mut price = 100_000_000u64;
    for tick in 0..120 {
        if price > 76_000_000 {
            price -= 2_000_000;
        }
        keeper.chain.advance_slots(1);
        keeper.chain.set_price(0, price as i64);
        keeper.tick().unwrap();
        keeper.chain.assert_conservation();
        if tick > 20 && common::nothing_left(&mut keeper.chain, &longs, price) {
            break;
        }
    }
    assert!(common::nothing_left(&mut keeper.chain, &longs, price), "every under-water account was unwound");
    let m = keeper.metrics;
    let fund_after = keeper.chain.token_balance(pda::insurance_vault());
    println!(
        "keeper: ticks {} liquidations landed {} (sent {}, refused {}), bankruptcies resolved {}, ADL batches {}, \
         losses socialised {}, keeper profit ${:.2}; insurance fund ${:.2} -> ${:.2}",
        m.ticks,
        m.liquidations_landed,
        m.liquidations_sent,
        m.liquidations_failed,
        m.bankruptcies_resolved,
        m.adl_batches,
        m.losses_socialized,
        m.profit as f64 / 1e6,
        fund_before as f64 / 1e6,
        fund_after as f64 / 1e6
    );
    assert!(m.liquidations_landed >= 6, "partial liquidations happened");
    assert!(m.bankruptcies_resolved >= 1, "the fund paid for the gap");
    assert!(m.profit > 0, "liquidating paid the keeper");
}

/// A keeper signing as `trader` on the test's one market, in `modes`.
fn keeper_of(env: TestEnv<NativeBackend>, trader: &Trader, modes: Modes) -> Keeper<TestEnv<NativeBackend>> {
    let config = KeeperConfig {
        markets: vec![MarketOracle { index: 0, pyth: env.markets[0].pyth.to_string() }],
        modes,
        ..KeeperConfig::default()
    };
    let signer = Keypair::try_from(&trader.keypair.0[..]).unwrap();
    Keeper::new(env, config, signer)
}

#[test]
fn a_competitor_getting_there_first_is_not_an_error() {
    let mut env = TestEnv::new(NativeBackend::new());
    env.add_market("SOL-PERP", 100_000_000, default_risk());
    let filler = env.new_trader(0);
    let target = env.new_trader(100_000 * USDC);
    let short = env.new_trader(1_000_000 * USDC);
    let rival = env.new_trader(1_000_000 * USDC);
    let keeper_trader = env.new_trader(1_000_000 * USDC);
    env.deposit(&target, 1_100 * USDC).unwrap();
    env.deposit(&short, 20_000 * USDC).unwrap();
    env.deposit(&rival, 50_000 * USDC).unwrap();
    env.deposit(&keeper_trader, 50_000 * USDC).unwrap();
    env.trade(&filler, &target, &short, 0, BID, 100_000_000, 100 * BASE as u64).unwrap();
    env.advance_slots(1);
    env.set_price(0, 93_000_000);
    // A rival liquidates first in this slot; the keeper's tick sees the account throttled.
    env.liquidate(&rival, &target, 0, u64::MAX).unwrap();
    let mut keeper = keeper_of(env, &keeper_trader, KeeperConfig::default().modes);
    keeper.tick().unwrap();
    assert_eq!(keeper.metrics.liquidations_landed, 0, "nothing to do in the rival's slot");
    // Next slot the keeper takes its turn.
    keeper.chain.advance_slots(1);
    keeper.chain.set_price(0, 93_000_000);
    keeper.tick().unwrap();
    assert_eq!(keeper.metrics.liquidations_landed, 1);
    keeper.chain.assert_conservation();
}

/// A gap takes a long below zero. In one tick the keeper marks it bankrupt, has the fund pay, and
/// steps the liquidation: the position no longer rides the next move on the fund's money (with
/// one action per tick it floated, paid for, until the tick after).
#[test]
fn a_gap_bankruptcy_is_marked_resolved_and_stepped_in_one_tick() {
    let mut env = TestEnv::new(NativeBackend::new());
    env.add_market("SOL-PERP", 100_000_000, default_risk());
    let filler = env.new_trader(0);
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 10_000 * USDC).unwrap();
    let long = env.new_trader(100_000 * USDC);
    let short = env.new_trader(1_000_000 * USDC);
    let keeper_trader = env.new_trader(1_000_000 * USDC);
    env.deposit(&long, 1_100 * USDC).unwrap();
    env.deposit(&short, 20_000 * USDC).unwrap();
    env.deposit(&keeper_trader, 100_000 * USDC).unwrap();
    env.trade(&filler, &long, &short, 0, BID, 100_000_000, 100 * BASE as u64).unwrap();
    env.advance_slots(1);
    // $100 -> $87 on 100 SOL: equity $1,100 - $1,300 = -$200.
    env.set_price(0, 87_000_000);
    let modes = Modes { liquidator: true, waterfall: true, filler: false, cranks: false, triggers: false };
    let mut keeper = keeper_of(env, &keeper_trader, modes);
    let fund_before = keeper.chain.token_balance(pda::insurance_vault());
    keeper.tick().unwrap();
    let m = keeper.metrics;
    assert_eq!((m.bankruptcies_resolved, m.liquidations_landed), (1, 1), "{m:?}");
    let account = keeper.chain.margin_account(long.margin_account);
    assert_eq!(account.flags & BANKRUPT, 0, "the fund paid the deficit in full");
    let base = account.active_positions().map(|p| p.base_amount).sum::<i64>();
    assert!(base < 100 * BASE, "the position was stepped in the same tick: {base}");
    assert!(fund_before - keeper.chain.token_balance(pda::insurance_vault()) >= 200 * USDC, "the fund paid the gap");
    keeper.chain.assert_conservation();
}

#[test]
fn the_keeper_fires_a_stop_the_oracle_reached_and_fills_it_in_the_same_transaction() {
    let mut env = TestEnv::new(NativeBackend::new());
    env.add_market("SOL-PERP", 100_000_000, default_risk());
    let filler = env.new_trader(0);
    let (trader, counterparty, bidder) =
        (env.new_trader(10_000 * USDC), env.new_trader(100_000 * USDC), env.new_trader(100_000 * USDC));
    env.deposit(&trader, 1_000 * USDC).unwrap();
    env.deposit(&counterparty, 20_000 * USDC).unwrap();
    env.deposit(&bidder, 20_000 * USDC).unwrap();
    env.trade(&filler, &trader, &counterparty, 0, BID, 100_000_000, 50 * BASE as u64).unwrap();
    // A stop-market sell of the whole long at $95 (worst price $90), and a resting bid at $94.
    let stop = margin_engine_sdk::orders::stop_market(0, ASK, 95_000_000, 90_000_000, 50 * BASE as u64);
    env.place(&trader, stop).unwrap();
    env.place_order(&bidder, 0, BID, 94_000_000, 50 * BASE as u64, OrderOpts::default()).unwrap();
    let keeper_trader = env.new_trader(0);
    let modes = Modes { liquidator: false, waterfall: false, filler: false, cranks: false, triggers: true };
    let mut keeper = keeper_of(env, &keeper_trader, modes);
    keeper.ensure_account().unwrap();

    // At $96 nothing fires; at $94.50 the stop fires and fills against the $94 bid in one call.
    keeper.chain.advance_slots(1);
    keeper.chain.set_price(0, 96_000_000);
    keeper.tick().unwrap();
    assert_eq!((keeper.metrics.triggers, keeper.metrics.transactions_sent), (0, 0));
    keeper.chain.advance_slots(1);
    keeper.chain.set_price(0, 94_500_000);
    keeper.tick().unwrap();
    assert_eq!((keeper.metrics.triggers, keeper.metrics.fills, keeper.metrics.transactions_sent), (1, 1, 1));
    let account = keeper.chain.margin_account(trader.margin_account);
    assert!(account.active_positions().next().is_none(), "the stop closed the long");
    assert!(account.orders.iter().all(|o| o.is_empty()));
    // The trigger fee, and the filler's tenth of the fees on $4,700 (0.10% + 0.02% = $5.64).
    assert_eq!(
        keeper.chain.margin_account(keeper.account).collateral,
        margin_engine::constants::TRIGGER_KEEPER_FEE as i64 + 564_000
    );
    keeper.chain.assert_conservation();
}
