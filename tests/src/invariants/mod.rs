//! Stateful property runner: random sequences of every instruction (deposits, withdrawals, every
//! order type, fills, cancels, price moves with jumps, stale and bad oracles, funding,
//! liquidations, the whole waterfall, staking, governance changes, pauses) by many accounts across
//! three markets, through the real program on any [`Backend`]. After every step the invariants in
//! [`Fixture::check_step`] must hold, and after every liquidation pass those in
//! [`Fixture::check_after_pass`]. A failing sequence is shrunk ([`shrink`]) to the operations it
//! needs and printed as a replayable seed plus the indexes kept.
pub mod ops;

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use margin_engine::instructions::{PlaceAndTakeArgs, PlaceOrderArgs};
use margin_engine::state::margin_account_flags::{BANKRUPT, BEING_LIQUIDATED};
use margin_engine::state::{
    order_kind, order_side, order_trigger, paused_operations, InsuranceStake, MarginAccount, RiskParams,
};
use margin_engine_sdk::instructions as ix;
use margin_engine_sdk::pda;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;

use crate::backend::{Backend, RawKeypair, TxError};
use crate::cached::Cached;
use crate::env::*;
use crate::refusal::{classify, Origin};
pub use ops::{BadOracle, Op};

/// The three markets: name, price ($ in 1e6), step size (base units).
const MARKETS: [(&str, u64, u64); 3] = [
    ("SOL-PERP", 100_000_000, BASE as u64 / 100),
    ("BTC-PERP", 30_000_000_000, BASE as u64 / 10_000),
    ("ETH-PERP", 2_000_000_000, BASE as u64 / 1_000),
];
/// Collateral each trader deposits at the start ($); every trader's wallet holds $100,000.
const TRADER_DEPOSITS: [u64; 6] = [2_000, 3_000, 5_000, 8_000, 1_000, 10_000];
/// Each of the two liquidators' collateral ($): enough to take over any position here.
const LIQUIDATOR_DEPOSIT: u64 = 10_000_000;
/// Order sizes are drawn in units of this many steps.
const SIZE_UNIT_STEPS: u64 = 10;
/// Most liquidation rounds per pass (one slot each: at most one step per slot per account); a
/// pass ends earlier when a round does nothing.
const PASS_ROUNDS: usize = 64;

/// Counts over a run.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub sequences: u64,
    pub steps: u64,
    pub transactions: u64,
    pub accepted: u64,
    /// Refusals by name.
    pub refusals: BTreeMap<String, u64>,
    /// Passes after which the after-a-pass invariants were checked (not paused).
    pub passes_checked: u64,
    pub liquidations: u64,
    pub bankruptcies: u64,
}

impl Stats {
    pub fn merge(&mut self, other: &Stats) {
        self.sequences += other.sequences;
        self.steps += other.steps;
        self.transactions += other.transactions;
        self.accepted += other.accepted;
        self.passes_checked += other.passes_checked;
        self.liquidations += other.liquidations;
        self.bankruptcies += other.bankruptcies;
        for (k, v) in &other.refusals {
            *self.refusals.entry(k.clone()).or_default() += v;
        }
    }
}

/// An invariant that did not hold: after which operation, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub step: usize,
    pub what: String,
}

/// The exchange a sequence runs on: three markets (volatility-adjusted margin on SOL, a
/// Switchboard fallback and a size premium on BTC, plain ETH), six traders, two liquidators (the
/// first also fills), two insurance stakers, governance with a treasury token account.
pub struct Fixture<B: Backend> {
    pub env: TestEnv<Cached<B>>,
    /// Traders, then the two liquidators: the accounts operations pick from.
    pub everyone: Vec<Trader>,
    treasury: Pubkey,
    prices: Vec<u64>,
    /// Every Pyth update posted per market, oldest first (for replays).
    posted: Vec<Vec<Vec<u8>>>,
    tokens: u128,
    pub stats: Stats,
}

fn risk(market: usize) -> RiskParams {
    let step = MARKETS[market].2;
    let params = match market {
        // The shipped policy's shape: volatility margin, liquidation to initial, a PnL haircut.
        0 => RiskParams {
            liquidation_initial_share: 1_000_000,
            stressed_liquidation_initial_share: 2_000_000,
            pnl_initial_haircut: 100_000,
            ..volatility_risk()
        },
        1 => RiskParams { size_premium_factor: 500, ..default_risk() },
        _ => default_risk(),
    };
    RiskParams { step_size: step, min_order_size: step, ..params }
}

