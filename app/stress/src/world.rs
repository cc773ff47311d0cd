//! The chain and the market around it: the in-process bank running the real program, an account
//! cache that drops exactly what each transaction may have written, and each market's depth (the
//! liquidity providers, who take every trade at the impacted price, `model::impact`).
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use margin_engine::instructions::PlaceOrderArgs;
use margin_engine::state::{MarginAccount, Market, Order};
use margin_engine_sdk::accounts::decode;
use margin_engine_sdk::chain::{Chain, ChainClock, ChainError};
use margin_engine_sdk::instructions::{self as ix, Fill};
use margin_engine_sdk::orders;
use margin_engine_sdk::pda;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;
use solana_sdk::signature::Keypair;

use crate::model::impact::{ImpactLaw, ImpactState};
use crate::model::markets::MarketSpec;

/// One market's price model: the exogenous path's current value and the impact of flow.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MarketModel {
    pub spec: MarketSpec,
    pub law: ImpactLaw,
    pub impact: ImpactState,
    /// The scenario's price now (no impact).
    pub exogenous: f64,
    /// The price the oracle published this step (exogenous moved by impact).
    pub oracle: f64,
    /// Largest |log impact| seen.
    pub peak_log_impact: f64,
    /// The impact the forced flow alone would have had (same law, fed only forced trades), and
    /// its largest |log impact|: the cascade's own footprint, apart from voluntary and attack flow.
    pub forced_impact: ImpactState,
    pub peak_forced_log_impact: f64,
}

impl MarketModel {
    /// Notional forced through the depth (liquidator unloads, stop-outs), USD.
    pub fn forced_usd(&self) -> f64 {
        self.forced_impact.gross_usd
    }

    /// Notional traded voluntarily through the depth (traders, attackers), USD.
    pub fn voluntary_usd(&self) -> f64 {
        self.impact.gross_usd - self.forced_impact.gross_usd
    }

    pub fn price_1e6(&self) -> u64 {
        margin_engine_sdk::scenario::to_price_1e6(self.oracle)
    }
}

/// A trade through the depth, sized and priced (`World::depth_quote`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthQuote {
    pub base: u64,
    pub price: u64,
    /// Signed USD notional (buys positive) the impact law is fed.
    pub signed_usd: f64,
}

/// Why a depth trade did not happen.
#[derive(Clone, Debug, PartialEq)]
pub enum TradeRefusal {
    /// Smaller than one order step after the band cut it.
    TooSmall,
    /// The program refused it.
    Program(TxError),
}

pub struct World {
    pub env: TestEnv<NativeBackend>,
    cache: HashMap<Pubkey, Option<Vec<u8>>>,
    pub markets: Vec<MarketModel>,
    /// The depth: liquidity providers that take the other side of every trade.
    pub liquidity_providers: Vec<Trader>,
    pub filler: Trader,
    lp_turn: usize,
    /// Transactions sent (landed or refused).
    pub transactions: u64,
    /// Wall time spent inside the in-process chain (sending transactions, reading accounts): the
    /// rest of a run's wall time is the harness's own (market model, agents, keepers' planning).
    pub chain_seconds: f64,
    /// Largest move of an execution from the oracle (log), inside the program's fill band.
    pub band_log: f64,
}

/// Runs `f`, adding its wall time to `seconds` (the chain's share of a run).
fn timed<T>(seconds: &mut f64, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    *seconds += started.elapsed().as_secs_f64();
    out
}

impl World {
    pub fn new(mut env: TestEnv<NativeBackend>, markets: Vec<MarketModel>, fill_price_band_ppm: u32) -> Self {
        env.track_writes();
        let filler = env.new_trader(0);
        // 90% of the band: the oracle is only republished each step.
        let band_log = (1.0 + 0.9 * fill_price_band_ppm as f64 / 1e6).ln();
        Self {
            env,
            cache: HashMap::new(),
            markets,
            liquidity_providers: vec![],
            filler,
            lp_turn: 0,
            transactions: 0,
            chain_seconds: 0.0,
            band_log,
        }
    }

    fn invalidate(&mut self) {
        for key in self.env.take_written() {
            self.cache.remove(&key);
        }
    }

    /// Account data, from the cache unless something may have written it since.
    pub fn account_data(&mut self, key: &Pubkey) -> Option<Vec<u8>> {
        self.invalidate();
        if let Some(hit) = self.cache.get(key) {
            return hit.clone();
        }
        let data = timed(&mut self.chain_seconds, || Chain::account(&mut self.env, key).ok().flatten());
        self.cache.insert(*key, data.clone());
        data
    }

    pub fn margin_account(&mut self, key: &Pubkey) -> Option<MarginAccount> {
        self.account_data(key).and_then(|d| decode::<MarginAccount>(&d).ok())
    }

    pub fn market(&mut self, index: u16) -> Market {
        decode::<Market>(&self.account_data(&pda::market(index)).expect("market exists")).expect("market decodes")
    }

    pub fn send(&mut self, ixs: Vec<Instruction>, signers: &[&RawKeypair]) -> Result<TxOutcome, TxError> {
        self.transactions += 1;
        timed(&mut self.chain_seconds, || self.env.send_all(ixs, signers))
    }

