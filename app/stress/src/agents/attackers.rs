//! Attackers as agents. Each runs one known exploit through the real program and reports its
//! profit, which a sound engine keeps at or below zero.
//!
//! Profit is measured as an attacker would: tokens in its wallets, plus the equity of each of its
//! margin accounts floored at zero (an account left with negative equity is walked away from), plus
//! an off-exchange hedge, minus everything it was given. The hedge takes the opposite of every
//! change in the attacker's positions at the market price published before it (the oracle: in this
//! model the impacted price is the market's price everywhere), so price moves cancel out and what
//! is left is what the attack took from the exchange, less its fees and the impact it paid.
use anchor_lang::prelude::Pubkey;
use margin_engine::health::{account_health, PriceCache};
use margin_engine::math::position::funding_owed;
use margin_engine::state::margin_account_flags::BANKRUPT;
use margin_engine::state::InsuranceStake;
use margin_engine_keeper::View;
use margin_engine_sdk::accounts::decode;
use margin_engine_sdk::instructions::{self as ix, MarketOracles};
use margin_engine_sdk::pda;
use margin_engine_sdk::scenario::to_price_1e6;
use margin_engine_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;

use crate::world::World;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum AttackKind {
    /// Posts genuine but old price updates (its own accounts) to liquidate a healthy account at
    /// a price the market has left, and to withdraw at an old, higher price.
    OracleReplay,
    /// Mango 2022: a long on the thin market, a second account pumps it through the depth, the
    /// first withdraws against the paper profit.
    PumpAndWithdraw,
    /// A failing long sells its position to a colluder far below the oracle before liquidation
    /// can reach it, moving its remaining equity out and leaving the deficit to the fund.
    DumpToColluder,
    /// Two accounts wash-trade minimum sizes at the top of the fill band to lift the mark, so a
    /// third account's short collects funding.
    WashFunding,
    /// Stakes insurance, asks to unstake at the first sign of a loss, and leaves once allowed;
    /// measured against a passive staker of the same size.
    InsuranceTiming,
}

impl AttackKind {
    pub const ALL: [AttackKind; 5] = [
        AttackKind::OracleReplay,
        AttackKind::PumpAndWithdraw,
        AttackKind::DumpToColluder,
        AttackKind::WashFunding,
        AttackKind::InsuranceTiming,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AttackKind::OracleReplay => "oracle replay",
            AttackKind::PumpAndWithdraw => "pump and withdraw (thin market)",
            AttackKind::DumpToColluder => "dump to a colluder",
            AttackKind::WashFunding => "dust wash fills for funding",
            AttackKind::InsuranceTiming => "insurance stake/unstake around a loss",
        }
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct AttackReport {
    pub kind: Option<AttackKind>,
    /// USD, see the module comment.
    pub profit: f64,
    /// Attack transactions sent, and how many the program refused.
    pub attempts: u64,
    pub refused: u64,
    /// Whether the attack's trigger condition ever came.
    pub triggered: bool,
}

/// What attackers see of the past: each step's unix time and oracle prices.
pub struct History<'a> {
    /// (unix time, slot, oracle price per market) of every step so far.
    pub steps: &'a [(i64, u64, Vec<f64>)],
    pub steps_per_hour: usize,
}

pub struct Attacker {
    pub kind: AttackKind,
    pub accounts: Vec<Trader>,
    /// Tokens given to each account's wallet (native units).
    minted_each: Vec<u64>,
    /// Accounts that copy the attack's position without attacking: their result is what the
    /// position earns anyway (natural funding, say), and is taken off the attack's.
    controls: usize,
    /// Off-exchange hedge per account: base per market and cash (USD).
    hedge_base: Vec<[f64; 3]>,
    hedge_cash: Vec<f64>,
    last_base: Vec<[i64; 3]>,
    /// Funding each account accrued (USD), from the markets' funding indexes between syncs.
    funding: Vec<f64>,
    /// The markets' (long, short) funding indexes at the last sync.
    funding_index: [(i64, i64); 3],
    /// The first account's positions right after opening (per market).
    opening_base: [i64; 3],
    pub report: AttackReport,
    phase: u32,
    phase_step: usize,
}

