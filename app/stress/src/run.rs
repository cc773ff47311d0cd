//! One scenario × preset × seed: boot the chain, build the markets, the population, the
//! liquidators and the attackers, replay the path with impact, check conservation after every
//! step, summarise.
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use margin_engine::health::account_health;
use margin_engine::math::breaker::MarketMode;
use margin_engine::math::margin::HealthReport;
use margin_engine::math::trading::trigger_fired;
use margin_engine::state::margin_account_flags::{BANKRUPT, BEING_LIQUIDATED};
use margin_engine::state::{order_kind, order_side, MarginAccount, Order, RiskParams};
use margin_engine_keeper::config::{MarketOracle, Modes};
use margin_engine_keeper::{Keeper, KeeperConfig, View};
use margin_engine_sdk::analytics::{conservation_gap, stress_coverage};
use margin_engine_sdk::scenario::SplitMix;
use margin_engine_sdk::{orders, pda};
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;
use serde::Serialize;
use solana_sdk::signature::Keypair;

use crate::agents::attackers::{attacker_collateral, AttackKind, AttackReport, Attacker, History};
use crate::agents::liquidators::{turn_order, Liquidator, LIQUIDATORS};
use crate::agents::traders::{
    decide, pick_market, Decision, Observation, PositionView, Profile, StopPolicy, SIGNAL_SECONDS, WARNING_RATIO,
};
use crate::model::impact::ImpactState;
use crate::model::markets::{exogenous_paths, MarketSpec, MARKETS};
use crate::presets::{Overrides, Preset};
use crate::world::{MarketModel, SharedChain, TradeRefusal, World};
use crate::Scenario;

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub accounts: usize,
    pub seed: u64,
    pub step_seconds: u64,
    /// Liquidators unload what they take over within this many seconds.
    pub unload_seconds: u64,
    /// The largest liquidator is down this long, starting at the steepest hour of the path.
    pub outage_minutes: u64,
    pub attackers: bool,
    /// Keep one sample for the charts every this many steps.
    pub sample_every_steps: usize,
    /// Applied to the full preset's parameters (calibration).
    pub full_overrides: Overrides,
    /// The stop-losses live traders keep (on-chain orders by default).
    pub stops: StopPolicy,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            accounts: 1_000,
            seed: 1,
            step_seconds: 10,
            unload_seconds: 300,
            outage_minutes: 30,
            attackers: true,
            sample_every_steps: 10,
            full_overrides: Overrides::default(),
            stops: StopPolicy::Orders,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Sample {
    pub hours: f64,
    pub exogenous: Vec<f64>,
    pub oracle: Vec<f64>,
    pub insurance_fund: f64,
    pub bad_debt: f64,
    pub wiped: usize,
    pub liquidations: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub traders: usize,
    pub liquidations: u64,
    /// Liquidations that took a whole position.
    pub liquidations_full: u64,
    pub accounts_wiped_out: usize,
    /// Insurance-covered deficits + ADL-absorbed loss + socialised loss (USD).
    pub bad_debt: f64,
    pub insurance_covered: f64,
    pub adl_loss: f64,
    pub socialized_loss: f64,
    /// Where bad debt comes from: the largest negative equity each account reached at a step's
    /// snapshot, summed by holder (USD). A deficit can shrink again before the waterfall reaches
    /// it, so these bound the bad debt from above rather than split it.
    pub deficit_traders: f64,
    pub deficit_attackers: f64,
    pub deficit_liquidators: f64,
    pub deficit_market_makers: f64,
    /// Traders' equity lost when liquidated: fees (equity drop at an unchanged price) plus the
    /// impact on the price they were liquidated at (liquidated size × the oracle's distance from
    /// the exogenous price, when against them). USD.
    pub trader_loss_to_liquidation: f64,
    pub liquidation_fees: f64,
    pub liquidation_impact_cost: f64,
    pub insurance_fund_start: f64,
    pub insurance_fund_end: f64,
    /// Largest fall of the fund from a running peak (USD).
    pub insurance_drawdown: f64,
    /// At the first step: the bad debt a 20% gap in every market would leave with no liquidation
    /// in between (SDK `stress_coverage`, USD), and the fund over it.
    pub stress_shortfall: f64,
    pub insurance_coverage: f64,
    pub adl_notional: f64,
    /// Notional forced through the depth (liquidator unloads, stop-outs), USD.
    pub forced_volume: f64,
    pub voluntary_volume: f64,
    /// Largest |impact| on any market's price, percent (all flow: traders, forced, attackers).
    pub peak_impact_percent: f64,
    /// Largest |impact| the forced flow alone caused on any market, percent.
    pub peak_forced_impact_percent: f64,
    /// Market-hours outside NORMAL (reduce-only or halted), summed over markets.
    pub breaker_hours: f64,
    pub hours_halted: f64,
    pub breaker_trips: u64,
    pub peak_multiplier: f64,
    /// Sum over attackers (each must be ≤ 0 on a sound engine).
    pub attacker_profit: f64,
    pub trader_trades: u64,
    pub trader_trades_refused: u64,
    /// Stop-losses executed: trades a trader's own stop decided, and stop orders filled.
    pub stop_outs: u64,
    /// Stop-market orders filled on chain (fired by the trigger keeper, through the depth).
    pub stop_orders_filled: u64,
    pub top_ups: u64,
    pub withdrawals: u64,
    pub transactions: u64,
    pub steps: usize,
    pub conservation_checks: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub scenario: String,
    pub preset: Preset,
    pub seed: u64,
    pub summary: Summary,
    pub attackers: Vec<AttackReport>,
    pub markets: Vec<MarketModel>,
    pub accounts: usize,
    pub wall_seconds: f64,
    pub transactions_per_second: f64,
    /// Share of the wall time spent inside the in-process chain (0..1).
    pub chain_share: f64,
    pub samples: Vec<Sample>,
}

