//! One keeper tick: cranks, liquidations, the bankruptcy waterfall, fills. Every action is sized
//! with the program's own functions first, so calls the program would refuse are not sent; a
//! failure on one account is logged and never stops the tick.
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use margin_engine::controller::bankruptcy::loss_market;
use margin_engine::controller::liquidation::LiquidationOutcome;
use margin_engine::error::ErrorCode;
use margin_engine::math::trading::trigger_fired;
use margin_engine::state::margin_account_flags::{BANKRUPT, BEING_LIQUIDATED};
use margin_engine::state::{order_side, order_trigger, MarginAccount, Order};
use margin_engine_sdk::accounts::decode;
use margin_engine_sdk::analytics::{adl_candidates, liquidation_preview};
use margin_engine_sdk::chain::{Chain, ChainError};
use margin_engine_sdk::instructions::{self as ix, Fill, MarketOracles};
use margin_engine_sdk::pda;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::signature::{Keypair, Signer};
use tracing::{debug, info, warn};

use crate::config::KeeperConfig;
use crate::metrics::Metrics;
use crate::view::View;

/// Sends failing on transport in one tick before the tick gives up (and the binary backs off).
pub const SEND_FAILURES_PER_TICK: u32 = 3;

pub struct Keeper<C: Chain> {
    pub chain: C,
    pub config: KeeperConfig,
    signer: Keypair,
    /// The keeper's own margin account: liquidated positions, fees, rewards and bounties land here.
    pub account: Pubkey,
    pub metrics: Metrics,
    start_collateral: Option<i64>,
    send_failures_this_tick: u32,
}

impl<C: Chain> Keeper<C> {
    pub fn new(chain: C, config: KeeperConfig, signer: Keypair) -> Self {
        let account = pda::margin_account(&signer.pubkey(), config.sub_account_id);
        Self {
            chain,
            config,
            signer,
            account,
            metrics: Metrics::default(),
            start_collateral: None,
            send_failures_this_tick: 0,
        }
    }

    /// Creates the keeper's margin account if it does not exist yet.
    pub fn ensure_account(&mut self) -> Result<(), ChainError> {
        if self.chain.account(&self.account)?.is_none() {
            let create =
                ix::create_margin_account(self.chain.payer(), self.signer.pubkey(), self.config.sub_account_id);
            self.send(vec![create])?;
            info!(account = %self.account, "created keeper margin account");
        }
        Ok(())
    }