fn tick(price: u64) -> u64 {
    (price - price % 1_000).max(1_000)
}

fn moved(price: u64, bps: i64) -> u64 {
    tick((price as i128 * (10_000 + bps as i128) / 10_000).max(1_000) as u64)
}

impl<B: Backend> Fixture<B> {
    pub fn new(backend: B) -> Self {
        let mut env = TestEnv::new(Cached::new(backend));
        for (i, (name, price, _)) in MARKETS.iter().enumerate() {
            env.add_market_with_oracle(name, *price as i64, risk(i), i == 1);
        }
        let mut everyone = vec![];
        for usd in TRADER_DEPOSITS {
            let t = env.new_trader(100_000 * USDC);
            env.deposit(&t, usd * USDC).expect("deposit");
            everyone.push(t);
        }
        for _ in 0..2 {
            let t = env.new_trader(2 * LIQUIDATOR_DEPOSIT * USDC);
            env.deposit(&t, LIQUIDATOR_DEPOSIT * USDC).expect("deposit");
            everyone.push(t);
        }
        env.stake(&everyone[0].clone(), 2_000 * USDC).expect("stake");
        env.stake(&everyone[1].clone(), 1_000 * USDC).expect("stake");
        let treasury = Pubkey::new_unique();
        let governance = key(&env.governance);
        let mint = env.collateral_mint;
        env.write_token_account(treasury, mint, governance, 0);
        let prices = MARKETS.iter().map(|m| m.1).collect();
        let mut fixture = Self {
            env,
            everyone,
            treasury,
            prices,
            posted: vec![vec![]; MARKETS.len()],
            tokens: 0,
            stats: Stats::default(),
        };
        fixture.tokens = fixture.token_total();
        fixture
    }

    fn token_accounts(&self) -> Vec<Pubkey> {
        let mut keys: Vec<Pubkey> = self.everyone.iter().map(|t| t.token_account).collect();
        keys.extend([pda::collateral_vault(), pda::insurance_vault(), self.treasury]);
        keys
    }

    fn token_total(&mut self) -> u128 {
        self.token_accounts().into_iter().map(|k| self.env.token_balance(k) as u128).sum()
    }

    fn who(&self, i: u8) -> Trader {
        self.everyone[i as usize % self.everyone.len()].clone()
    }

    fn liquidator_for(&self, target: &Trader) -> Trader {
        let n = self.everyone.len();
        let first = &self.everyone[n - 2];
        if first.margin_account == target.margin_account {
            self.everyone[n - 1].clone()
        } else {
            first.clone()
        }
    }

    fn market_of(&self, i: u8) -> u16 {
        (i as usize % MARKETS.len()) as u16
    }

    fn account(&mut self, key: Pubkey) -> Option<MarginAccount> {
        self.env.account_exists(key).then(|| self.env.margin_account(key))
    }

    /// The model price of `market`: the last valid price posted.
    pub fn price(&self, market: u16) -> u64 {
        self.prices[market as usize]
    }

    fn price_list(&self) -> Vec<(u16, u64)> {
        self.prices.iter().enumerate().map(|(i, p)| (i as u16, *p)).collect()
    }

    /// Posts a fresh valid update (Pyth, and Switchboard where configured) at the model price.
    fn post_price(&mut self, market: u16) {
        let price = self.prices[market as usize] as i64;
        self.env.set_price(market, price);
        if let Some(sb) = self.env.markets[market as usize].switchboard {
            self.env.write_switchboard(sb, price, 0);
        }
        let pyth = self.env.markets[market as usize].pyth;
        let bytes = self.env.raw_data(pyth);
        self.posted[market as usize].push(bytes);
    }

    fn post_all_prices(&mut self) {
        for m in 0..MARKETS.len() as u16 {
            self.post_price(m);
        }
    }