pub fn attacker_collateral(kind: AttackKind, alt_open_interest_usd: f64, trader_collateral_usd: f64) -> Vec<f64> {
    match kind {
        // The replayer and a control holding the same longs.
        AttackKind::OracleReplay => vec![50_000.0, 50_000.0],
        // A long worth a tenth of the thin market's open interest, a pumper with half of it.
        AttackKind::PumpAndWithdraw => vec![0.1 * alt_open_interest_usd, 0.5 * alt_open_interest_usd],
        AttackKind::DumpToColluder => vec![10_000.0, 10_000.0],
        // The wash pair, the short that collects, and a control short that does nothing.
        AttackKind::WashFunding => vec![5_000.0, 5_000.0, 20_000.0, 20_000.0],
        // The timer and a passive staker of the same size that never leaves.
        AttackKind::InsuranceTiming => vec![0.01 * trader_collateral_usd; 2],
    }
}

impl Attacker {
    /// Creates the attacker's accounts with `collateral` (USD) each, deposited (staked, for
    /// insurance timing), plus its opening positions.
    pub fn new(world: &mut World, kind: AttackKind, collateral: &[f64]) -> Self {
        let mut accounts = vec![];
        let mut minted_each = vec![];
        for &c in collateral {
            let amount = (c * 1e6) as u64;
            let t = world.env.new_trader(amount);
            minted_each.push(amount);
            if kind == AttackKind::InsuranceTiming {
                world.env.stake(&t, amount).expect("stake");
            } else {
                world.env.deposit(&t, amount).expect("deposit");
            }
            accounts.push(t);
        }
        let n = accounts.len();
        let mut a = Attacker {
            kind,
            accounts,
            minted_each,
            controls: usize::from(matches!(
                kind,
                AttackKind::WashFunding | AttackKind::OracleReplay | AttackKind::InsuranceTiming
            )),
            hedge_base: vec![[0.0; 3]; n],
            hedge_cash: vec![0.0; n],
            funding: vec![0.0; n],
            funding_index: [(0, 0); 3],
            last_base: vec![[0; 3]; n],
            opening_base: [0; 3],
            report: AttackReport { kind: Some(kind), ..AttackReport::default() },
            phase: 0,
            phase_step: 0,
        };
        a.open(world);
        a.opening_base = a.last_base[0];
        a
    }

    fn open(&mut self, world: &mut World) {
        match self.kind {
            AttackKind::OracleReplay => {
                // Longs worth its collateral, spread over the markets (not enough to be
                // liquidated): an old, higher price would value them above the market.
                for r in [self.accounts[0].clone(), self.accounts[1].clone()] {
                    for m in 0..3u16 {
                        let base = round_to_step(world, m, 50_000.0 / 3.0 / world.markets[m as usize].oracle);
                        open_at_oracle(world, &r, m, true, base);
                    }
                }
            }
            AttackKind::DumpToColluder => {
                // A long at 9x, B the matching short: together flat.
                let m = 1u16;
                let price = world.markets[1].price_1e6();
                let base = round_to_step(world, m, 90_000.0 / world.markets[1].oracle);
                let (a, b) = (self.accounts[0].clone(), self.accounts[1].clone());
                // As large as the program lets it open (the size premium may refuse 9x).
                largest_accepted(world, m, base, |w, base| w.direct_trade(&a, &b, m, true, price, base, false).is_ok());
            }
            AttackKind::WashFunding => {
                // The short that collects funding, on the thin market.
                let base = round_to_step(world, 2, 40_000.0 / world.markets[2].oracle);
                for c in [self.accounts[2].clone(), self.accounts[3].clone()] {
                    open_at_oracle(world, &c, 2, false, base);
                }
            }
            _ => {}
        }
        self.sync_hedge(world);
    }