const SLOT_MS: u64 = 400;
/// The gap the coverage figure is taken at: every market 20% against the book at once.
pub const STRESS_GAP_PPM: u32 = 200_000;

/// A trader agent: the account, habits, wallet and warning clock.
struct Agent {
    trader: Trader,
    profile: Profile,
    /// Index in the env's margin-account list (and so in every `View`).
    index: usize,
    wallet: u64,
    deposited: u64,
    warned_since: Option<u64>,
}

/// The preset's parameters for one of the harness markets.
pub fn market_risk(preset: Preset, spec: &MarketSpec, overrides: &Overrides) -> RiskParams {
    let mut risk = RiskParams {
        tick_size: 1,
        step_size: spec.step_size,
        min_order_size: spec.step_size,
        initial_margin_ratio: spec.initial_margin_ratio,
        maintenance_margin_ratio: spec.maintenance_margin_ratio,
        vol_reference_variance: spec.vol_reference_variance(),
        max_open_interest: 1_000_000_000 * BASE as u64,
        ..preset.risk()
    };
    if preset == Preset::Full {
        overrides.apply(&mut risk);
    }
    risk.size_premium_factor = usd_scaled_premium(risk.size_premium_factor, spec.start_price);
    risk
}

/// The shipped premium is set for SOL-PERP (the first market of the shipped file) at a price of
/// `PREMIUM_REFERENCE_PRICE`: a premium per √(whole units) of `factor` there. A market at price
/// `p` charges the same premium on the same notional with `factor × √(p / reference)`, so the
/// premium is one rule in dollars across markets of any price scale (Drift's IMF, per market).
pub fn usd_scaled_premium(factor: u32, price: f64) -> u32 {
    (factor as f64 * (price / PREMIUM_REFERENCE_PRICE).sqrt()).round() as u32
}

/// The SOL price the shipped size premium is calibrated at (USD).
pub const PREMIUM_REFERENCE_PRICE: f64 = 100.0;

/// Start of the steepest one-hour fall of the factor path (seconds): where keepers are most
/// needed, and where the outage is put. The same for every preset.
pub fn steepest_hour(path: &[(u64, f64)]) -> u64 {
    let mut best = (0.0, 0);
    let mut j = 0;
    for i in 0..path.len() {
        while j < path.len() && path[j].0 < path[i].0 + 3_600 {
            j += 1;
        }
        if j >= path.len() {
            break;
        }
        let r = (path[j].1 / path[i].1).ln();
        if r < best.0 {
            best = (r, path[i].0);
        }
    }
    best.1
}

fn position_view(acc: &MarginAccount, prices: &[u64]) -> [PositionView; 3] {
    let mut out = [PositionView::default(); 3];
    for p in acc.active_positions() {
        let m = p.market_index as usize;
        if m < 3 {
            let value = p.base_amount as f64 * prices[m] as f64 / 1e9;
            out[m] = PositionView { notional: value / 1e6, unrealized_pnl: (p.quote_amount as f64 + value) / 1e6 };
        }
    }
    out
}