    /// Records a transaction's outcome: a refusal must be named.
    fn outcome<T>(&mut self, result: Result<T, TxError>) -> Result<bool, String> {
        self.stats.transactions += 1;
        match result {
            Ok(_) => {
                self.stats.accepted += 1;
                Ok(true)
            }
            Err(e) => match classify(&e) {
                // Operations are built well-formed: the runtime refusing one, or arithmetic
                // overflowing on the runner's moderate amounts, is a bug, not a refusal.
                Ok((Origin::Runtime, name)) => {
                    Err(format!("a well-formed operation was refused by the runtime: {name}"))
                }
                Ok((Origin::Program, name)) if name == "MathOverflow" => {
                    Err("a well-formed operation overflowed (MathOverflow)".to_string())
                }
                Ok((origin, name)) => {
                    let label = match origin {
                        Origin::Program => name,
                        Origin::Anchor => name,
                        Origin::Token => format!("token {name}"),
                        Origin::Runtime => unreachable!("refused above"),
                    };
                    *self.stats.refusals.entry(label).or_default() += 1;
                    Ok(false)
                }
                Err(why) => Err(format!("unnamed refusal: {why}")),
            },
        }
    }

    fn send(
        &mut self,
        ix: anchor_lang::solana_program::instruction::Instruction,
        signers: &[&RawKeypair],
    ) -> Result<bool, String> {
        let r = self.env.send(ix, signers);
        self.outcome(r)
    }