    /// Hedges every change in the attacker's positions at the published market price. Called
    /// after each of its own moves and again after the liquidators' (`run`), so a position taken
    /// over in liquidation is hedged at the price it moved at, not the next step's.
    pub fn sync_hedge(&mut self, world: &mut World) {
        let prices: Vec<f64> = world.markets.iter().map(|m| m.oracle).collect();
        // Funding on what each account held since the last sync, at the program's own rule.
        for m in 0..3u16 {
            let market = world.market(m);
            let now = (market.cumulative_funding_long, market.cumulative_funding_short);
            let last = self.funding_index[m as usize];
            for (i, held) in self.last_base.iter().enumerate() {
                let base = held[m as usize];
                let (current, before) = if base >= 0 { (now.0, last.0) } else { (now.1, last.1) };
                if let Ok(owed) = funding_owed(base, current, before) {
                    self.funding[i] += owed as f64 / 1e6;
                }
            }
            self.funding_index[m as usize] = now;
        }
        for (i, t) in self.accounts.iter().enumerate() {
            let Some(acc) = world.margin_account(&t.margin_account) else { continue };
            let mut now = [0i64; 3];
            for p in acc.active_positions() {
                now[p.market_index as usize] = p.base_amount;
            }
            for m in 0..3 {
                let delta = (now[m] - self.last_base[i][m]) as f64 / 1e9;
                if delta != 0.0 {
                    self.hedge_base[i][m] -= delta;
                    self.hedge_cash[i] += delta * prices[m];
                }
            }
            self.last_base[i] = now;
        }
    }

    fn note(&mut self, result: bool) {
        self.report.attempts += 1;
        if !result {
            self.report.refused += 1;
        }
    }

    /// One step, before the liquidators act.
    pub fn act(&mut self, world: &mut World, view: &View, history: &History, step: usize, now_seconds: u64) {
        match self.kind {
            AttackKind::OracleReplay => self.replay(world, view, history, step),
            AttackKind::PumpAndWithdraw => self.pump(world, view, step, now_seconds),
            AttackKind::DumpToColluder => self.dump(world, view),
            AttackKind::WashFunding => self.wash(world),
            AttackKind::InsuranceTiming => self.insurance(world, view),
        }
        self.sync_hedge(world);
    }

    /// Every hour: for each market, the old update most against today's holders within the last
    /// six hours, if the price has moved away from it by 3% since.
    fn replay(&mut self, world: &mut World, view: &View, history: &History, step: usize) {
        if step % history.steps_per_hour.max(1) != 0 {
            return;
        }
        let Some(now_ts) = history.steps.last().map(|s| s.0) else { return };
        let window: Vec<&(i64, u64, Vec<f64>)> =
            history.steps.iter().filter(|(t, _, _)| now_ts - *t <= 6 * 3_600 && now_ts - *t >= 60).collect();
        if window.is_empty() {
            return;
        }
        let me = self.accounts[0].clone();
        for m in 0..3usize {
            let now_price = world.markets[m].oracle;
            let low = window.iter().min_by(|a, b| a.2[m].total_cmp(&b.2[m])).unwrap();
            let high = window.iter().max_by(|a, b| a.2[m].total_cmp(&b.2[m])).unwrap();
            // (a) Liquidate the weakest long at the old low.
            if now_price > 1.03 * low.2[m] {
                self.report.triggered = true;
                let victim = view.scored().iter().map(|s| view.accounts[s.index]).find(|(k, a)| {
                    *k != me.margin_account
                        && !a.has_flag(BANKRUPT)
                        && a.active_positions().any(|p| p.market_index as usize == m && p.base_amount > 0)
                });
                if let Some((victim, victim_account)) = victim {
                    let fake = old_update(world, m, low);
                    let own = world.margin_account(&me.margin_account).expect("attacker account");
                    let remaining = ix::market_groups(&[&victim_account, &own], Some(m as u16), world.env.oracles());
                    let call = ix::liquidate(
                        me.owner,
                        me.margin_account,
                        victim,
                        m as u16,
                        MarketOracles { pyth: fake, switchboard: None },
                        u64::MAX,
                        remaining,
                    );
                    let ok = world.send(vec![call], &[&me.keypair]).is_ok();
                    self.note(ok);
                    if ok {
                        // Unload what it took over (its own opening longs stay).
                        self.flatten_market(world, 0, m as u16);
                    }
                }
            }
            // (b) Withdraw everything, valued at the old high: only while it holds a long there for
            // the old price to value (without one the old update is never read, and withdrawing
            // free collateral is no attack, only a divergence from the control).
            let own = world.margin_account(&me.margin_account).expect("attacker account");
            let base = own.active_positions().find(|p| p.market_index as usize == m).map_or(0, |p| p.base_amount);
            if base > 0 && now_price < 0.97 * high.2[m] {
                self.report.triggered = true;
                let fake = old_update(world, m, high);
                let remaining = ix::market_groups(&[&own], None, |i| {
                    if i as usize == m {
                        MarketOracles { pyth: fake, switchboard: None }
                    } else {
                        world.env.oracles_of(i)
                    }
                });
                // What the current price allows, plus what the old price adds to its longs.
                let free = account_health(&own, &view.prices).map_or(0, |h| h.initial_health.max(0)) as f64;
                let extra = base as f64 * (high.2[m] - now_price) / 1e9 * 1e6;
                let amount = (free + extra) as u64;
                if amount > 0 {
                    let call = ix::withdraw(me.owner, me.margin_account, me.token_account, amount, remaining);
                    let ok = world.send(vec![call], &[&me.keypair]).is_ok();
                    self.note(ok);
                }
            }
        }
    }