    fn send(&mut self, ixs: Vec<Instruction>) -> Result<(), ChainError> {
        let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(self.config.compute_unit_limit)];
        if self.config.priority_fee_micro_lamports > 0 {
            all.push(ComputeBudgetInstruction::set_compute_unit_price(self.config.priority_fee_micro_lamports));
        }
        let offset = all.len() as u8;
        self.metrics.transactions_sent += 1;
        all.extend(ixs);
        // Report instruction indexes as the caller numbered them.
        self.chain.send(&all, &[&self.signer]).map_err(|e| match e {
            ChainError::Program { index, code } => ChainError::Program { index: index.saturating_sub(offset), code },
            other => other,
        })
    }

    fn oracles(view: &View, market: u16) -> Option<MarketOracles> {
        let m = view.market(market)?;
        let sb = m.market.oracle.switchboard_feed;
        Some(MarketOracles { pyth: m.pyth, switchboard: (sb != Pubkey::default()).then_some(sb) })
    }

    fn groups(&self, view: &View, accounts: &[&MarginAccount], exclude: u16) -> Vec<AccountMeta> {
        ix::market_groups(accounts, Some(exclude), |i| {
            Self::oracles(view, i).unwrap_or(MarketOracles { pyth: Pubkey::default(), switchboard: None })
        })
    }

    /// One pass over everything. A read that keeps failing on transport aborts the tick (the
    /// caller backs off); every other failure is per action.
    pub fn tick(&mut self) -> Result<(), ChainError> {
        let view = View::load(&mut self.chain, &self.config)?;
        self.tick_on(&view)
    }

    /// One pass over a view loaded by the caller (several bots sharing one snapshot, as competing
    /// liquidators reading the same slot do).
    pub fn tick_on(&mut self, view: &View) -> Result<(), ChainError> {
        self.metrics.ticks += 1;
        self.send_failures_this_tick = 0;
        self.metrics.accounts_tracked = view.accounts.len() as u64;
        let own = view.accounts.iter().find(|(k, _)| *k == self.account).map(|(_, a)| a.collateral);
        if let Some(c) = own {
            let start = *self.start_collateral.get_or_insert(c);
            self.metrics.profit = c - start;
        }
        if self.config.modes.cranks {
            self.cranks(view)?;
        }
        if self.config.modes.liquidator {
            self.liquidations(view)?;
        }
        if self.config.modes.waterfall {
            self.waterfall(view)?;
        }
        if self.config.modes.triggers {
            self.triggers(view)?;
        }
        if self.config.modes.filler {
            self.fills(view)?;
        }
        Ok(())
    }

    /// Sends one action; refusals are counted and logged. A transport error (the send failed or
    /// its confirmation never came) skips this action only: the next tick reads what landed, so
    /// one flaky send does not stop the liquidations after it; `SEND_FAILURES_PER_TICK` of them
    /// end the tick.
    fn attempt(&mut self, what: &str, ixs: Vec<Instruction>) -> Result<Option<ChainError>, ChainError> {
        match self.send(ixs) {
            Ok(()) => Ok(None),
            Err(e) if e.is_transport() => {
                self.metrics.transport_errors += 1;
                self.send_failures_this_tick += 1;
                warn!(what, error = %e, "send failed on transport");
                // The node is down rather than flaky: give up the tick, so the caller backs off
                // instead of running every planned action into the same timeout.
                if self.send_failures_this_tick >= SEND_FAILURES_PER_TICK {
                    return Err(e);
                }
                Ok(Some(e))
            }
            Err(e) => {
                debug!(what, error = %e, "refused");
                Ok(Some(e))
            }
        }
    }

    fn cranks(&mut self, view: &View) -> Result<(), ChainError> {
        for m in &view.markets {
            let index = m.market.market_index;
            let Some(oracles) = Self::oracles(view, index) else { continue };
            if self.attempt("refresh_market", vec![ix::refresh_market(index, oracles)])?.is_none() {
                self.metrics.cranks += 1;
            }
            let due = m.market.last_funding_slot.saturating_add(m.market.risk.funding_period_slots as u64);
            if view.clock.slot >= due
                && self.attempt("update_funding", vec![ix::update_funding(index, oracles)])?.is_none()
            {
                self.metrics.cranks += 1;
            }
        }
        let slot = view.clock.slot;
        for (key, account) in &view.accounts {
            if account.orders.iter().any(|o| !o.is_empty() && o.is_expired(slot))
                && self.attempt("prune", vec![ix::prune_expired_orders(self.signer.pubkey(), *key)])?.is_none()
            {
                self.metrics.cranks += 1;
            }
        }
        Ok(())
    }

    fn liquidations(&mut self, view: &View) -> Result<(), ChainError> {
        for scored in view.scored() {
            let (key, target) = view.accounts[scored.index];
            let scored = *scored;
            if key == self.account || target.has_flag(BANKRUPT) {
                continue;
            }
            // Flagged accounts above maintenance still need stepping to the buffer, so the sorted
            // list cannot be cut at the first healthy account.
            if scored.health.maintenance_health >= 0 && !target.has_flag(BEING_LIQUIDATED) {
                continue;
            }
            // Largest position first.
            let mut positions: Vec<_> = target.active_positions().filter(|p| p.base_amount != 0).copied().collect();
            positions.sort_by_key(|p| std::cmp::Reverse(p.base_amount.unsigned_abs()));
            for position in positions {
                let Some(m) = view.market(position.market_index) else { continue };
                // Liquidation runs in every breaker state (the program values halted markets at the
                // same accepted price), so a halted market is no reason to wait.
                if m.price.is_none() {
                    continue;
                }
                let Some(plan) = liquidation_preview(&target, &m.market, &view.prices, view.clock.slot, u64::MAX)
                else {
                    continue;
                };
                let max_base = match plan.outcome {
                    LiquidationOutcome::Step { step, .. } => step.base,
                    _ => u64::MAX,
                };
                let Some(call) = self.liquidate_call(view, key, &target, position.market_index, max_base) else {
                    continue;
                };
                self.metrics.liquidations_sent += 1;
                match self.attempt("liquidate", vec![call])? {
                    None if plan.outcome == LiquidationOutcome::Bankrupt => {
                        // Marked bankrupt: the fund pays and the position is closed in this same
                        // tick, so it does not float on the fund's money until the next one.
                        let loss = loss_market(&target, &view.prices);
                        if let (true, Ok(market_index)) = (self.config.modes.waterfall, loss) {
                            self.resolve(view, key, &target, market_index)?;
                        }
                        break;
                    }
                    None => {
                        self.metrics.liquidations_landed += 1;
                        if max_base >= position.base_amount.unsigned_abs() {
                            self.metrics.liquidations_full += 1;
                        }
                        info!(target = %key, market = position.market_index, base = max_base, "liquidated");
                        break; // one step per account per slot
                    }
                    Some(e) => {
                        self.metrics.liquidations_failed += 1;
                        // Someone else got there, or next slot; or the send may have landed
                        // unconfirmed: no second step on this account from the same plan.
                        if e.is(ErrorCode::AccountNotLiquidatable)
                            || e.is(ErrorCode::LiquidationThrottled)
                            || e.is_transport()
                        {
                            break;
                        }
                        warn!(target = %key, error = %e, "liquidation refused");
                    }
                }
            }
        }
        Ok(())
    }

    /// The `liquidate` call on `target`'s position in `market_index`, with the market groups of
    /// the target and of the keeper's own account (its health is checked when it takes risk on).
    fn liquidate_call(
        &self,
        view: &View,
        key: Pubkey,
        target: &MarginAccount,
        market_index: u16,
        max_base: u64,
    ) -> Option<Instruction> {
        let oracles = Self::oracles(view, market_index)?;
        let own = view.accounts.iter().find(|(k, _)| *k == self.account).map(|(_, a)| a);
        let mut accounts = vec![target];
        accounts.extend(own);
        let remaining = self.groups(view, &accounts, market_index);
        Some(ix::liquidate(self.signer.pubkey(), self.account, key, market_index, oracles, max_base, remaining))
    }

    /// Asks the fund to pay a bankrupt account's deficit in `market_index`, its loss market
    /// (`loss_market`: the waterfall acts only there). Paid in full (or
    /// prices recovered), the account is liquidatable again at once: its largest position gets a
    /// step now, sized by the program, rather than floating until the next tick. Returns the
    /// refusal, if any.
    fn resolve(
        &mut self,
        view: &View,
        key: Pubkey,
        target: &MarginAccount,
        market_index: u16,
    ) -> Result<Option<ChainError>, ChainError> {
        let Some(oracles) = Self::oracles(view, market_index) else { return Ok(None) };
        let groups = self.groups(view, &[target], market_index);
        let resolve = ix::resolve_bankruptcy(self.signer.pubkey(), self.account, key, market_index, oracles, groups);
        match self.attempt("resolve_bankruptcy", vec![resolve])? {
            None => {
                self.metrics.bankruptcies_resolved += 1;
                info!(target = %key, market = market_index, "bankruptcy resolved by the insurance fund");
            }
            Some(e) => {
                if !e.is(ErrorCode::InsuranceCannotCover) {
                    warn!(target = %key, error = %e, "resolve refused");
                }
                return Ok(Some(e));
            }
        }
        if !self.config.modes.liquidator {
            return Ok(None);
        }
        let largest =
            target.active_positions().filter(|p| p.base_amount != 0).max_by_key(|p| p.base_amount.unsigned_abs());
        let Some(position) = largest.copied() else { return Ok(None) };
        let Some(call) = self.liquidate_call(view, key, target, position.market_index, u64::MAX) else {
            return Ok(None);
        };
        self.metrics.liquidations_sent += 1;
        match self.attempt("liquidate", vec![call])? {
            None => {
                self.metrics.liquidations_landed += 1;
                // Sized by the program: whether it took the whole position shows on chain.
                // A failed read only loses the count of full closes, not the tick.
                let after = self.chain.account(&key).ok().flatten().and_then(|d| decode::<MarginAccount>(&d).ok());
                let left = after.and_then(|a| {
                    a.active_positions().find(|p| p.market_index == position.market_index).map(|p| p.base_amount)
                });
                if left.unwrap_or(0) == 0 {
                    self.metrics.liquidations_full += 1;
                }
                info!(target = %key, market = position.market_index, "liquidated after resolution");
            }
            Some(e) => {
                self.metrics.liquidations_failed += 1;
                debug!(target = %key, error = %e, "liquidation after resolution refused");
            }
        }
        Ok(None)
    }

    fn waterfall(&mut self, view: &View) -> Result<(), ChainError> {
        let bankrupt: Vec<(Pubkey, MarginAccount)> =
            view.accounts.iter().filter(|(_, a)| a.has_flag(BANKRUPT)).copied().collect();
        for (key, target) in bankrupt {
            // The market the program attributes the loss to: the waterfall acts only there.
            let Ok(market_index) = loss_market(&target, &view.prices) else { continue };
            match self.resolve(view, key, &target, market_index)? {
                Some(e) if e.is(ErrorCode::InsuranceCannotCover) => {}
                _ => continue,
            }
            // The fund cannot pay: ADL while the account holds the loss market, else socialise.
            let held = target.active_positions().any(|p| p.market_index == market_index && p.base_amount != 0);
            let Some(oracles) = Self::oracles(view, market_index) else { continue };
            let groups = self.groups(view, &[&target], market_index);
            if held {
                let candidates = self.rank_adl(view, &target, market_index);
                if candidates.is_empty() {
                    warn!(target = %key, market = market_index, "no ADL candidate");
                    continue;
                }
                let call = ix::auto_deleverage(self.signer.pubkey(), key, market_index, oracles, &candidates, groups);
                match self.attempt("auto_deleverage", vec![call])? {
                    None => {
                        self.metrics.adl_batches += 1;
                        info!(target = %key, market = market_index, candidates = candidates.len(), "auto-deleveraged");
                    }
                    Some(e) => warn!(target = %key, error = %e, "ADL refused"),
                }
            } else if target.collateral < 0 {
                match self
                    .attempt("socialize_loss", vec![ix::socialize_loss(self.signer.pubkey(), key, market_index)])?
                {
                    None => {
                        self.metrics.losses_socialized += 1;
                        info!(target = %key, loss = -target.collateral, "loss socialised");
                    }
                    Some(e) => warn!(target = %key, error = %e, "socialisation refused"),
                }
            }
        }
        Ok(())
    }

    /// Accounts the program would accept as ADL candidates (`controller::adl::candidate_score`,
    /// the program's own rule), highest score first, enough to cover the position.
    fn rank_adl(&self, view: &View, target: &MarginAccount, market_index: u16) -> Vec<Pubkey> {
        let Some(market) = view.market(market_index) else { return vec![] };
        adl_candidates(target, &view.accounts, &market.market, &view.prices, self.config.adl_batch)
    }

    /// Matches the best crossing bid and ask of each market (different owners; a post-only order
    /// only makes, a market order only takes).
    fn fills(&mut self, view: &View) -> Result<(), ChainError> {
        for m in &view.markets {
            let index = m.market.market_index;
            let Some(oracles) = Self::oracles(view, index) else { continue };
            let Some(book) = Book::of(view, index) else { continue };
            let pair = book.bids.iter().flat_map(|b| book.asks.iter().map(move |a| (b, a))).find_map(|(b, a)| {
                if b.price < a.price || b.owner == a.owner {
                    return None;
                }
                if !b.order.is_post_only() && a.order.can_make() {
                    Some((b, a))
                } else if !a.order.is_post_only() && b.order.can_make() {
                    Some((a, b))
                } else {
                    None
                }
            });
            let Some((taker, maker)) = pair else { continue };
            let call = self.fill_call(view, oracles, (taker.key, taker.order.order_id), maker);
            if self.attempt("fill_orders", vec![call])?.is_none() {
                self.metrics.fills += 1;
            }
        }
        Ok(())
    }

    /// `fill_orders` of the taker order `taker` (account, order id) against `maker`.
    fn fill_call(&self, view: &View, oracles: MarketOracles, taker: (Pubkey, u64), maker: &Resting) -> Instruction {
        let index = maker.order.market_index;
        let fill = Fill {
            market_index: index,
            taker: taker.0,
            taker_order_id: taker.1,
            maker: maker.key,
            maker_order_id: maker.order.order_id,
            max_base_amount: u64::MAX,
        };
        let t = view.accounts.iter().find(|(k, _)| *k == taker.0).map(|(_, a)| *a).unwrap();
        let mk = view.accounts.iter().find(|(k, _)| *k == maker.key).map(|(_, a)| *a).unwrap();
        let remaining = self.groups(view, &[&t, &mk], index);
        ix::fill_orders(self.signer.pubkey(), self.account, oracles, fill, remaining)
    }

    /// Fires every trigger order the oracle has reached, furthest past its trigger first (the
    /// stop that is losing its owner the most), each with a fill against the best crossing
    /// resting order in the same transaction when the book has one (else it waits for a filler).
    fn triggers(&mut self, view: &View) -> Result<(), ChainError> {
        let slot = view.clock.slot;
        let mut due = vec![];
        for (key, account) in &view.accounts {
            if *key == self.account || account.has_flag(BANKRUPT) {
                continue;
            }
            for o in account.orders.iter().filter(|o| !o.is_empty() && o.is_untriggered() && !o.is_expired(slot)) {
                let Some(price) = view.market(o.market_index).and_then(|m| m.price) else { continue };
                if trigger_fired(o.trigger, o.trigger_price, price) {
                    let past = price.abs_diff(o.trigger_price) as u128 * 1_000_000 / o.trigger_price.max(1) as u128;
                    due.push((past, *key, *o, account.owner));
                }
            }
        }
        due.sort_by(|a, b| b.0.cmp(&a.0));
        // Each market's book once per tick, not once per due order (it scans every account).
        let mut books: Vec<(u16, Option<Book>)> = vec![];
        for (_, key, order, owner) in due {
            let index = order.market_index;
            let Some(oracles) = Self::oracles(view, index) else { continue };
            let fire = ix::trigger_order(self.signer.pubkey(), self.account, key, index, oracles, order.order_id);
            let fired = Order { trigger: order_trigger::NONE, ..order };
            if !books.iter().any(|(i, _)| *i == index) {
                books.push((index, Book::of(view, index)));
            }
            let book = books.iter().find(|(i, _)| *i == index).and_then(|(_, b)| b.as_ref());
            let maker = book.and_then(|book| book.best_maker_for(&fired, owner).copied());
            let mut refused = true;
            if let Some(maker) = maker {
                let fill = self.fill_call(view, oracles, (key, order.order_id), &maker);
                refused = self.attempt("trigger_order+fill", vec![fire.clone(), fill])?.is_some();
                if !refused {
                    self.metrics.fills += 1;
                }
            }
            // No maker, or the fill was refused (the maker moved): fire it alone.
            if refused {
                refused = self.attempt("trigger_order", vec![fire])?.is_some();
            }
            if !refused {
                self.metrics.triggers += 1;
            }
        }
        Ok(())
    }
}