    /// Runs one operation and checks the every-step invariants.
    pub fn apply(&mut self, op: &Op) -> Result<(), String> {
        self.stats.steps += 1;
        match *op {
            Op::Deposit { trader, usd } => {
                let t = self.who(trader);
                let r = self.env.deposit(&t, usd as u64 * USDC);
                self.outcome(r)?;
            }
            Op::Withdraw { trader, usd } => {
                let t = self.who(trader);
                if self.env.account_exists(t.margin_account) {
                    let r = self.env.withdraw(&t, usd as u64 * USDC);
                    self.outcome(r)?;
                }
            }
            Op::Order { trader, market, buy, offset_bps, size, kind, trigger, reduce_only, post_only, expiry } => {
                let t = self.who(trader);
                let m = self.market_of(market);
                if !self.env.account_exists(t.margin_account) {
                    return self.check_step();
                }
                let price = self.prices[m as usize];
                let limit = moved(price, offset_bps as i64);
                let base = size as u64 * SIZE_UNIT_STEPS * MARKETS[m as usize].2;
                let side = if buy { order_side::BID } else { order_side::ASK };
                let slot = self.env.slot();
                let (order_price, peg_offset) = match kind {
                    order_kind::ORACLE_PEG => (0, (limit as i64 - price as i64) / 1_000 * 1_000),
                    _ => (limit, 0),
                };
                // A trigger on the far side of the oracle: a stop below for a seller, above for a buyer.
                let trigger_price = match trigger {
                    order_trigger::NONE => 0,
                    _ => moved(price, if trigger == order_trigger::ABOVE { 200 } else { -200 }),
                };
                let opts = OrderOpts {
                    reduce_only,
                    post_only,
                    expiry_slot: if expiry == 0 { 0 } else { slot + expiry as u64 },
                    client_order_id: 0,
                    kind,
                    trigger,
                    trigger_price,
                    peg_offset,
                };
                let r = self.env.place_order(&t, m, side, order_price, base, opts);
                self.outcome(r)?;
            }
            Op::Trade { taker, maker, market, buy, offset_bps, size } => {
                let (t, mk) = (self.who(taker), self.who(maker));
                let m = self.market_of(market);
                if t.margin_account == mk.margin_account
                    || !self.env.account_exists(t.margin_account)
                    || !self.env.account_exists(mk.margin_account)
                {
                    return self.check_step();
                }
                let price = moved(self.prices[m as usize], offset_bps as i64);
                let base = size as u64 * SIZE_UNIT_STEPS * MARKETS[m as usize].2;
                let side = if buy { order_side::BID } else { order_side::ASK };
                let maker_side = if buy { order_side::ASK } else { order_side::BID };
                let filler = self.everyone[self.everyone.len() - 2].clone();
                let r = self.env.place_order(&mk, m, maker_side, price, base, OrderOpts::default());
                let Some(maker_id) = self.outcome(r.clone())?.then(|| r.unwrap()) else { return self.check_step() };
                let r = self.env.place_order(&t, m, side, price, base, OrderOpts::default());
                let Some(taker_id) = self.outcome(r.clone())?.then(|| r.unwrap()) else { return self.check_step() };
                let fill = ix::Fill {
                    market_index: m,
                    taker: t.margin_account,
                    taker_order_id: taker_id,
                    maker: mk.margin_account,
                    maker_order_id: maker_id,
                    max_base_amount: base,
                };
                let r = self.env.fill(&filler, fill);
                self.outcome(r)?;
            }
            Op::Take { taker, market, buy, offset_bps, size, time_in_force, market_order } => {
                let t = self.who(taker);
                let m = self.market_of(market);
                if !self.env.account_exists(t.margin_account) {
                    return self.check_step();
                }
                let price = moved(self.prices[m as usize], offset_bps as i64);
                let base = size as u64 * SIZE_UNIT_STEPS * MARKETS[m as usize].2;
                let makers = self.best_makers(m, !buy, t.margin_account);
                let args = PlaceAndTakeArgs {
                    order: PlaceOrderArgs {
                        market_index: m,
                        side: if buy { order_side::BID } else { order_side::ASK },
                        price,
                        base_amount: base,
                        reduce_only: false,
                        post_only: false,
                        expiry_slot: 0,
                        client_order_id: 0,
                        kind: if market_order { order_kind::MARKET } else { order_kind::LIMIT },
                        trigger: order_trigger::NONE,
                        trigger_price: 0,
                        peg_offset: 0,
                    },
                    time_in_force,
                    post_only_slide: false,
                    maker_order_ids: makers.iter().map(|(_, id)| *id).collect(),
                };
                let keys: Vec<Pubkey> = makers.iter().map(|(k, _)| *k).collect();
                let r = self.env.place_and_take(&t, args, &keys);
                self.outcome(r)?;
            }
            Op::FillBook { market } => {
                let m = self.market_of(market);
                self.fill_book(m)?;
            }
            Op::Cancel { trader, nth } => {
                let t = self.who(trader);
                if let Some(a) = self.account(t.margin_account) {
                    let ids: Vec<u64> = a.orders.iter().filter(|o| !o.is_empty()).map(|o| o.order_id).collect();
                    // An id that does not exist now and then: the refusal must be named too.
                    let id = if ids.is_empty() { nth as u64 } else { ids[nth as usize % ids.len()] };
                    let r = self.env.send(ix::cancel_order(t.owner, t.margin_account, id), &[&t.keypair]);
                    self.outcome(r)?;
                }
            }
            Op::CancelAll { trader } => {
                let t = self.who(trader);
                self.send(ix::cancel_all_orders(t.owner, t.margin_account, None), &[&t.keypair])?;
            }
            Op::Prune { trader } => {
                let t = self.who(trader);
                let keeper = self.everyone[0].clone();
                self.send(ix::prune_expired_orders(keeper.owner, t.margin_account), &[&keeper.keypair])?;
            }
            Op::TriggerAll => {
                let keeper = self.everyone[self.everyone.len() - 1].clone();
                for t in self.everyone.clone() {
                    let Some(a) = self.account(t.margin_account) else { continue };
                    for o in a.orders.iter().filter(|o| !o.is_empty() && o.is_untriggered()) {
                        if t.margin_account == keeper.margin_account {
                            continue;
                        }
                        let r = self.env.trigger_order(&keeper, &t, o.order_id);
                        self.outcome(r)?;
                    }
                }
            }
            Op::Move { market, bps } => {
                let m = self.market_of(market);
                self.env.advance_slots(1);
                self.prices[m as usize] = moved(self.prices[m as usize], bps as i64);
                self.post_price(m);
            }
            Op::Wait { slots } => self.env.advance_slots(slots as u64),
            Op::BadOracle { market, kind } => self.bad_oracle(self.market_of(market), kind),
            Op::Funding { market } => {
                let m = self.market_of(market);
                let period = self.env.market(m).risk.funding_period_slots as u64;
                self.env.advance_slots(period);
                self.post_all_prices();
                let r = self.env.update_funding(m);
                self.outcome(r)?;
            }
            Op::Refresh { market } => {
                let m = self.market_of(market);
                let r = self.env.refresh_market(m);
                self.outcome(r)?;
            }
            Op::Liquidate { liquidator, target, market } => {
                let (l, t) = (self.who(liquidator), self.who(target));
                let m = self.market_of(market);
                if l.margin_account != t.margin_account
                    && self.env.account_exists(l.margin_account)
                    && self.env.account_exists(t.margin_account)
                {
                    let r = self.env.liquidate(&l, &t, m, u64::MAX);
                    self.outcome(r)?;
                }
            }
            Op::Pass => self.pass()?,
            Op::Stake { trader, usd } => {
                let t = self.who(trader);
                let r = self.env.stake(&t, usd as u64 * USDC);
                self.outcome(r)?;
            }
            Op::RequestUnstake { trader, percent } => {
                let t = self.who(trader);
                if let Some(stake) = self.stake_of(&t.owner) {
                    let shares = (stake.shares as u128 * percent.min(100) as u128 / 100) as u64;
                    self.send(ix::request_unstake(t.owner, shares), &[&t.keypair])?;
                }
            }
            Op::Unstake { trader } => {
                let t = self.who(trader);
                self.env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
                self.post_all_prices();
                self.send(ix::unstake_insurance(t.owner, t.token_account), &[&t.keypair])?;
            }
            Op::ProposeRisk { market, param, up } => {
                let m = self.market_of(market);
                let params = retuned(self.env.market(m).risk, param, up);
                let governance = self.env.governance.clone();
                self.send(ix::update_risk_params(key(&governance), m, params), &[&governance])?;
            }
            Op::ExecuteRisk { market } => {
                let m = self.market_of(market);
                self.env.advance_slots(RISK_TIMELOCK_SLOTS);
                self.post_all_prices();
                self.send(ix::execute_risk_update(m), &[])?;
            }
            Op::CancelRisk { market } => {
                let m = self.market_of(market);
                let governance = self.env.governance.clone();
                self.send(ix::cancel_risk_update(key(&governance), m), &[&governance])?;
            }
            Op::Pause { bits, by_guardian } => {
                let signer = if by_guardian { self.env.guardian.clone() } else { self.env.governance.clone() };
                self.send(ix::pause_operations(key(&signer), bits), &[&signer])?;
            }
            Op::Resume { bits } => {
                let governance = self.env.governance.clone();
                self.send(ix::resume_operations(key(&governance), bits), &[&governance])?;
            }
            Op::ReduceOnly { market, on, by_guardian } => {
                let m = self.market_of(market);
                let signer = if by_guardian { self.env.guardian.clone() } else { self.env.governance.clone() };
                self.send(ix::set_market_reduce_only(key(&signer), m, on), &[&signer])?;
            }
            Op::Revenue { usd } => {
                let governance = self.env.governance.clone();
                let treasury = self.treasury;
                self.send(
                    ix::withdraw_protocol_revenue(key(&governance), treasury, usd as u64 * USDC),
                    &[&governance],
                )?;
            }
            Op::Close { trader } => {
                let t = self.who(trader);
                self.send(ix::close_margin_account(t.owner, t.margin_account), &[&t.keypair])?;
            }
            Op::Reopen { trader } => {
                let t = self.who(trader);
                if !self.env.account_exists(t.margin_account) {
                    let payer = key(&self.env.payer);
                    self.send(ix::create_margin_account(payer, t.owner, 0), &[&t.keypair])?;
                }
            }
        }
        self.check_step()
    }