    /// Brings account `i`'s position in `market` back to what it opened with (zero for all but
    /// the replay attacker), through the depth.
    fn flatten_market(&mut self, world: &mut World, i: usize, market: u16) {
        let t = self.accounts[i].clone();
        let Some(acc) = world.margin_account(&t.margin_account) else { return };
        let opened = self.opened_base(market);
        let held = acc.active_positions().find(|p| p.market_index == market).map_or(0, |p| p.base_amount);
        let excess = held - opened;
        if excess != 0 {
            let _ = world.depth_trade(&t, market, excess < 0, excess.unsigned_abs(), true, false);
        }
    }

    fn opened_base(&self, market: u16) -> i64 {
        self.opening_base.get(market as usize).copied().unwrap_or(0)
    }

    /// Unloads every position of account `i` through the depth.
    fn flatten(&mut self, world: &mut World, i: usize) {
        let t = self.accounts[i].clone();
        let Some(acc) = world.margin_account(&t.margin_account) else { return };
        for p in acc.active_positions().filter(|p| p.base_amount != 0) {
            let _ = world.depth_trade(&t, p.market_index, p.base_amount < 0, p.base_amount.unsigned_abs(), true, false);
        }
    }

    /// Two hours in: the long opens; the pumper buys for ten steps; the long tries to withdraw
    /// ever smaller amounts for ten steps; the pumper sells back.
    fn pump(&mut self, world: &mut World, view: &View, step: usize, now_seconds: u64) {
        let (long, pumper) = (self.accounts[0].clone(), self.accounts[1].clone());
        let alt = 2u16;
        match self.phase {
            0 if now_seconds >= 7_200 => {
                let equity = self.minted_each[0] as f64 / 1e6;
                let base = round_to_step(world, alt, 4.0 * equity / world.markets[2].oracle);
                let ok = world.depth_trade(&long, alt, true, base, false, false).is_ok();
                self.note(ok);
                self.report.triggered = true;
                self.phase = 1;
                self.phase_step = step;
            }
            1 => {
                let budget = self.minted_each[1] as f64 / 1e6 * 4.0;
                let base = round_to_step(world, alt, budget / 10.0 / world.markets[2].oracle);
                let ok = world.depth_trade(&pumper, alt, true, base, false, false).is_ok();
                self.note(ok);
                if step >= self.phase_step + 10 {
                    self.phase = 2;
                    self.phase_step = step;
                }
            }
            2 => {
                let acc = world.margin_account(&long.margin_account).expect("long account");
                if let Ok(h) = account_health(&acc, &view.prices) {
                    let mut amount = (h.equity().max(0) as u64).min(acc.collateral.max(0) as u64 * 4);
                    while amount >= 10 * 1_000_000 {
                        let remaining = ix::market_groups(&[&acc], None, world.env.oracles());
                        let call = ix::withdraw(long.owner, long.margin_account, long.token_account, amount, remaining);
                        let ok = world.send(vec![call], &[&long.keypair]).is_ok();
                        self.note(ok);
                        if ok {
                            break;
                        }
                        amount /= 2;
                    }
                }
                if step >= self.phase_step + 10 {
                    self.phase = 3;
                }
            }
            3 => {
                self.flatten(world, 1);
                self.flatten(world, 0);
            }
            _ => {}
        }
    }