/// A resting order the keeper could match: its account, owner and limit price at the oracle.
#[derive(Clone, Copy, Debug)]
struct Resting {
    key: Pubkey,
    owner: Pubkey,
    order: Order,
    price: u64,
}

/// One market's live orders (fired, unexpired), best first on each side, priced at the oracle
/// (pegged orders move with it) by the program's own `Order::limit_price`.
struct Book {
    bids: Vec<Resting>,
    asks: Vec<Resting>,
}

impl Book {
    fn of(view: &View, index: u16) -> Option<Self> {
        let m = view.market(index)?;
        let oracle = m.price?;
        let slot = view.clock.slot;
        let (mut bids, mut asks) = (vec![], vec![]);
        for (key, account) in &view.accounts {
            if account.has_flag(BANKRUPT) {
                continue;
            }
            let live = account
                .orders
                .iter()
                .filter(|o| !o.is_empty() && o.market_index == index && !o.is_expired(slot) && !o.is_untriggered());
            let held = account.position_index(index).map_or(0, |p| account.positions[p].base_amount);
            for o in live {
                // A reduce-only order with nothing to reduce can never fill: it is no liquidity.
                if o.has_nothing_to_reduce(held) {
                    continue;
                }
                let Some(price) = o.limit_price(oracle, m.market.risk.tick_size) else { continue };
                let r = Resting { key: *key, owner: account.owner, order: *o, price };
                if o.side == order_side::BID {
                    bids.push(r)
                } else {
                    asks.push(r)
                }
            }
        }
        bids.sort_by(|a, b| b.price.cmp(&a.price));
        asks.sort_by(|a, b| a.price.cmp(&b.price));
        Some(Self { bids, asks })
    }

    /// The best resting order `taker` (of `owner`) crosses and may take from.
    fn best_maker_for(&self, taker: &Order, owner: Pubkey) -> Option<&Resting> {
        let limit = taker.price;
        let makers = if taker.side == order_side::BID { &self.asks } else { &self.bids };
        makers.iter().filter(|r| r.owner != owner && r.order.can_make()).find(|r| {
            if taker.side == order_side::BID {
                limit >= r.price
            } else {
                r.price >= limit
            }
        })
    }
}
