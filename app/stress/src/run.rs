//! One scenario × preset: boot the chain, build the population, replay the path with the keeper,
//! check conservation after every step, summarise.
use std::time::Instant;

use margin_engine::math::breaker::MarketMode;
use margin_engine_keeper::config::{MarketOracle, Modes};
use margin_engine_keeper::{Keeper, KeeperConfig};
use margin_engine_sdk::analytics::conservation_gap;
use margin_engine_sdk::pda;
use margin_engine_sdk::scenario::to_price_1e6;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;
use serde::Serialize;
use solana_sdk::signature::Keypair;

use crate::population;
use crate::presets::Preset;
use crate::Scenario;

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub accounts: usize,
    pub seed: u64,
    pub step_seconds: u64,
    /// The keeper acts every this many steps (latency).
    pub keeper_every_steps: u64,
    /// Keeper capital as a share of all trader collateral.
    pub keeper_capital_share: f64,
    /// Keep one sample for the charts every this many steps.
    pub sample_every_steps: usize,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            accounts: 1_000,
            seed: 1,
            step_seconds: 10,
            keeper_every_steps: 1,
            keeper_capital_share: 0.5,
            sample_every_steps: 10,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Sample {
    pub hours: f64,
    pub price: f64,
    pub insurance_fund: f64,
    pub liquidations: u64,
    pub multiplier: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub traders: usize,
    pub liquidations_partial: u64,
    pub liquidations_full: u64,
    pub accounts_wiped_out: usize,
    /// Negative equity the waterfall absorbed: insurance-covered deficits + ADL-absorbed loss +
    /// socialised loss (USD).
    pub bad_debt: f64,
    pub insurance_fund_start: f64,
    pub insurance_fund_end: f64,
    /// Largest fall of the fund from a running peak (USD).
    pub insurance_drawdown: f64,
    /// Everything the fund paid out: deficits, liquidators' closing fees, keeper bounties.
    pub insurance_paid: f64,
    pub adl_notional: f64,
    pub adl_loss: f64,
    pub socialized_loss: f64,
    pub breaker_trips: u64,
    pub hours_reduce_only: f64,
    pub hours_halted: f64,
    pub peak_multiplier: f64,
    pub transactions: u64,
    pub steps: usize,
    pub conservation_checks: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub scenario: String,
    pub preset: Preset,
    pub summary: Summary,
    pub wall_seconds: f64,
    pub transactions_per_second: f64,
    pub samples: Vec<Sample>,
}

const SLOT_MS: u64 = 400;