    /// When the long falls below maintenance, it sells everything to the colluder at the bottom
    /// of the fill band.
    fn dump(&mut self, world: &mut World, view: &View) {
        let (a, b) = (self.accounts[0].clone(), self.accounts[1].clone());
        let Some((_, acc)) = view.accounts.iter().find(|(k, _)| *k == a.margin_account) else { return };
        if acc.has_flag(BANKRUPT) {
            return;
        }
        let Some(p) = acc.active_positions().find(|p| p.market_index == 1 && p.base_amount > 0) else { return };
        let Ok(h) = account_health(acc, &view.prices) else { return };
        if h.maintenance_health >= 0 {
            return;
        }
        self.report.triggered = true;
        let price = to_price_1e6(world.markets[1].oracle * (1.0 - 0.045));
        let ok = world.direct_trade(&a, &b, 1, false, price, p.base_amount as u64, true).is_ok();
        self.note(ok);
    }

    /// Every step: a minimum-size wash trade at the top of the band on the thin market.
    fn wash(&mut self, world: &mut World) {
        let (w1, w2) = (self.accounts[0].clone(), self.accounts[1].clone());
        self.report.triggered = true;
        let price = to_price_1e6(world.markets[2].oracle * 1.045);
        let step = world.markets[2].spec.step_size;
        let ok = world.direct_trade(&w1, &w2, 2, true, price, step, false).is_ok();
        self.note(ok);
        // And back, so the pair stays flat.
        let ok = world.direct_trade(&w1, &w2, 2, false, price, step, true).is_ok();
        self.note(ok);
    }

    /// At the first account with negative equity: request to unstake everything; unstake as soon
    /// as the program allows.
    fn insurance(&mut self, world: &mut World, view: &View) {
        let s = self.accounts[0].clone();
        let Some(stake) =
            world.account_data(&pda::insurance_stake(&s.owner)).and_then(|d| decode::<InsuranceStake>(&d).ok())
        else {
            return;
        };
        if stake.unstake_shares > 0 {
            let cooldown = world.env.exchange().insurance_unstake_cooldown_slots;
            if view.clock.slot < stake.unstake_request_slot + cooldown {
                return;
            }
            let ok = world.send(vec![ix::unstake_insurance(s.owner, s.token_account)], &[&s.keypair]).is_ok();
            self.note(ok);
            return;
        }
        if stake.shares == 0 {
            return;
        }
        let loss_coming = view.scored().first().is_some_and(|x| x.health.equity() < 0)
            || view.accounts.iter().any(|(_, a)| a.has_flag(BANKRUPT));
        if loss_coming {
            self.report.triggered = true;
            let ok = world.send(vec![ix::request_unstake(s.owner, stake.shares)], &[&s.keypair]).is_ok();
            self.note(ok);
        }
    }