pub fn run(scenario: &Scenario, preset: Preset, cfg: &RunConfig, mut progress: impl FnMut(usize, usize)) -> RunResult {
    let started = Instant::now();
    let exo = exogenous_paths(&scenario.path, &MARKETS, &scenario.betas, cfg.seed);
    // The production unstake cooldown (a day of slots), from the shipped configuration.
    let cooldown = crate::presets::shipped_config().exchange.insurance_unstake_cooldown_slots;
    let mut env = TestEnv::with_unstake_cooldown(NativeBackend::new(), cooldown);
    env.oracle_policy = Some(preset.oracle_policy());
    let mut models = vec![];
    for (i, spec) in MARKETS.iter().enumerate() {
        let risk = market_risk(preset, spec, &cfg.full_overrides);
        env.add_market(spec.name, margin_engine_sdk::scenario::to_price_1e6(exo[i][0]) as i64, risk);
        // No impact while the population opens its positions: the run starts from a calm book.
        let law = crate::model::impact::ImpactLaw { y: 0.0, permanent: 0.0, ..spec.impact_law(1.0) };
        models.push(MarketModel {
            spec: *spec,
            law,
            impact: ImpactState::default(),
            exogenous: exo[i][0],
            oracle: exo[i][0],
            peak_log_impact: 0.0,
            forced_impact: ImpactState::default(),
            peak_forced_log_impact: 0.0,
        });
    }
    let band = market_risk(preset, &MARKETS[0], &cfg.full_overrides).fill_price_band;
    let mut world = World::new(env, models, band);

    // Population.
    let mut rng = SplitMix(cfg.seed ^ 0xA5A5_5A5A);
    let collaterals: Vec<u64> = (0..cfg.accounts).map(|_| (500.0 * 40f64.powf(rng.uniform())) as u64 * USDC).collect();
    let total: u64 = collaterals.iter().sum();
    for _ in 0..4 {
        let lp = world.env.new_trader(u64::MAX / 8);
        // Deep enough that the providers are never the ones in trouble: they are the ADL candidates.
        world.env.deposit(&lp, (2 * total).max(1_000_000 * USDC)).unwrap();
        world.liquidity_providers.push(lp);
    }
    let mut agents = vec![];
    for &collateral in &collaterals {
        let reserve = (collateral as f64 * rng.uniform()) as u64;
        let trader = world.env.new_trader(collateral + reserve);
        world.env.deposit(&trader, collateral).unwrap();
        let index = world.env.margin_accounts.len() - 1;
        let profile = Profile::draw(&mut rng, cfg.stops);
        let long = rng.uniform() < 0.6;
        let markets: Vec<usize> = if rng.uniform() < 0.5 {
            vec![pick_market(&MARKETS, &mut rng)]
        } else {
            vec![0, pick_market(&MARKETS, &mut rng).max(1)]
        };
        let leverage = 1.5 * ((profile.leverage_max / 1.5).powf(rng.uniform()));
        for &m in &markets {
            let spec = &MARKETS[m];
            let lev = leverage.min(0.8 * 1e6 / spec.initial_margin_ratio as f64);
            let notional = collateral as f64 / 1e6 * lev / markets.len() as f64;
            let base = (notional / world.markets[m].oracle * 1e9) as u64;
            let base = base - base % spec.step_size;
            if base >= spec.step_size {
                let _ = world.depth_trade(&trader, m as u16, long, base, false, false);
            }
        }
        agents.push(Agent { trader, profile, index, wallet: reserve, deposited: collateral, warned_since: None });
    }
    // Depth from the open interest at start; the opening trades leave no impact and no volume.
    let mut open_interest_usd = vec![];
    for i in 0..world.markets.len() {
        let market = world.market(i as u16);
        let oi_usd = market.open_interest_long as f64 / 1e9 * world.markets[i].oracle;
        world.markets[i].law = world.markets[i].spec.impact_law(oi_usd);
        world.markets[i].impact = ImpactState::default();
        open_interest_usd.push(oi_usd);
    }
    let stake = (total as f64 * preset.insurance_stake_share()) as u64;
    if stake > 0 {
        let staker = world.env.new_trader(stake);
        world.env.stake(&staker, stake).unwrap();
    }
    let alt_oi = open_interest_usd[2];
    let mut attackers: Vec<Attacker> = if cfg.attackers {
        AttackKind::ALL
            .iter()
            .map(|&k| {
                let c = attacker_collateral(k, alt_oi, total as f64 / 1e6);
                Attacker::new(&mut world, k, &c)
            })
            .collect()
    } else {
        vec![]
    };

    // Liquidators, each the project's keeper on the shared chain.
    let outage_start = steepest_hour(&scenario.path);
    let config = KeeperConfig {
        markets: (0..3)
            .map(|i| MarketOracle { index: i, pyth: world.env.markets[i as usize].pyth.to_string() })
            .collect(),
        modes: Modes { liquidator: true, waterfall: true, filler: false, cranks: false, triggers: false },
        ..KeeperConfig::default()
    };
    let mut bots = vec![];
    for (n, spec) in LIQUIDATORS.iter().enumerate() {
        let capital = ((total as f64 * spec.capital_share) as u64).max(10_000 * USDC);
        let t = world.env.new_trader(capital);
        world.env.deposit(&t, capital).unwrap();
        bots.push((t, *spec, (n == 0).then_some((outage_start, outage_start + cfg.outage_minutes * 60))));
    }
    let shared = Rc::new(RefCell::new(world));
    let chain = SharedChain(shared.clone());
    let mut liquidators: Vec<Liquidator> = bots
        .into_iter()
        .map(|(trader, spec, outage)| {
            let signer = Keypair::try_from(&trader.keypair.0[..]).expect("keypair");
            Liquidator {
                keeper: Keeper::new(chain.clone(), config.clone(), signer),
                trader,
                spec,
                outage: outage.filter(|_| cfg.outage_minutes > 0),
                unload_seconds: cfg.unload_seconds,
                unloaded: vec![0; 3],
            }
        })
        .collect();
    let latencies: Vec<(f64, Option<(u64, u64)>)> =
        liquidators.iter().map(|l| (l.spec.mean_latency_seconds, l.outage)).collect();

    let slots_per_step = (cfg.step_seconds * 1_000 / SLOT_MS).max(1);
    let steps_per_hour = (3_600 / cfg.step_seconds).max(1) as usize;
    let signal_steps = (SIGNAL_SECONDS / cfg.step_seconds).max(1) as usize;
    let mut summary = Summary { traders: agents.len(), ..Summary::default() };
    let fund = |w: &mut World| w.env.token_balance(pda::insurance_vault());
    let start_fund = fund(&mut shared.borrow_mut());
    summary.insurance_fund_start = start_fund as f64 / 1e6;
    let mut peak_fund = start_fund;
    let mut samples = vec![];
    let mut last_adl_base = [0u64; 3];
    let mut peak_multiplier = 1_000_000u32;
    let mut history: Vec<(i64, u64, Vec<f64>)> = vec![];
    let mut rng = SplitMix(cfg.seed ^ 0x5EED);
    let holders: HashMap<Pubkey, Holder> = {
        let w = shared.borrow();
        let traders = agents.iter().map(|a| (a.trader.margin_account, Holder::Trader));
        let attacking = attackers.iter().flat_map(|a| a.accounts.iter().map(|t| (t.margin_account, Holder::Attacker)));
        let liquidating = liquidators.iter().map(|l| (l.trader.margin_account, Holder::Liquidator));
        let making = w.liquidity_providers.iter().map(|t| (t.margin_account, Holder::MarketMaker));
        traders.chain(attacking).chain(liquidating).chain(making).collect()
    };
    let mut largest_deficit: HashMap<Pubkey, f64> = HashMap::new();
    let steps = scenario.path.len() - 1;
    for i in 1..=steps {
        let seconds = scenario.path[i].0;
        let now: Vec<f64> = exo.iter().map(|p| p[i]).collect();
        {
            let mut w = shared.borrow_mut();
            w.env.advance_slots(slots_per_step);
            w.publish(cfg.step_seconds as f64, &now);
            let clock = margin_engine_sdk::chain::Chain::clock(&mut w.env).expect("clock");
            let oracles: Vec<f64> = w.markets.iter().map(|m| m.oracle).collect();
            history.push((clock.unix_timestamp, clock.slot, oracles));
        }
        let view = View::load(&mut chain.clone(), &config).expect("in-process view");
        let prices: Vec<u64> = (0..3).map(|m| shared.borrow().markets[m].price_1e6()).collect();
        let health: Vec<Option<HealthReport>> = {
            let mut h = vec![None; view.accounts.len()];
            for s in view.scored() {
                h[s.index] = Some(s.health);
            }
            h
        };

        for (index, h) in health.iter().enumerate() {
            if let Some(h) = h.filter(|h| h.equity() < 0) {
                let deficit = largest_deficit.entry(view.accounts[index].0).or_default();
                *deficit = deficit.max(-(h.equity() as f64) / 1e6);
            }
        }
        if i == 1 {
            let mut w = shared.borrow_mut();
            let markets: Vec<_> = (0..3).map(|m| w.market(m)).collect();
            let priced: Vec<_> = markets.iter().zip(&prices).map(|(m, &p)| (m, p)).collect();
            let accounts: Vec<MarginAccount> = view.accounts.iter().map(|(_, a)| *a).collect();
            let fund = w.env.token_balance(pda::insurance_vault());
            if let Ok(c) = stress_coverage(&accounts, &priced, fund, STRESS_GAP_PPM) {
                summary.stress_shortfall = c.shortfall as f64 / 1e6;
                summary.insurance_coverage = c.coverage.min(1e6);
            }
        }
        // Attackers move first: they watch for their moment.
        for a in attackers.iter_mut() {
            let h = History { steps: &history, steps_per_hour };
            a.act(&mut shared.borrow_mut(), &view, &h, i, seconds);
        }
        // Liquidators, fastest first, on the same snapshot.
        for (n, &l) in turn_order(&latencies, seconds, cfg.step_seconds, &mut rng).iter().enumerate() {
            liquidators[l].act(&view, n == 0, cfg.step_seconds);
        }
        for a in attackers.iter_mut() {
            a.sync_hedge(&mut shared.borrow_mut());
        }
        // What liquidation cost the traders this step.
        {
            let mut w = shared.borrow_mut();
            for agent in &agents {
                let (key, before) = view.accounts[agent.index];
                debug_assert_eq!(key, agent.trader.margin_account);
                let was_liquidatable =
                    before.has_flag(BEING_LIQUIDATED) || health[agent.index].is_some_and(|h| h.maintenance_health < 0);
                if !was_liquidatable {
                    continue;
                }
                let Some(after) = w.margin_account(&key) else { continue };
                let mut shrunk = false;
                for p in before.active_positions().filter(|p| p.base_amount != 0) {
                    let m = p.market_index as usize;
                    let now_base = after
                        .active_positions()
                        .find(|q| q.market_index == p.market_index)
                        .map_or(0, |q| q.base_amount);
                    let cut = (p.base_amount.unsigned_abs() as f64 - now_base.unsigned_abs() as f64).max(0.0) / 1e9;
                    if cut > 0.0 {
                        shrunk = true;
                        let adverse = p.base_amount.signum() as f64 * (w.markets[m].exogenous - w.markets[m].oracle);
                        summary.liquidation_impact_cost += cut * adverse.max(0.0);
                    }
                }
                if shrunk {
                    if let (Ok(b), Ok(a)) =
                        (account_health(&before, &view.prices), account_health(&after, &view.prices))
                    {
                        summary.liquidation_fees += ((b.equity() - a.equity()).max(0) as f64) / 1e6;
                    }
                }
            }
        }
        // Stop orders: the trigger keeper fires the stops the oracle reached and fills them through
        // the depth (after the liquidators of this step: it does not win every race).
        if cfg.stops == StopPolicy::Orders {
            let mut w = shared.borrow_mut();
            let slot = view.clock.slot;
            for agent in &agents {
                let key = agent.trader.margin_account;
                let Some(acc) = w.margin_account(&key).filter(|a| !a.has_flag(BANKRUPT)) else { continue };
                let due = acc.orders.iter().find(|o| {
                    !o.is_empty()
                        && o.is_reduce_only()
                        && o.kind == order_kind::MARKET
                        && if o.is_untriggered() {
                            trigger_fired(o.trigger, o.trigger_price, prices[o.market_index as usize])
                        } else {
                            !o.is_expired(slot)
                        }
                });
                if let Some(order) = due.copied() {
                    match w.execute_stop(key, &acc, &order) {
                        Ok(_) => {
                            summary.stop_orders_filled += 1;
                            summary.stop_outs += 1;
                        }
                        Err(TradeRefusal::Program(_)) => summary.trader_trades_refused += 1,
                        Err(TradeRefusal::TooSmall) => {}
                    }
                }
            }
        }
        // Traders. The signal is the same for all of them: each market's last half hour.
        let back = history.len().saturating_sub(signal_steps + 1);
        let recent_return: [f64; 3] =
            std::array::from_fn(|m| (history[history.len() - 1].2[m] / history[back].2[m]).ln());
        for agent in agents.iter_mut() {
            let (_, acc) = view.accounts[agent.index];
            let Some(h) = health[agent.index] else { continue };
            if acc.has_flag(BANKRUPT) {
                continue;
            }
            let equity = h.equity() as f64 / 1e6;
            let maintenance = h.maintenance_requirement as f64 / 1e6;
            if maintenance > 0.0 && equity < WARNING_RATIO * maintenance {
                agent.warned_since.get_or_insert(seconds);
            } else {
                agent.warned_since = None;
            }
            let obs = Observation {
                equity,
                maintenance_requirement: maintenance,
                initial_health: h.initial_health as f64 / 1e6,
                positions: position_view(&acc, &prices),
                recent_return,
                wallet: agent.wallet as f64 / 1e6,
                deposited: agent.deposited as f64 / 1e6,
                warned_for_seconds: agent.warned_since.map(|s| seconds - s),
            };
            let decision = decide(&agent.profile, &obs, &MARKETS, cfg.step_seconds, &mut rng);
            let mut w = shared.borrow_mut();
            if agent.profile.stop_orders && agent.profile.stop_loss.is_finite() {
                keep_stop_orders(&mut w, &agent.trader, agent.profile.stop_loss, &prices);
            }
            match decision {
                Decision::Hold => {}
                Decision::Trade { market, notional, reduce_only, stop_out } => {
                    let base = (notional.abs() / w.markets[market].oracle * 1e9) as u64;
                    let held = acc
                        .active_positions()
                        .find(|p| p.market_index as usize == market)
                        .map_or(0, |p| p.base_amount.unsigned_abs());
                    let base = if reduce_only { base.min(held) } else { base };
                    let step = MARKETS[market].step_size;
                    let base = if reduce_only && base == held { base } else { base - base % step };
                    if base == 0 {
                        continue;
                    }
                    // Stop-outs are forced flow; the rest is voluntary.
                    match w.depth_trade(&agent.trader, market as u16, notional > 0.0, base, reduce_only, stop_out) {
                        Ok(_) => {
                            summary.trader_trades += 1;
                            summary.stop_outs += u64::from(stop_out);
                        }
                        Err(TradeRefusal::Program(_)) => summary.trader_trades_refused += 1,
                        Err(TradeRefusal::TooSmall) => {}
                    }
                }
                Decision::TopUp(usd) => {
                    let amount = ((usd * 1e6) as u64).min(agent.wallet);
                    let call = margin_engine_sdk::instructions::deposit(
                        agent.trader.owner,
                        agent.trader.margin_account,
                        agent.trader.token_account,
                        amount,
                    );
                    if amount > 0 && w.send(vec![call], &[&agent.trader.keypair]).is_ok() {
                        agent.wallet -= amount;
                        agent.deposited += amount;
                        agent.warned_since = None;
                        summary.top_ups += 1;
                    }
                }
                Decision::Withdraw(usd) => {
                    let amount = (usd * 1e6) as u64;
                    let remaining = margin_engine_sdk::instructions::market_groups(&[&acc], None, w.env.oracles());
                    let call = margin_engine_sdk::instructions::withdraw(
                        agent.trader.owner,
                        agent.trader.margin_account,
                        agent.trader.token_account,
                        amount,
                        remaining,
                    );
                    if w.send(vec![call], &[&agent.trader.keypair]).is_ok() {
                        agent.wallet += amount;
                        agent.deposited = agent.deposited.saturating_sub(amount);
                        summary.withdrawals += 1;
                    }
                }
            }
        }

        // Conservation, from on-chain aggregates, after every step.
        let mut w = shared.borrow_mut();
        let vault = w.env.token_balance(pda::collateral_vault());
        let exchange = w.env.exchange();
        let markets: Vec<_> = (0..3).map(|m| w.market(m)).collect();
        let gap = conservation_gap(vault, &exchange, &markets);
        assert_eq!(
            gap,
            0,
            "{} / {} / seed {}: conservation broken at step {i}",
            scenario.name,
            preset.name(),
            cfg.seed
        );
        summary.conservation_checks += 1;

        let f = fund(&mut w);
        peak_fund = peak_fund.max(f);
        summary.insurance_drawdown = summary.insurance_drawdown.max((peak_fund - f) as f64 / 1e6);
        let step_hours = cfg.step_seconds as f64 / 3600.0;
        for (m, market) in markets.iter().enumerate() {
            if market.adl_base_total > last_adl_base[m] {
                summary.adl_notional += (market.adl_base_total - last_adl_base[m]) as f64 / 1e9 * w.markets[m].oracle;
                last_adl_base[m] = market.adl_base_total;
            }
            match market.breaker_mode() {
                MarketMode::Normal => {}
                MarketMode::Halted => {
                    summary.hours_halted += step_hours;
                    summary.breaker_hours += step_hours;
                }
                _ => summary.breaker_hours += step_hours,
            }
            peak_multiplier = peak_multiplier.max(market.initial_multiplier);
        }
        if i % cfg.sample_every_steps == 0 || i == steps {
            let bad_debt: f64 = markets.iter().map(bad_debt_of).sum();
            let wiped = agents.iter().filter(|a| health[a.index].is_some_and(|h| h.equity() <= 0)).count();
            samples.push(Sample {
                hours: seconds as f64 / 3600.0,
                exogenous: now.clone(),
                oracle: w.markets.iter().map(|m| m.oracle).collect(),
                insurance_fund: f as f64 / 1e6,
                bad_debt,
                wiped,
                liquidations: liquidators.iter().map(|l| l.keeper.metrics.liquidations_landed).sum(),
            });
            progress(i, steps);
        }
    }
    // Full scan once at the end: account by account, not just the aggregates.
    shared.borrow_mut().env.assert_conservation();
    let view = View::load(&mut chain.clone(), &config).expect("in-process view");
    summary.accounts_wiped_out = agents
        .iter()
        .filter(|a| account_health(&view.accounts[a.index].1, &view.prices).is_ok_and(|h| h.equity() <= 0))
        .count();
    let mut w = shared.borrow_mut();
    let attack_reports: Vec<AttackReport> = attackers.iter_mut().map(|a| a.finish(&mut w, &view.prices)).collect();
    summary.attacker_profit = attack_reports.iter().map(|r| r.profit).sum();
    let markets: Vec<_> = (0..3).map(|m| w.market(m)).collect();
    for m in &markets {
        summary.insurance_covered += m.insurance_deficit_total as f64 / 1e6;
        summary.adl_loss += m.adl_loss_total as f64 / 1e6;
        summary.socialized_loss += m.socialized_loss_total as f64 / 1e6;
        summary.breaker_trips += m.breaker_trip_count;
    }
    summary.bad_debt = markets.iter().map(bad_debt_of).sum();
    for (key, deficit) in &largest_deficit {
        match holders.get(key) {
            Some(Holder::Trader) => summary.deficit_traders += deficit,
            Some(Holder::Attacker) => summary.deficit_attackers += deficit,
            Some(Holder::Liquidator) => summary.deficit_liquidators += deficit,
            // The harness's other accounts (filler, fund staker) hold no positions: a deficit
            // there would show with the market makers rather than vanish.
            Some(Holder::MarketMaker) | None => summary.deficit_market_makers += deficit,
        }
    }
    summary.trader_loss_to_liquidation = summary.liquidation_fees + summary.liquidation_impact_cost;
    summary.insurance_fund_end = fund(&mut w) as f64 / 1e6;
    summary.peak_multiplier = peak_multiplier as f64 / 1e6;
    summary.forced_volume = w.markets.iter().map(|m| m.forced_usd()).sum();
    summary.voluntary_volume = w.markets.iter().map(|m| m.voluntary_usd()).sum();
    summary.peak_impact_percent = w.markets.iter().map(|m| m.peak_log_impact).fold(0.0, f64::max) * 100.0;
    summary.peak_forced_impact_percent = w.markets.iter().map(|m| m.peak_forced_log_impact).fold(0.0, f64::max) * 100.0;
    summary.liquidations = liquidators.iter().map(|l| l.keeper.metrics.liquidations_landed).sum();
    summary.liquidations_full = liquidators.iter().map(|l| l.keeper.metrics.liquidations_full).sum();
    summary.transactions = w.transactions;
    summary.steps = steps;
    let wall = started.elapsed().as_secs_f64();
    RunResult {
        scenario: scenario.name.clone(),
        preset,
        seed: cfg.seed,
        transactions_per_second: w.transactions as f64 / wall,
        chain_share: if wall > 0.0 { w.chain_seconds / wall } else { 0.0 },
        summary,
        attackers: attack_reports,
        markets: w.markets.clone(),
        accounts: w.env.margin_accounts.len(),
        wall_seconds: wall,
        samples,
    }
}