    /// Lets `seconds` pass in every depth and publishes each market's impacted price.
    pub fn publish(&mut self, seconds: f64, exogenous: &[f64]) {
        for (i, m) in self.markets.iter_mut().enumerate() {
            m.law.decay(&mut m.impact, seconds);
            m.law.decay(&mut m.forced_impact, seconds);
            m.exogenous = exogenous[i];
            m.oracle = m.law.price(&m.impact, m.exogenous);
            m.peak_log_impact = m.peak_log_impact.max(m.law.log_impact(&m.impact).abs());
        }
        for i in 0..self.markets.len() {
            let p = self.markets[i].price_1e6() as i64;
            self.env.set_price(i as u16, p);
        }
    }

    /// `taker` trades `base` (base units, buying if `buy`) with the next liquidity provider at the
    /// impacted price; the size is cut so the execution stays inside the fill band. One
    /// transaction: both orders and the fill, so a refusal leaves nothing resting. Returns the
    /// base traded.
    #[allow(clippy::too_many_arguments)]
    pub fn depth_trade(
        &mut self,
        taker: &Trader,
        market: u16,
        buy: bool,
        base: u64,
        reduce_only: bool,
        forced: bool,
    ) -> Result<u64, TradeRefusal> {
        let quote = self.depth_quote(market, buy, base)?;
        let lp = self.next_liquidity_provider();
        self.direct_trade(taker, &lp, market, buy, quote.price, quote.base, reduce_only)
            .map_err(TradeRefusal::Program)?;
        self.apply_impact(market, quote.signed_usd, forced);
        Ok(quote.base)
    }

    /// Size and price of a trade of up to `base` through the depth now: cut to stay inside the
    /// fill band, at the impacted execution price.
    pub fn depth_quote(&self, market: u16, buy: bool, base: u64) -> Result<DepthQuote, TradeRefusal> {
        self.depth_quote_within(market, buy, base, self.band_log)
    }

    /// `depth_quote` with the execution kept within `band_log` of the published price.
    fn depth_quote_within(&self, market: u16, buy: bool, base: u64, band_log: f64) -> Result<DepthQuote, TradeRefusal> {
        let m = &self.markets[market as usize];
        let step = m.spec.step_size;
        let sign = if buy { 1.0 } else { -1.0 };
        let published_log = (m.oracle / m.exogenous).ln();
        let before = m.law.log_impact(&m.impact);
        // Room left in the band, measured from the published price.
        let room = band_log - (sign * (before - published_log)).max(0.0);
        if room <= 0.0 {
            return Err(TradeRefusal::TooSmall);
        }
        let price_now = m.law.price(&m.impact, m.exogenous);
        let wanted_usd = base as f64 / 1e9 * price_now;
        let usd = m.law.max_size_within(&m.impact, sign, room, wanted_usd);
        let mut base = ((usd / price_now * 1e9) as u64).min(base);
        base -= base % step;
        if base < step {
            return Err(TradeRefusal::TooSmall);
        }
        let signed_usd = sign * base as f64 / 1e9 * price_now;
        let (_, exec_log) = m.law.preview(&m.impact, signed_usd);
        let price = margin_engine_sdk::scenario::to_price_1e6(m.exogenous * exec_log.exp());
        Ok(DepthQuote { base, price, signed_usd })
    }

    fn next_liquidity_provider(&mut self) -> Trader {
        let lp = self.liquidity_providers[self.lp_turn % self.liquidity_providers.len()].clone();
        self.lp_turn += 1;
        lp
    }

    fn apply_impact(&mut self, market: u16, signed_usd: f64, forced: bool) {
        let m = &mut self.markets[market as usize];
        m.law.apply(&mut m.impact, signed_usd);
        if forced {
            m.law.apply(&mut m.forced_impact, signed_usd);
            m.peak_forced_log_impact = m.peak_forced_log_impact.max(m.law.log_impact(&m.forced_impact).abs());
        }
    }