    /// Final profit (USD) at the view's prices.
    pub fn finish(&mut self, world: &mut World, prices: &PriceCache) -> AttackReport {
        self.sync_hedge(world);
        let market_prices: Vec<f64> = world.markets.iter().map(|m| m.oracle).collect();
        let mut per_account = vec![];
        for (i, t) in self.accounts.iter().enumerate() {
            let mut wealth = world.env.token_balance(t.token_account) as f64 / 1e6;
            wealth += stake_value(world, t) / 1e6;
            if let Some(acc) = world.margin_account(&t.margin_account) {
                if let Ok(h) = account_health(&acc, prices) {
                    wealth += (h.equity().max(0) as f64) / 1e6;
                }
            }
            let hedge = self.hedge_cash[i] + (0..3).map(|m| self.hedge_base[i][m] * market_prices[m]).sum::<f64>();
            per_account.push(wealth + hedge - self.minted_each[i] as f64 / 1e6);
        }
        let attacking = self.accounts.len() - self.controls;
        let mut profit: f64 = per_account[..attacking].iter().sum::<f64>();
        if self.kind == AttackKind::DumpToColluder {
            // Funding passes between the pair while both hold, and from other traders to the
            // survivor after one is liquidated: a position's income, not the attack's. What is
            // left is what the dump and a bankruptcy behind it moved to the pair.
            profit -= self.funding[..attacking].iter().sum::<f64>();
        }
        // The controls hold a copy of the attack's position (here: the collecting short).
        profit -= per_account[attacking..].iter().sum::<f64>();
        self.report.profit = profit;
        self.report.clone()
    }
}

/// What `t`'s insurance shares are worth now (native units), as the program would pay them: the
/// shares under a request count at the lesser of their frozen and current value (they stay in
/// `shares` until unstaked, so they are not counted twice).
fn stake_value(world: &mut World, t: &Trader) -> f64 {
    let Some(stake) =
        world.account_data(&pda::insurance_stake(&t.owner)).and_then(|d| decode::<InsuranceStake>(&d).ok())
    else {
        return 0.0;
    };
    let shares = world.env.exchange().insurance_total_shares;
    if shares == 0 {
        return 0.0;
    }
    let per_share = world.env.token_balance(pda::insurance_vault()) as f64 / shares as f64;
    let requested = stake.unstake_shares.min(stake.shares);
    let free = (stake.shares - requested) as f64 * per_share;
    free + (requested as f64 * per_share).min(stake.unstake_value as f64)
}

/// An opening position, set up before the attack: a direct trade with a liquidity provider at
/// the published price, so an attacker and its control enter at the same price.
fn open_at_oracle(world: &mut World, trader: &Trader, market: u16, buy: bool, base: u64) {
    let lp = world.liquidity_providers[0].clone();
    let price = world.markets[market as usize].price_1e6();
    let opened = largest_accepted(world, market, base, |w, base| {
        w.direct_trade(trader, &lp, market, buy, price, base, false).is_ok()
    });
    assert!(opened > 0, "opening position refused at every size");
}

/// Tries `open` at `base`, then 10% smaller each time it is refused (what an attacker does when
/// margin refuses the size it wanted); returns the base that opened, 0 if none did.
fn largest_accepted(world: &mut World, market: u16, base: u64, mut open: impl FnMut(&mut World, u64) -> bool) -> u64 {
    let mut base = base;
    for _ in 0..20 {
        if open(world, base) {
            return base;
        }
        base = round_to_step(world, market, base as f64 * 0.9 / 1e9);
    }
    0
}

fn round_to_step(world: &World, market: u16, coins: f64) -> u64 {
    let step = world.markets[market as usize].spec.step_size;
    let base = (coins * 1e9) as u64;
    base - base % step
}

/// A genuine, fully verified update of market `m`'s feed as published at that old step, written
/// to a fresh receiver-owned account (anyone can post one).
fn old_update(world: &mut World, m: usize, old: &(i64, u64, Vec<f64>)) -> Pubkey {
    let fake = Pubkey::new_unique();
    let feed = world.env.markets[m].feed_id;
    world.env.write_pyth_full(fake, feed, to_price_1e6(old.2[m]) as i64, 0, old.1, old.0, VerificationLevel::Full);
    fake
}