/// Who holds a margin account in a run.
#[derive(Clone, Copy)]
enum Holder {
    Trader,
    Attacker,
    Liquidator,
    MarketMaker,
}

fn bad_debt_of(m: &margin_engine::state::Market) -> f64 {
    (m.insurance_deficit_total + m.adl_loss_total + m.socialized_loss_total) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outage_starts_at_the_steepest_hour() {
        let mut path: Vec<(u64, f64)> = (0..=20).map(|i| (i * 600, 100.0)).collect();
        for (i, p) in path.iter_mut().enumerate().skip(10) {
            p.1 = if i < 16 { 100.0 - 5.0 * (i - 9) as f64 } else { 70.0 };
        }
        // The hour from 9 (600 s steps) to 15 falls most.
        assert_eq!(steepest_hour(&path), 9 * 600);
        assert_eq!(steepest_hour(&[(0, 1.0), (10, 1.0)]), 0);
    }

    #[test]
    fn the_size_premium_is_the_same_in_dollars_on_every_market() {
        use margin_engine::math::margin::size_premium;
        // $90,000 of SOL at $100, of BTC at $30,000 and of an alt at $1 (base in 1e-9).
        let sol = size_premium(900 * 1_000_000_000, usd_scaled_premium(2_000, 100.0)).unwrap();
        let btc = size_premium(3 * 1_000_000_000, usd_scaled_premium(2_000, 30_000.0)).unwrap();
        let alt = size_premium(90_000 * 1_000_000_000, usd_scaled_premium(2_000, 1.0)).unwrap();
        assert_eq!(sol, 60_001);
        assert!(btc.abs_diff(sol) <= 10 && alt.abs_diff(sol) <= 10, "{sol} {btc} {alt}");
    }
}