    /// Plays the trigger keeper for one stop order of `account` (margin account `key`): fires it
    /// if it has not fired (`trigger_order`, the filler as keeper) and fills it through the depth
    /// against the next liquidity provider in the same transaction, as forced flow, for as much as
    /// the depth gives within the program's bound on such fills. Nothing is sent when the depth's
    /// price is beyond the stop's worst price. Returns the base filled.
    pub fn execute_stop(&mut self, key: Pubkey, account: &MarginAccount, order: &Order) -> Result<u64, TradeRefusal> {
        let market = order.market_index;
        let held = account.position_index(market).map_or(0, |p| account.positions[p].base_amount.unsigned_abs());
        let buy = order.side == BID;
        // A keeper-matched market order fills at most liquidation's fees from the oracle
        // (`controller::matching`): the stop takes what the depth gives within that.
        let risk = self.market(market).risk;
        let allowance = risk.liquidation_allowance() as f64 / 1e6;
        let room = (1.0 + 0.9 * allowance).ln().min(self.band_log);
        let quote = self.depth_quote_within(market, buy, order.base_amount.min(held), room)?;
        let within = if buy { quote.price <= order.price } else { quote.price >= order.price };
        if !within {
            return Err(TradeRefusal::TooSmall);
        }
        let lp = self.next_liquidity_provider();
        let lp_account = self.margin_account(&lp.margin_account).expect("liquidity provider account");
        let oracles = self.env.oracles_of(market);
        let mut ixs = vec![];
        if order.is_untriggered() {
            ixs.push(ix::trigger_order(
                self.filler.owner,
                self.filler.margin_account,
                key,
                market,
                oracles,
                order.order_id,
            ));
        }
        let maker_side = if buy { ASK } else { BID };
        let lp_groups = ix::market_groups(&[&lp_account], Some(market), self.env.oracles());
        let maker = orders::limit(market, maker_side, quote.price, quote.base);
        ixs.push(ix::place_order(lp.owner, lp.margin_account, oracles, maker, lp_groups));
        let fill_groups = ix::market_groups(&[account, &lp_account], Some(market), self.env.oracles());
        let fill = Fill {
            market_index: market,
            taker: key,
            taker_order_id: order.order_id,
            maker: lp.margin_account,
            maker_order_id: lp_account.next_order_id,
            max_base_amount: quote.base,
        };
        ixs.push(ix::fill_orders(self.filler.owner, self.filler.margin_account, oracles, fill, fill_groups));
        let filler = self.filler.keypair.clone();
        self.send(ixs, &[&lp.keypair, &filler]).map_err(TradeRefusal::Program)?;
        self.apply_impact(market, quote.signed_usd, true);
        Ok(quote.base)
    }

    /// `taker` and `maker` trade directly at `price` (no depth, no impact): one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn direct_trade(
        &mut self,
        taker: &Trader,
        maker: &Trader,
        market: u16,
        taker_buys: bool,
        price: u64,
        base: u64,
        reduce_only: bool,
    ) -> Result<TxOutcome, TxError> {
        let ixs = self.trade_instructions(taker, maker, market, taker_buys, price, base, reduce_only);
        let filler = self.filler.keypair.clone();
        self.send(ixs, &[&taker.keypair, &maker.keypair, &filler])
    }

    /// Maker order for `maker`, crossing taker order for `taker`, and the fill, in that order.
    #[allow(clippy::too_many_arguments)]
    fn trade_instructions(
        &mut self,
        taker: &Trader,
        maker: &Trader,
        market: u16,
        taker_buys: bool,
        price: u64,
        base: u64,
        reduce_only: bool,
    ) -> Vec<Instruction> {
        let t = self.margin_account(&taker.margin_account).expect("taker account");
        let mk = self.margin_account(&maker.margin_account).expect("maker account");
        let oracles = self.env.oracles_of(market);
        let order =
            |side: u8, reduce_only: bool| PlaceOrderArgs { reduce_only, ..orders::limit(market, side, price, base) };
        let (taker_side, maker_side) = if taker_buys { (BID, ASK) } else { (ASK, BID) };
        let maker_groups = ix::market_groups(&[&mk], Some(market), self.env.oracles());
        let taker_groups = ix::market_groups(&[&t], Some(market), self.env.oracles());
        let fill_groups = ix::market_groups(&[&t, &mk], Some(market), self.env.oracles());
        vec![
            ix::place_order(maker.owner, maker.margin_account, oracles, order(maker_side, false), maker_groups),
            ix::place_order(taker.owner, taker.margin_account, oracles, order(taker_side, reduce_only), taker_groups),
            ix::fill_orders(
                self.filler.owner,
                self.filler.margin_account,
                oracles,
                Fill {
                    market_index: market,
                    taker: taker.margin_account,
                    taker_order_id: t.next_order_id,
                    maker: maker.margin_account,
                    maker_order_id: mk.next_order_id,
                    max_base_amount: base,
                },
                fill_groups,
            ),
        ]
    }
}

/// The world as a `Chain` for the keeper bots: reads through the cache, sends through the bank.
#[derive(Clone)]
pub struct SharedChain(pub Rc<RefCell<World>>);

impl Chain for SharedChain {
    fn clock(&mut self) -> Result<ChainClock, ChainError> {
        Chain::clock(&mut self.0.borrow_mut().env)
    }

    fn account(&mut self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.0.borrow_mut().account_data(key))
    }

    fn program_accounts(&mut self, discriminator: &[u8]) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        let mut world = self.0.borrow_mut();
        let mut keys = vec![pda::exchange()];
        keys.extend(world.env.markets.iter().map(|m| m.address));
        keys.extend(world.env.margin_accounts.iter().copied());
        Ok(keys
            .into_iter()
            .filter_map(|k| world.account_data(&k).filter(|d| d.starts_with(discriminator)).map(|d| (k, d)))
            .collect())
    }

    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), ChainError> {
        let mut world = self.0.borrow_mut();
        world.transactions += 1;
        let world = &mut *world;
        timed(&mut world.chain_seconds, || Chain::send(&mut world.env, ixs, signers))
    }

    fn payer(&self) -> Pubkey {
        Chain::payer(&self.0.borrow().env)
    }
}