pub fn run(scenario: &Scenario, preset: Preset, cfg: &RunConfig, mut progress: impl FnMut(usize, usize)) -> RunResult {
    let started = Instant::now();
    let mut env = TestEnv::new(NativeBackend::new());
    let risk = margin_engine::state::RiskParams {
        tick_size: 1,
        step_size: BASE as u64 / 100,
        min_order_size: BASE as u64 / 100,
        ..preset.risk()
    };
    let p0 = to_price_1e6(scenario.path[0].1);
    env.add_market("PERP", p0 as i64, risk);
    let specs = population::traders(cfg.seed, cfg.accounts);
    let pop = population::build(&mut env, &specs, p0, risk.step_size, risk.tick_size);
    let stake = (pop.total_trader_collateral as f64 * preset.insurance_stake_share()) as u64;
    if stake > 0 {
        let staker = env.new_trader(stake);
        env.stake(&staker, stake).unwrap();
    }
    let keeper_capital = ((pop.total_trader_collateral as f64 * cfg.keeper_capital_share) as u64).max(10_000 * USDC);
    let keeper_trader = env.new_trader(keeper_capital);
    env.deposit(&keeper_trader, keeper_capital).unwrap();
    let config = KeeperConfig {
        markets: vec![MarketOracle { index: 0, pyth: env.markets[0].pyth.to_string() }],
        modes: Modes { liquidator: true, waterfall: true, filler: false, cranks: true },
        ..KeeperConfig::default()
    };
    let signer = Keypair::try_from(&keeper_trader.keypair.0[..]).expect("keypair");
    let mut keeper = Keeper::new(env, config, signer);

    let slots_per_step = (cfg.step_seconds * 1_000 / SLOT_MS).max(1);
    let mut summary = Summary { traders: pop.traders.len(), ..Summary::default() };
    let fund = |k: &mut Keeper<TestEnv<NativeBackend>>| k.chain.token_balance(pda::insurance_vault());
    let start_fund = fund(&mut keeper);
    summary.insurance_fund_start = start_fund as f64 / 1e6;
    let mut peak_fund = start_fund;
    let mut samples = vec![];
    let mut last_adl_base = 0u64;
    let mut peak_multiplier = 1_000_000u32;
    let steps = scenario.path.len() - 1;
    for (i, &(seconds, price)) in scenario.path.iter().enumerate().skip(1) {
        let p = to_price_1e6(price);
        keeper.chain.advance_slots(slots_per_step);
        keeper.chain.set_price(0, p as i64);
        if (i as u64) % cfg.keeper_every_steps == 0 {
            // Transport errors cannot happen in-process; program refusals are per account.
            let _ = keeper.tick();
        }
        // Conservation, from on-chain aggregates, after every step.
        let vault = keeper.chain.token_balance(pda::collateral_vault());
        let exchange = keeper.chain.exchange();
        let market = keeper.chain.market(0);
        let gap = conservation_gap(vault, &exchange, &[market]);
        assert_eq!(gap, 0, "{} / {}: conservation broken at step {i}", scenario.name, preset.name());
        summary.conservation_checks += 1;

        let f = fund(&mut keeper);
        peak_fund = peak_fund.max(f);
        summary.insurance_drawdown = summary.insurance_drawdown.max((peak_fund - f) as f64 / 1e6);
        if market.adl_base_total > last_adl_base {
            summary.adl_notional += (market.adl_base_total - last_adl_base) as f64 / 1e9 * price;
            last_adl_base = market.adl_base_total;
        }
        let step_hours = cfg.step_seconds as f64 / 3600.0;
        if market.breaker_mode() == MarketMode::Halted {
            summary.hours_halted += step_hours;
        } else if market.breaker_mode() != MarketMode::Normal {
            summary.hours_reduce_only += step_hours;
        }
        peak_multiplier = peak_multiplier.max(market.initial_multiplier);
        if i % cfg.sample_every_steps == 0 || i == steps {
            samples.push(Sample {
                hours: seconds as f64 / 3600.0,
                price,
                insurance_fund: f as f64 / 1e6,
                liquidations: keeper.metrics.liquidations_landed,
                multiplier: market.initial_multiplier as f64 / 1e6,
            });
            progress(i, steps);
        }
    }
    // Full scan once at the end: account by account, not just the aggregates.
    keeper.chain.assert_conservation();
    let final_price = to_price_1e6(scenario.path.last().unwrap().1);
    summary.accounts_wiped_out =
        pop.traders.iter().filter(|t| keeper.chain.health(t.margin_account, &[(0, final_price)]).equity() <= 0).count();
    let market = keeper.chain.market(0);
    let m = keeper.metrics;
    summary.liquidations_full = m.liquidations_full;
    summary.liquidations_partial = m.liquidations_landed - m.liquidations_full;
    summary.insurance_paid = market.insurance_paid_total as f64 / 1e6;
    summary.adl_loss = market.adl_loss_total as f64 / 1e6;
    summary.socialized_loss = market.socialized_loss_total as f64 / 1e6;
    summary.bad_debt = market.insurance_deficit_total as f64 / 1e6 + summary.adl_loss + summary.socialized_loss;
    summary.insurance_fund_end = fund(&mut keeper) as f64 / 1e6;
    summary.breaker_trips = market.breaker_trip_count;
    summary.peak_multiplier = peak_multiplier as f64 / 1e6;
    summary.transactions = m.transactions_sent;
    summary.steps = steps;
    let wall = started.elapsed().as_secs_f64();
    RunResult {
        scenario: scenario.name.clone(),
        preset,
        transactions_per_second: m.transactions_sent as f64 / wall,
        summary,
        wall_seconds: wall,
        samples,
    }
}