/// A stop-loss trader keeps one stop-market order per position, on the closing side, triggered at
/// `stop_loss` of the price it first saw the position at; stops left on the wrong side (the
/// position flipped) are cancelled. Reduce-only and sized at 4x the position, so it still closes
/// all of a position that grew.
fn keep_stop_orders(w: &mut World, trader: &Trader, stop_loss: f64, prices: &[u64]) {
    let Some(acc) = w.margin_account(&trader.margin_account) else { return };
    if acc.has_flag(BANKRUPT) {
        return;
    }
    let is_stop = |o: &Order| !o.is_empty() && o.is_reduce_only() && o.kind == order_kind::MARKET;
    for p in acc.active_positions().filter(|p| p.base_amount != 0) {
        let m = p.market_index;
        let close = if p.base_amount > 0 { order_side::ASK } else { order_side::BID };
        for o in acc.orders.iter().filter(|o| is_stop(o) && o.market_index == m && o.side != close) {
            let cancel = margin_engine_sdk::instructions::cancel_order(trader.owner, trader.margin_account, o.order_id);
            let _ = w.send(vec![cancel], &[&trader.keypair]);
        }
        if acc.orders.iter().any(|o| is_stop(o) && o.market_index == m && o.side == close) {
            continue;
        }
        let price = prices[m as usize] as f64;
        let tick = w.market(m).risk.tick_size;
        let step = MARKETS[m as usize].step_size;
        let down = close == order_side::ASK;
        let trigger = if down { price * (1.0 - stop_loss) } else { price * (1.0 + stop_loss) };
        // Worst price 10% past the trigger: the fill band bounds the execution anyway.
        let worst = if down { trigger * 0.9 } else { trigger * 1.1 };
        let worst = ((worst as u64) / tick).max(1) * tick;
        let size = p.base_amount.unsigned_abs().saturating_mul(4) / step * step;
        let stop = orders::stop_market(m, close, trigger as u64, worst, size);
        let groups = margin_engine_sdk::instructions::market_groups(&[&acc], Some(m), w.env.oracles());
        let place = margin_engine_sdk::instructions::place_order(
            trader.owner,
            trader.margin_account,
            w.env.oracles_of(m),
            stop,
            groups,
        );
        let _ = w.send(vec![place], &[&trader.keypair]);
    }
}