    fn stake_of(&mut self, owner: &Pubkey) -> Option<InsuranceStake> {
        let address = pda::insurance_stake(owner);
        if !self.env.account_exists(address) {
            return None;
        }
        let data = self.env.raw_data(address);
        Some(margin_engine_sdk::accounts::decode::<InsuranceStake>(&data).expect("an insurance stake PDA decodes"))
    }

    /// Resting orders that can make on `maker_side_bid`'s side of market `m`, best price first
    /// (one per account, at most `MAX_TAKE_MAKERS`), excluding `taker`.
    fn best_makers(&mut self, m: u16, maker_side_bid: bool, taker: Pubkey) -> Vec<(Pubkey, u64)> {
        let side = if maker_side_bid { order_side::BID } else { order_side::ASK };
        let mut found: Vec<(u64, Pubkey, u64)> = vec![];
        for t in self.everyone.clone() {
            if t.margin_account == taker {
                continue;
            }
            let Some(a) = self.account(t.margin_account) else { continue };
            let best = a
                .orders
                .iter()
                .filter(|o| {
                    !o.is_empty()
                        && o.market_index == m
                        && o.side == side
                        && o.can_make()
                        && o.kind == order_kind::LIMIT
                })
                .max_by_key(|o| if maker_side_bid { o.price } else { u64::MAX - o.price });
            if let Some(o) = best {
                found.push((o.price, t.margin_account, o.order_id));
            }
        }
        found.sort_by_key(|(price, _, _)| if maker_side_bid { u64::MAX - price } else { *price });
        found.into_iter().take(margin_engine::constants::MAX_TAKE_MAKERS).map(|(_, k, id)| (k, id)).collect()
    }

    /// The keeper matches the best bid against the best ask of different accounts, whichever
    /// way round the program accepts.
    fn fill_book(&mut self, m: u16) -> Result<(), String> {
        let bids = self.best_makers(m, true, Pubkey::default());
        let asks = self.best_makers(m, false, Pubkey::default());
        let filler = self.everyone[self.everyone.len() - 2].clone();
        for (bid, ask) in bids.iter().zip(asks.iter()) {
            if bid.0 == ask.0 {
                continue;
            }
            for (taker, maker) in [(bid, ask), (ask, bid)] {
                let fill = ix::Fill {
                    market_index: m,
                    taker: taker.0,
                    taker_order_id: taker.1,
                    maker: maker.0,
                    maker_order_id: maker.1,
                    max_base_amount: u64::MAX,
                };
                let r = self.env.fill(&filler, fill);
                if self.outcome(r)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn bad_oracle(&mut self, m: u16, kind: BadOracle) {
        let handle = self.env.markets[m as usize];
        let price = self.prices[m as usize] as i64;
        let clock = self.env.backend.clock();
        let bytes = match kind {
            BadOracle::WideConfidence => pyth_update_bytes(
                handle.feed_id,
                price,
                price as u64 / 5,
                clock.slot,
                clock.unix_timestamp,
                VerificationLevel::Full,
            ),
            BadOracle::EmaDiverged => {
                self.env.write_pyth_with_ema(m, price, price * 6 / 10);
                return;
            }
            BadOracle::Replay { back } => {
                let posted = &self.posted[m as usize];
                if posted.is_empty() {
                    return;
                }
                posted[posted.len().saturating_sub(1 + back as usize)].clone()
            }
            BadOracle::PartiallyVerified => pyth_update_bytes(
                handle.feed_id,
                price,
                0,
                clock.slot,
                clock.unix_timestamp,
                VerificationLevel::Partial { num_signatures: 3 },
            ),
            BadOracle::NonPositive => {
                pyth_update_bytes(handle.feed_id, 0, 0, clock.slot, clock.unix_timestamp, VerificationLevel::Full)
            }
            BadOracle::WrongFeed => {
                pyth_update_bytes([0xEE; 32], price, 0, clock.slot, clock.unix_timestamp, VerificationLevel::Full)
            }
            BadOracle::Ancient => pyth_update_bytes(
                handle.feed_id,
                price,
                0,
                clock.slot,
                clock.unix_timestamp - 100_000,
                VerificationLevel::Full,
            ),
        };
        self.env.set_raw(handle.pyth, bytes, pyth_solana_receiver_sdk::ID);
    }

    /// Fresh prices, then rounds of: every bankrupt account through the waterfall (fund, then
    /// ADL while it holds the loss market, then socialisation), every account below maintenance
    /// or flagged a liquidation step. Then the after-a-pass invariants.
    fn pass(&mut self) -> Result<(), String> {
        for _ in 0..PASS_ROUNDS {
            self.env.advance_slots(1);
            self.post_all_prices();
            let prices = self.price_list();
            let cache = self.env.price_cache(&prices);
            let accounts: Vec<(Pubkey, MarginAccount)> = self
                .everyone
                .clone()
                .iter()
                .filter_map(|t| self.account(t.margin_account).map(|a| (t.margin_account, a)))
                .collect();
            let mut acted = false;
            for (i, (key_, account)) in accounts.iter().enumerate() {
                let target = self.everyone.iter().find(|t| t.margin_account == *key_).unwrap().clone();
                let liquidator = self.liquidator_for(&target);
                if account.has_flag(BANKRUPT) {
                    let Ok(m) = margin_engine::controller::bankruptcy::loss_market(account, &cache) else { continue };
                    let r = self.env.resolve_bankruptcy(&liquidator, &target, m);
                    match r {
                        Ok(_) => {
                            self.outcome(r)?;
                            acted = true;
                            continue;
                        }
                        Err(ref e) if *e != program_error(margin_engine::error::ErrorCode::InsuranceCannotCover) => {
                            self.outcome(r)?;
                            continue;
                        }
                        Err(_) => {
                            self.outcome(r)?;
                        }
                    }
                    let holds = account.active_positions().any(|p| p.market_index == m && p.base_amount != 0);
                    if holds {
                        let market = self.env.market(m);
                        let others: Vec<(Pubkey, MarginAccount)> =
                            accounts.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| *a).collect();
                        let candidates =
                            margin_engine_sdk::analytics::adl_candidates(account, &others, &market, &cache, 4);
                        if !candidates.is_empty() {
                            let r = self.env.auto_deleverage(&liquidator, &target, m, &candidates);
                            acted |= self.outcome(r)?;
                        }
                    } else if account.collateral < 0 {
                        let r = self.env.socialize_loss(&liquidator, &target, m);
                        acted |= self.outcome(r)?;
                    }
                    continue;
                }
                let health = margin_engine::health::account_health(account, &cache)
                    .map_err(|e| format!("health of {key_} on the pass's prices: {e:?}"))?;
                if health.maintenance_health >= 0 && !account.has_flag(BEING_LIQUIDATED) {
                    continue;
                }
                let largest = account
                    .active_positions()
                    .filter(|p| p.base_amount != 0)
                    .max_by_key(|p| p.base_amount.unsigned_abs())
                    .map(|p| p.market_index);
                // A flagged account with nothing left open is cleared through any market.
                let m = largest.unwrap_or(0);
                let r = self.env.liquidate(&liquidator, &target, m, u64::MAX);
                if self.outcome(r)? {
                    acted = true;
                    self.stats.liquidations += 1;
                    if self.account(target.margin_account).is_some_and(|a| a.has_flag(BANKRUPT)) {
                        self.stats.bankruptcies += 1;
                    }
                }
            }
            if !acted {
                break;
            }
        }
        let exchange = self.env.exchange();
        if exchange.is_paused(paused_operations::LIQUIDATION) {
            return Ok(());
        }
        self.stats.passes_checked += 1;
        self.check_after_pass()
    }

    /// After a pass on fresh prices: no account that is not BANKRUPT has negative equity, none
    /// is below maintenance without a liquidation under way (flagged), none is left flagged
    /// BEING_LIQUIDATED while its buffered health is back above zero.
    pub fn check_after_pass(&mut self) -> Result<(), String> {
        let prices = self.price_list();
        let cache = self.env.price_cache(&prices);
        for t in self.everyone.clone() {
            let Some(a) = self.account(t.margin_account) else { continue };
            let h = margin_engine::health::account_health(&a, &cache).map_err(|e| format!("health: {e:?}"))?;
            if !a.has_flag(BANKRUPT) && h.equity() < 0 {
                return Err(format!(
                    "account {} has equity {} after a pass and is not BANKRUPT",
                    t.margin_account,
                    h.equity()
                ));
            }
            if !a.has_flag(BEING_LIQUIDATED) && !a.has_flag(BANKRUPT) && h.maintenance_health < 0 {
                return Err(format!(
                    "account {} is below maintenance ({}) after a pass and nobody liquidated it",
                    t.margin_account, h.maintenance_health
                ));
            }
            if a.has_flag(BEING_LIQUIDATED) && !a.has_flag(BANKRUPT) && h.liquidation_health >= 0 {
                return Err(format!(
                    "account {} still flagged BEING_LIQUIDATED with buffered health {} after a pass",
                    t.margin_account, h.liquidation_health
                ));
            }
        }
        Ok(())
    }

    /// After every step: exact conservation (`TestEnv::check_conservation`: vault, Σ collateral,
    /// Σ quote, funding pools, fee pool, open interest long == short, Σ base == 0); no token
    /// created or destroyed anywhere; insurance shares add up (Σ held + protocol == total, a request
    /// never exceeds what is held); the bankrupt count
    /// matches the flags.
    pub fn check_step(&mut self) -> Result<(), String> {
        self.env.check_conservation()?;
        let tokens = self.token_total();
        if tokens != self.tokens {
            return Err(format!("token supply across wallets and vaults changed: {} -> {tokens}", self.tokens));
        }
        let exchange = self.env.exchange();
        let mut shares = exchange.insurance_protocol_shares as u128;
        let mut bankrupt = 0u64;
        for t in self.everyone.clone() {
            if let Some(stake) = self.stake_of(&t.owner) {
                if stake.unstake_shares > stake.shares {
                    return Err(format!(
                        "stake of {} requests {} of {} shares",
                        t.owner, stake.unstake_shares, stake.shares
                    ));
                }
                shares += stake.shares as u128;
            }
            if self.account(t.margin_account).is_some_and(|a| a.has_flag(BANKRUPT)) {
                bankrupt += 1;
            }
        }
        if shares != exchange.insurance_total_shares as u128 {
            return Err(format!(
                "Σ stake shares + protocol shares = {shares} != insurance_total_shares {}",
                exchange.insurance_total_shares
            ));
        }
        if bankrupt != exchange.bankrupt_accounts {
            return Err(format!(
                "{bankrupt} accounts flagged BANKRUPT, exchange counts {}",
                exchange.bankrupt_accounts
            ));
        }
        Ok(())
    }
}

/// `params` with one parameter moved by a fifth, up or down (`param` picks which). Many results
/// break a bound: the program must refuse those by name.
fn retuned(params: RiskParams, param: u8, up: bool) -> RiskParams {
    let scale = |v: u32| if up { v.saturating_add(v / 5).max(1) } else { v - v / 5 };
    let scale64 = |v: u64| if up { v.saturating_add(v / 5).max(1) } else { v - v / 5 };
    let mut p = params;
    match param % 10 {
        0 => p.initial_margin_ratio = scale(p.initial_margin_ratio),
        1 => p.maintenance_margin_ratio = scale(p.maintenance_margin_ratio),
        2 => p.liquidation_fee = scale(p.liquidation_fee),
        3 => p.taker_fee = scale(p.taker_fee),
        4 => p.max_open_interest = scale64(p.max_open_interest),
        5 => p.breaker_soft_band = scale(p.breaker_soft_band),
        6 => p.vol_max_multiplier = scale(p.vol_max_multiplier),
        7 => p.insurance_draw_cap = scale64(p.insurance_draw_cap),
        8 => p.liquidation_buffer = scale(p.liquidation_buffer),
        _ => p.fill_price_band = scale(p.fill_price_band),
    }
    p
}

/// Runs `ops` on a fresh exchange; the first invariant that breaks, if any. A panic anywhere
/// (the program's, or the runner's own checks) counts as a failure too.
pub fn run<B: Backend>(backend: B, ops: &[Op], stats: &mut Stats) -> Result<(), Failure> {
    let mut fixture = Fixture::new(backend);
    run_on(&mut fixture, ops, stats)
}

/// `run` on a fixture the caller made (and disposes of: dropping a bank takes a while, so the
/// volume runner drops them on another thread).
pub fn run_on<B: Backend>(fixture: &mut Fixture<B>, ops: &[Op], stats: &mut Stats) -> Result<(), Failure> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for (step, op) in ops.iter().enumerate() {
            fixture.apply(op).map_err(|what| Failure { step, what })?;
        }
        Ok(())
    }));
    fixture.stats.sequences = 1;
    stats.merge(&fixture.stats);
    match result {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(Failure { step: usize::MAX, what: format!("panic: {what}") })
        }
    }
}

/// A failure's kind: its message without the words that carry numbers or keys.
fn kind(what: &str) -> String {
    what.split_whitespace().filter(|w| !w.chars().any(|c| c.is_ascii_digit())).collect::<Vec<_>>().join(" ")
}

/// The operations of `ops` kept by `keep` (indexes), in order.
pub fn subsequence(ops: &[Op], keep: &[usize]) -> Vec<Op> {
    keep.iter().filter_map(|&i| ops.get(i).cloned()).collect()
}

/// Shrinks a failing sequence: drops chunks (halves, quarters, ... single operations) while it
/// still fails. Returns the indexes kept (into `ops`) and the failure they give.
pub fn shrink<B: Backend>(new_backend: impl Fn() -> B, ops: &[Op], failure: Failure) -> (Vec<usize>, Failure) {
    let mut keep: Vec<usize> = (0..ops.len()).collect();
    // Nothing after the failing step matters.
    if failure.step < keep.len() {
        keep.truncate(failure.step + 1);
    }
    let mut failure = failure;
    let mut chunk = keep.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        let mut removed_any = false;
        while start < keep.len() {
            let end = (start + chunk).min(keep.len());
            let candidate: Vec<usize> = keep[..start].iter().chain(&keep[end..]).copied().collect();
            let mut scratch = Stats::default();
            match run(new_backend(), &subsequence(ops, &candidate), &mut scratch) {
                // Only the same failure counts: shrinking must not drift to another one.
                Err(f) if kind(&f.what) == kind(&failure.what) => {
                    keep = candidate;
                    if f.step < keep.len() {
                        keep.truncate(f.step + 1);
                    }
                    failure = f;
                    removed_any = true;
                }
                _ => start = end,
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    (keep, failure)
}
