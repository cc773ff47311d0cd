//! `TestEnv`: a running exchange on some backend, plus helpers that build instructions with the
//! SDK and convert them to raw bytes.
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::{AccountDeserialize, AccountSerialize};
use anchor_spl::token::spl_token;
use margin_engine::state::{Exchange, MarginAccount, Market, OracleConfig, RiskParams};
use margin_engine_sdk::instructions::{self as ix, MarketOracles};
use margin_engine_sdk::{accounts as decode, pda};
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
use solana_sdk::signature::Keypair;

use crate::backend::*;

pub const USDC: u64 = 1_000_000;
pub const BASE: i64 = 1_000_000_000;
const RENT_EXEMPT_LAMPORTS: u64 = 10_000_000;
const SLOT_SECONDS: i64 = 1;
const PYTH_EXPONENT: i32 = -8;
pub const INSURANCE_COOLDOWN_SLOTS: u64 = 1_000;
pub const INSURANCE_REVENUE_FLOOR: u64 = 100 * USDC;
pub const RISK_TIMELOCK_SLOTS: u64 = 500;

pub fn new_keypair() -> RawKeypair {
    RawKeypair(Keypair::new().to_bytes())
}

pub fn key(k: &RawKeypair) -> Pubkey {
    Pubkey::new_from_array(k.pubkey())
}

pub fn raw(ix: Instruction) -> RawInstruction {
    RawInstruction {
        program_id: ix.program_id.to_bytes(),
        accounts: ix
            .accounts
            .iter()
            .map(|m| RawMeta { pubkey: m.pubkey.to_bytes(), is_signer: m.is_signer, is_writable: m.is_writable })
            .collect(),
        data: ix.data,
    }
}

/// The code a program error of ours surfaces as.
pub fn program_error(code: margin_engine::error::ErrorCode) -> TxError {
    TxError::Custom { index: 0, code: anchor_lang::error::ERROR_CODE_OFFSET + code as u32 }
}

/// The code one of Anchor's own errors surfaces as.
pub fn anchor_error(code: anchor_lang::error::ErrorCode) -> TxError {
    TxError::Custom { index: 0, code: code as u32 }
}

/// Default risk parameters for a test market: 10% initial, 5% maintenance.
/// Fees: taker 0.10%, maker 0.02%; a quarter of fees to insurance, a tenth to the filler.
pub fn default_risk() -> RiskParams {
    RiskParams {
        max_open_interest: 1_000_000 * BASE as u64,
        min_order_size: BASE as u64 / 100,
        tick_size: 1_000,
        step_size: BASE as u64 / 100,
        initial_margin_ratio: 100_000,
        maintenance_margin_ratio: 50_000,
        size_premium_factor: 0,
        liquidation_fee: 10_000,
        insurance_fee: 5_000,
        pnl_initial_haircut: 0,
        liquidation_buffer: 20_000,
        taker_fee: 1_000,
        maker_fee: 200,
        fee_insurance_share: 250_000,
        filler_reward_share: 100_000,
        fill_price_band: 50_000,
        funding_period_slots: 3_600,
        max_funding_rate: 10_000,
        liquidation_throttle_initial: 250_000,
        liquidation_throttle_per_slot: 25_000,
        insurance_draw_cap: 10_000 * USDC,
        insurance_draw_period_slots: 10_000,
        adl_min_score: 0,
        adl_price_band: 100_000,
        breaker_soft_band: 150_000,
        breaker_hard_band: 400_000,
        breaker_window_slots: 150,
        breaker_cooldown_slots: 60,
        oracle_divergence_limit: 200_000,
        insurance_drawdown_limit: 1_000_000,
        // σ² per slot the ratios are calibrated for: 22,500 ppm² ≈ 7% a day at 400 ms slots,
        // 1.5x a calm 4.6%-a-day market, so calm noise never lifts margin.
        vol_reference_variance: 22_500,
        // 10 minutes against a day.
        vol_short_half_life_slots: 1_500,
        vol_long_half_life_slots: 216_000,
        // Volatility adjustment off by default so other tests keep hand-checked numbers;
        // `volatility_risk()` switches it on.
        vol_max_multiplier: 1_000_000,
        vol_decay_per_slot: 50,
        vol_maintenance_rise_per_slot: 20,
        regime_enter_ratio: 2_000_000,
        regime_exit_ratio: 1_500_000,
        regime_jump: 50_000,
        regime_min_slots: 1_500,
        stressed_initial_addon: 0,
        // Partial liquidation stops at maintenance + buffer, so hand-checked numbers hold.
        liquidation_initial_share: 0,
        stressed_liquidation_initial_share: 0,
    }
}

/// `default_risk` with volatility-adjusted margin on: up to 3x, a 5% initial add-on when STRESSED.
pub fn volatility_risk() -> RiskParams {
    RiskParams { vol_max_multiplier: 3_000_000, stressed_initial_addon: 50_000, ..default_risk() }
}

/// Order options beyond side, price and size.
#[derive(Clone, Copy, Debug, Default)]
pub struct OrderOpts {
    pub reduce_only: bool,
    pub post_only: bool,
    pub expiry_slot: u64,
    pub client_order_id: u64,
    /// `order_kind` (default LIMIT), `order_trigger` (default NONE) and their prices.
    pub kind: u8,
    pub trigger: u8,
    pub trigger_price: u64,
    pub peg_offset: i64,
}

pub const BID: u8 = margin_engine::state::order_side::BID;
pub const ASK: u8 = margin_engine::state::order_side::ASK;

/// The bytes of a Pyth `PriceUpdateV2` account for `feed_id` at `price_1e6` (stored with
/// exponent -8, as most Pyth crypto feeds are), EMA equal to the price.
pub fn pyth_update_bytes(
    feed_id: [u8; 32],
    price_1e6: i64,
    conf_1e6: u64,
    posted_slot: u64,
    publish_time: i64,
    verification_level: VerificationLevel,
) -> Vec<u8> {
    let update = PriceUpdateV2 {
        write_authority: Pubkey::new_unique(),
        verification_level,
        price_message: PriceFeedMessage {
            feed_id,
            price: price_1e6 * 100,
            conf: conf_1e6 * 100,
            exponent: PYTH_EXPONENT,
            publish_time,
            prev_publish_time: publish_time - 1,
            ema_price: price_1e6 * 100,
            ema_conf: conf_1e6 * 100,
        },
        posted_slot,
    };
    let mut data = Vec::with_capacity(PriceUpdateV2::LEN);
    update.try_serialize(&mut data).unwrap();
    data.resize(PriceUpdateV2::LEN, 0);
    data
}

pub fn default_oracle_config(feed_id: [u8; 32]) -> OracleConfig {
    OracleConfig {
        pyth_feed_id: feed_id,
        switchboard_feed: Pubkey::default(),
        max_staleness_slots_margin: 120,
        max_staleness_slots_trading: 25,
        max_staleness_seconds: 120,
        max_confidence_ratio: 20_000,
        max_age_seconds_liquidation: 600,
        fallback_max_divergence: 200_000,
    }
}

pub fn market_name(s: &str) -> [u8; 16] {
    let mut name = [0u8; 16];
    name[..s.len()].copy_from_slice(s.as_bytes());
    name
}

#[derive(Clone, Copy, Debug)]
pub struct MarketHandle {
    pub index: u16,
    pub address: Pubkey,
    pub pyth: Pubkey,
    pub feed_id: [u8; 32],
    pub switchboard: Option<Pubkey>,
}

#[derive(Clone)]
pub struct Trader {
    pub keypair: RawKeypair,
    pub owner: Pubkey,
    pub token_account: Pubkey,
    pub margin_account: Pubkey,
}

pub struct TestEnv<B: Backend> {
    pub backend: B,
    pub payer: RawKeypair,
    pub governance: RawKeypair,
    pub guardian: RawKeypair,
    pub collateral_mint: Pubkey,
    pub markets: Vec<MarketHandle>,
    /// Every margin account this env created (the conservation check sums them).
    pub margin_accounts: Vec<Pubkey>,
    /// When `Some`, every account this env may have changed (writable accounts of each sent
    /// transaction, accounts written directly) is appended, so a caller caching account data can
    /// drop exactly those entries (`track_writes`, `take_written`).
    pub written: Option<Vec<Pubkey>>,
    /// Oracle validity policy for markets created from now on (feed and fallback filled in per
    /// market); `None`: `default_oracle_config`.
    pub oracle_policy: Option<OracleConfig>,
}

impl<B: Backend> TestEnv<B> {
    /// A chain with only a 6-decimal collateral mint: no exchange yet (for bootstrap tests).
    pub fn without_exchange(backend: B) -> Self {
        let payer = backend.payer();
        let collateral_mint = Pubkey::new_unique();
        let mut env = Self {
            backend,
            payer,
            governance: new_keypair(),
            guardian: new_keypair(),
            collateral_mint,
            markets: vec![],
            margin_accounts: vec![],
            written: None,
            oracle_policy: None,
        };
        env.write_mint(collateral_mint, 6);
        env.write_program_data();
        env
    }

    /// The program's ProgramData header naming the payer as upgrade authority: the chains here
    /// load the program non-upgradeably, and `initialize_exchange` only runs for the upgrade
    /// authority.
    pub fn write_program_data(&mut self) {
        let authority = Pubkey::new_from_array(self.payer.pubkey());
        self.set_raw(
            pda::program_data(),
            pda::program_data_header(Some(authority)),
            anchor_lang::solana_program::bpf_loader_upgradeable::ID,
        );
    }

    /// Boots an exchange with a 6-decimal collateral mint and no markets.
    pub fn new(backend: B) -> Self {
        Self::with_unstake_cooldown(backend, INSURANCE_COOLDOWN_SLOTS)
    }

    /// As `new`, with the insurance unstake cooldown given (the stress harness runs the
    /// production value).
    pub fn with_unstake_cooldown(backend: B, insurance_unstake_cooldown_slots: u64) -> Self {
        let payer = backend.payer();
        let governance = new_keypair();
        let guardian = new_keypair();
        let collateral_mint = Pubkey::new_unique();
        let mut env = Self {
            backend,
            payer,
            governance,
            guardian,
            collateral_mint,
            markets: vec![],
            margin_accounts: vec![],
            written: None,
            oracle_policy: None,
        };
        env.write_mint(collateral_mint, 6);
        env.write_program_data();
        let config = margin_engine::instructions::ExchangeConfig {
            guardian: key(&env.guardian),
            insurance_unstake_cooldown_slots,
            insurance_revenue_floor: INSURANCE_REVENUE_FLOOR,
            risk_timelock_slots: RISK_TIMELOCK_SLOTS,
        };
        let init = ix::initialize_exchange(key(&env.payer), key(&env.governance), collateral_mint, config);
        let governance = env.governance.clone();
        env.send(init, &[&governance]).expect("initialize_exchange");
        env
    }

    pub fn send(&mut self, ix: Instruction, signers: &[&RawKeypair]) -> Result<TxOutcome, TxError> {
        self.send_all(vec![ix], signers)
    }

    pub fn send_all(&mut self, ixs: Vec<Instruction>, signers: &[&RawKeypair]) -> Result<TxOutcome, TxError> {
        self.note_writes(&ixs);
        let raws: Vec<RawInstruction> = ixs.into_iter().map(raw).collect();
        let payer = self.payer.clone();
        self.backend.send(&raws, &payer, signers)
    }

    /// Starts recording the accounts this env may change (see `written`).
    pub fn track_writes(&mut self) {
        self.written.get_or_insert_with(Vec::new);
    }

    /// The accounts recorded since the last call (empty when not tracking).
    pub fn take_written(&mut self) -> Vec<Pubkey> {
        self.written.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(crate) fn note_writes(&mut self, ixs: &[Instruction]) {
        if let Some(written) = self.written.as_mut() {
            written.extend(ixs.iter().flat_map(|ix| ix.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey)));
        }
    }

    // ---- chain state helpers ----

    pub fn write_mint(&mut self, address: Pubkey, decimals: u8) {
        let mint = spl_token::state::Mint {
            mint_authority: Some(Pubkey::new_unique()).into(),
            supply: u64::MAX / 2,
            decimals,
            is_initialized: true,
            freeze_authority: None.into(),
        };
        let mut data = vec![0u8; spl_token::state::Mint::LEN];
        spl_token::state::Mint::pack(mint, &mut data).unwrap();
        self.set_raw(address, data, spl_token::ID);
    }

    /// Creates (or overwrites) a token account with `amount` of `mint`, owned by `owner`.
    pub fn write_token_account(&mut self, address: Pubkey, mint: Pubkey, owner: Pubkey, amount: u64) {
        let account = spl_token::state::Account {
            mint,
            owner,
            amount,
            delegate: None.into(),
            state: spl_token::state::AccountState::Initialized,
            is_native: None.into(),
            delegated_amount: 0,
            close_authority: None.into(),
        };
        let mut data = vec![0u8; spl_token::state::Account::LEN];
        spl_token::state::Account::pack(account, &mut data).unwrap();
        self.set_raw(address, data, spl_token::ID);
    }

    pub fn set_raw(&mut self, address: Pubkey, data: Vec<u8>, owner: Pubkey) {
        if let Some(written) = self.written.as_mut() {
            written.push(address);
        }
        self.backend.set_account(
            &address.to_bytes(),
            RawAccount { lamports: RENT_EXEMPT_LAMPORTS, data, owner: owner.to_bytes(), executable: false },
        );
    }

    pub fn token_balance(&mut self, address: Pubkey) -> u64 {
        let account = self.backend.account(&address.to_bytes()).expect("token account exists");
        spl_token::state::Account::unpack(&account.data).unwrap().amount
    }

    pub fn account_exists(&mut self, address: Pubkey) -> bool {
        self.backend.account(&address.to_bytes()).is_some_and(|a| a.lamports > 0)
    }

    pub fn raw_data(&mut self, address: Pubkey) -> Vec<u8> {
        self.backend.account(&address.to_bytes()).expect("account exists").data
    }

    pub fn exchange(&mut self) -> Exchange {
        decode::exchange(&self.raw_data(pda::exchange())).unwrap()
    }

    pub fn market(&mut self, index: u16) -> Market {
        decode::market(&self.raw_data(pda::market(index))).unwrap()
    }

    pub fn margin_account(&mut self, address: Pubkey) -> MarginAccount {
        decode::margin_account(&self.raw_data(address)).unwrap()
    }

    pub fn slot(&mut self) -> u64 {
        self.backend.clock().slot
    }

    /// Advances `slots` slots, one second each.
    pub fn advance_slots(&mut self, slots: u64) {
        let clock = self.backend.clock();
        self.backend.warp(clock.slot + slots, clock.unix_timestamp + slots as i64 * SLOT_SECONDS);
    }

    // ---- oracles ----

    /// Writes a fully verified Pyth update for `feed_id` published now.
    pub fn write_pyth(&mut self, address: Pubkey, feed_id: [u8; 32], price_1e6: i64, conf_1e6: u64) {
        let clock = self.backend.clock();
        self.write_pyth_full(
            address,
            feed_id,
            price_1e6,
            conf_1e6,
            clock.slot,
            clock.unix_timestamp,
            VerificationLevel::Full,
        );
    }

    /// A fresh Pyth update whose EMA differs from its price (a suspect oracle).
    pub fn write_pyth_with_ema(&mut self, market: u16, price_1e6: i64, ema_1e6: i64) {
        let m = self.markets[market as usize];
        self.write_pyth(m.pyth, m.feed_id, price_1e6, 0);
        let mut update = PriceUpdateV2::try_deserialize(&mut &self.raw_data(m.pyth)[..]).unwrap();
        update.price_message.ema_price = ema_1e6 * 100;
        let mut data = Vec::with_capacity(PriceUpdateV2::LEN);
        update.try_serialize(&mut data).unwrap();
        data.resize(PriceUpdateV2::LEN, 0);
        self.set_raw(m.pyth, data, pyth_solana_receiver_sdk::ID);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn write_pyth_full(
        &mut self,
        address: Pubkey,
        feed_id: [u8; 32],
        price_1e6: i64,
        conf_1e6: u64,
        posted_slot: u64,
        publish_time: i64,
        verification_level: VerificationLevel,
    ) {
        let data = pyth_update_bytes(feed_id, price_1e6, conf_1e6, posted_slot, publish_time, verification_level);
        self.set_raw(address, data, pyth_solana_receiver_sdk::ID);
    }

    /// Writes a Switchboard On-Demand pull feed whose current result is `price_1e6`, now.
    pub fn write_switchboard(&mut self, address: Pubkey, price_1e6: i64, std_dev_1e6: i64) {
        use switchboard_on_demand::on_demand::accounts::pull_feed::PullFeedAccountData;
        let clock = self.backend.clock();
        let mut feed: Box<PullFeedAccountData> = Box::new(bytemuck::Zeroable::zeroed());
        feed.result.value = price_1e6 as i128 * 1_000_000_000_000;
        feed.result.std_dev = std_dev_1e6 as i128 * 1_000_000_000_000;
        feed.result.slot = clock.slot;
        feed.last_update_timestamp = clock.unix_timestamp;
        let mut data = <PullFeedAccountData as switchboard_on_demand::Discriminator>::DISCRIMINATOR.to_vec();
        data.extend_from_slice(bytemuck::bytes_of(feed.as_ref()));
        self.set_raw(address, data, margin_engine::constants::SWITCHBOARD_ON_DEMAND_PROGRAM_ID);
    }

    pub fn set_price(&mut self, market: u16, price_1e6: i64) {
        let m = self.markets[market as usize];
        self.write_pyth(m.pyth, m.feed_id, price_1e6, 0);
    }

    // ---- exchange setup ----

    pub fn add_market(&mut self, name: &str, price_1e6: i64, risk: RiskParams) -> MarketHandle {
        self.add_market_with_oracle(name, price_1e6, risk, false)
    }

    pub fn add_market_with_oracle(
        &mut self,
        name: &str,
        price_1e6: i64,
        risk: RiskParams,
        with_switchboard: bool,
    ) -> MarketHandle {
        let index = self.markets.len() as u16;
        let feed_id = [index as u8 + 1; 32];
        let pyth = Pubkey::new_unique();
        self.write_pyth(pyth, feed_id, price_1e6, 0);
        let switchboard = with_switchboard.then(Pubkey::new_unique);
        if let Some(sb) = switchboard {
            self.write_switchboard(sb, price_1e6, 0);
        }
        self.create_market(name, pyth, feed_id, switchboard, risk)
    }

    /// A market on a Pyth account that already exists (preloaded, or written by a test), with
    /// a fresh update at `price_1e6` written over it first.
    pub fn add_market_on_oracle(
        &mut self,
        name: &str,
        pyth: Pubkey,
        feed_id: [u8; 32],
        price_1e6: i64,
        risk: RiskParams,
    ) -> MarketHandle {
        self.write_pyth(pyth, feed_id, price_1e6, 0);
        self.create_market(name, pyth, feed_id, None, risk)
    }

    fn create_market(
        &mut self,
        name: &str,
        pyth: Pubkey,
        feed_id: [u8; 32],
        switchboard: Option<Pubkey>,
        risk: RiskParams,
    ) -> MarketHandle {
        let index = self.markets.len() as u16;
        let mut oracle = match self.oracle_policy {
            Some(policy) => OracleConfig { pyth_feed_id: feed_id, switchboard_feed: Pubkey::default(), ..policy },
            None => default_oracle_config(feed_id),
        };
        if let Some(sb) = switchboard {
            oracle.switchboard_feed = sb;
        }
        let create = ix::create_market(key(&self.payer), key(&self.governance), index, market_name(name), oracle, risk);
        let governance = self.governance.clone();
        self.send(create, &[&governance]).expect("create_market");
        let handle = MarketHandle { index, address: pda::market(index), pyth, feed_id, switchboard };
        self.markets.push(handle);
        handle
    }

    /// A trader with `wallet_usdc` collateral tokens in a wallet and an empty margin account 0.
    pub fn new_trader(&mut self, wallet_usdc: u64) -> Trader {
        let keypair = new_keypair();
        let owner = key(&keypair);
        let token_account = Pubkey::new_unique();
        self.write_token_account(token_account, self.collateral_mint, owner, wallet_usdc);
        let create = ix::create_margin_account(key(&self.payer), owner, 0);
        self.send(create, &[&keypair]).expect("create_margin_account");
        let margin_account = pda::margin_account(&owner, 0);
        self.margin_accounts.push(margin_account);
        Trader { keypair, owner, token_account, margin_account }
    }

    pub fn deposit(&mut self, trader: &Trader, amount: u64) -> Result<TxOutcome, TxError> {
        let ix = ix::deposit(trader.owner, trader.margin_account, trader.token_account, amount);
        self.send(ix, &[&trader.keypair])
    }

    /// Oracle accounts of each market this env created.
    pub fn oracles(&self) -> impl Fn(u16) -> MarketOracles + '_ {
        |index| {
            let m = self.markets[index as usize];
            MarketOracles { pyth: m.pyth, switchboard: m.switchboard }
        }
    }

    pub fn health_accounts(&mut self, margin_account: Pubkey) -> Vec<AccountMeta> {
        let account = self.margin_account(margin_account);
        ix::health_accounts(&account, self.oracles())
    }

    pub fn withdraw(&mut self, trader: &Trader, amount: u64) -> Result<TxOutcome, TxError> {
        let remaining = self.health_accounts(trader.margin_account);
        let ix = ix::withdraw(trader.owner, trader.margin_account, trader.token_account, amount, remaining);
        self.send(ix, &[&trader.keypair])
    }

    // ---- trading ----

    pub fn oracles_of(&self, market: u16) -> MarketOracles {
        (self.oracles())(market)
    }

    /// Places an order by the trader (or `signer` if given, e.g. a delegate); returns its id.
    pub fn place_order_as(
        &mut self,
        trader: &Trader,
        signer: &RawKeypair,
        market: u16,
        side: u8,
        price: u64,
        base_amount: u64,
        opts: OrderOpts,
    ) -> Result<u64, TxError> {
        let account = self.margin_account(trader.margin_account);
        let remaining = ix::market_groups(&[&account], Some(market), self.oracles());
        let args = margin_engine::instructions::PlaceOrderArgs {
            market_index: market,
            side,
            price,
            base_amount,
            reduce_only: opts.reduce_only,
            post_only: opts.post_only,
            expiry_slot: opts.expiry_slot,
            client_order_id: opts.client_order_id,
            kind: opts.kind,
            trigger: opts.trigger,
            trigger_price: opts.trigger_price,
            peg_offset: opts.peg_offset,
        };
        let ix = ix::place_order(key(signer), trader.margin_account, self.oracles_of(market), args, remaining);
        self.send(ix, &[signer])?;
        Ok(self.margin_account(trader.margin_account).next_order_id - 1)
    }

    /// Places an order built by the SDK (`margin_engine_sdk::orders`) for the trader.
    pub fn place(
        &mut self,
        trader: &Trader,
        args: margin_engine::instructions::PlaceOrderArgs,
    ) -> Result<u64, TxError> {
        let opts = OrderOpts {
            reduce_only: args.reduce_only,
            post_only: args.post_only,
            expiry_slot: args.expiry_slot,
            client_order_id: args.client_order_id,
            kind: args.kind,
            trigger: args.trigger,
            trigger_price: args.trigger_price,
            peg_offset: args.peg_offset,
        };
        self.place_order(trader, args.market_index, args.side, args.price, args.base_amount, opts)
    }

    pub fn place_order(
        &mut self,
        trader: &Trader,
        market: u16,
        side: u8,
        price: u64,
        base_amount: u64,
        opts: OrderOpts,
    ) -> Result<u64, TxError> {
        let signer = trader.keypair.clone();
        self.place_order_as(trader, &signer, market, side, price, base_amount, opts)
    }

    /// `place_and_take` by the trader against `makers` (one margin account per
    /// `args.maker_order_ids` entry), market groups of every account involved included.
    pub fn place_and_take(
        &mut self,
        trader: &Trader,
        args: margin_engine::instructions::PlaceAndTakeArgs,
        makers: &[Pubkey],
    ) -> Result<TxOutcome, TxError> {
        let ix = self.place_and_take_instruction(trader, args, makers);
        self.send(ix, &[&trader.keypair])
    }

    pub fn place_and_take_instruction(
        &mut self,
        trader: &Trader,
        args: margin_engine::instructions::PlaceAndTakeArgs,
        makers: &[Pubkey],
    ) -> Instruction {
        let mut accounts = vec![self.margin_account(trader.margin_account)];
        for m in makers {
            accounts.push(self.margin_account(*m));
        }
        let refs: Vec<&MarginAccount> = accounts.iter().collect();
        let market = args.order.market_index;
        let groups = ix::market_groups(&refs, Some(market), self.oracles());
        ix::place_and_take(trader.owner, trader.margin_account, self.oracles_of(market), args, makers, groups)
    }

    /// `trigger_order` by `keeper` (fee to its margin account) on `target`'s order.
    pub fn trigger_order(&mut self, keeper: &Trader, target: &Trader, order_id: u64) -> Result<TxOutcome, TxError> {
        let account = self.margin_account(target.margin_account);
        let market =
            account.orders.iter().find(|o| !o.is_empty() && o.order_id == order_id).map_or(0, |o| o.market_index);
        let ix = ix::trigger_order(
            keeper.owner,
            keeper.margin_account,
            target.margin_account,
            market,
            self.oracles_of(market),
            order_id,
        );
        self.send(ix, &[&keeper.keypair])
    }

    pub fn fill(&mut self, filler: &Trader, fill: ix::Fill) -> Result<TxOutcome, TxError> {
        let ix = self.fill_instruction(filler, fill);
        self.send(ix, &[&filler.keypair])
    }

    /// The `fill_orders` instruction `fill` sends, remaining accounts included.
    pub fn fill_instruction(&mut self, filler: &Trader, fill: ix::Fill) -> Instruction {
        let taker = self.margin_account(fill.taker);
        let maker = self.margin_account(fill.maker);
        let remaining = ix::market_groups(&[&taker, &maker], Some(fill.market_index), self.oracles());
        ix::fill_orders(filler.owner, filler.margin_account, self.oracles_of(fill.market_index), fill, remaining)
    }

    /// Places a maker order for `maker` and a crossing taker order for `taker`, then fills them.
    /// Returns (taker order id, maker order id).
    #[allow(clippy::too_many_arguments)]
    pub fn trade(
        &mut self,
        filler: &Trader,
        taker: &Trader,
        maker: &Trader,
        market: u16,
        taker_side: u8,
        price: u64,
        base_amount: u64,
    ) -> Result<(u64, u64), TxError> {
        let maker_side = if taker_side == BID { ASK } else { BID };
        let maker_id = self.place_order(maker, market, maker_side, price, base_amount, OrderOpts::default())?;
        let taker_id = self.place_order(taker, market, taker_side, price, base_amount, OrderOpts::default())?;
        self.fill(
            filler,
            ix::Fill {
                market_index: market,
                taker: taker.margin_account,
                taker_order_id: taker_id,
                maker: maker.margin_account,
                maker_order_id: maker_id,
                max_base_amount: base_amount,
            },
        )?;
        Ok((taker_id, maker_id))
    }

    pub fn liquidate(
        &mut self,
        liquidator: &Trader,
        target: &Trader,
        market: u16,
        max_base: u64,
    ) -> Result<TxOutcome, TxError> {
        let oracles = self.oracles_of(market);
        let ix = self.liquidate_instruction(liquidator, target, market, oracles, max_base);
        self.send(ix, &[&liquidator.keypair])
    }

    /// The `liquidate` instruction `liquidate` sends, remaining accounts included, reading the
    /// market's price from `oracles` (a test may pass accounts of its own).
    pub fn liquidate_instruction(
        &mut self,
        liquidator: &Trader,
        target: &Trader,
        market: u16,
        oracles: MarketOracles,
        max_base: u64,
    ) -> Instruction {
        let t = self.margin_account(target.margin_account);
        let l = self.margin_account(liquidator.margin_account);
        let remaining = ix::market_groups(&[&t, &l], Some(market), self.oracles());
        ix::liquidate(
            liquidator.owner,
            liquidator.margin_account,
            target.margin_account,
            market,
            oracles,
            max_base,
            remaining,
        )
    }

    /// The program's own price cache built from decoded markets at the given prices.
    pub fn price_cache(&mut self, prices: &[(u16, u64)]) -> margin_engine::health::PriceCache {
        let mut cache = margin_engine::health::PriceCache::new();
        for &(index, price) in prices {
            let market = self.market(index);
            cache.insert(margin_engine::health::MarketSnapshot::at_hypothetical_price(&market, price)).unwrap();
        }
        cache
    }

    pub fn resolve_bankruptcy(&mut self, keeper: &Trader, target: &Trader, market: u16) -> Result<TxOutcome, TxError> {
        let t = self.margin_account(target.margin_account);
        let remaining = ix::market_groups(&[&t], Some(market), self.oracles());
        let ix = ix::resolve_bankruptcy(
            keeper.owner,
            keeper.margin_account,
            target.margin_account,
            market,
            self.oracles_of(market),
            remaining,
        );
        self.send(ix, &[&keeper.keypair])
    }

    pub fn auto_deleverage(
        &mut self,
        keeper: &Trader,
        target: &Trader,
        market: u16,
        candidates: &[Pubkey],
    ) -> Result<TxOutcome, TxError> {
        let t = self.margin_account(target.margin_account);
        let groups = ix::market_groups(&[&t], Some(market), self.oracles());
        let ix = ix::auto_deleverage(
            keeper.owner,
            target.margin_account,
            market,
            self.oracles_of(market),
            candidates,
            groups,
        );
        self.send(ix, &[&keeper.keypair])
    }

    pub fn socialize_loss(&mut self, keeper: &Trader, target: &Trader, market: u16) -> Result<TxOutcome, TxError> {
        let ix = ix::socialize_loss(keeper.owner, target.margin_account, market);
        self.send(ix, &[&keeper.keypair])
    }

    /// Opens the trader's insurance stake account and stakes `amount` from its wallet.
    pub fn stake(&mut self, trader: &Trader, amount: u64) -> Result<TxOutcome, TxError> {
        if !self.account_exists(pda::insurance_stake(&trader.owner)) {
            self.send(ix::open_insurance_stake(key(&self.payer), trader.owner), &[&trader.keypair])?;
        }
        self.send(ix::stake_insurance(trader.owner, trader.token_account, amount), &[&trader.keypair])
    }

    /// Health report of an account at the given prices, by the program's own function.
    pub fn health(&mut self, account: Pubkey, prices: &[(u16, u64)]) -> margin_engine::math::margin::HealthReport {
        let cache = self.price_cache(prices);
        margin_engine::health::account_health(&self.margin_account(account), &cache).unwrap()
    }

    pub fn refresh_market(&mut self, market: u16) -> Result<TxOutcome, TxError> {
        let ix = ix::refresh_market(market, self.oracles_of(market));
        self.send(ix, &[])
    }

    pub fn update_funding(&mut self, market: u16) -> Result<TxOutcome, TxError> {
        let ix = ix::update_funding(market, self.oracles_of(market));
        self.send(ix, &[])
    }

    // ---- invariants ----

    /// Conservation, exactly: the collateral vault holds Σ collateral + Σ open-position quote
    /// (the unrealised PnL of all positions, since Σ base is zero) + Σ market funding pools + the
    /// fee pool. Also: open interest long == short in every market, and the exchange's running
    /// total of collateral matches the accounts.
    pub fn assert_conservation(&mut self) {
        if let Err(broken) = self.check_conservation() {
            panic!("{broken}");
        }
    }

    /// `assert_conservation` as a value: the first identity that does not hold, described.
    pub fn check_conservation(&mut self) -> Result<(), String> {
        let vault = self.token_balance(pda::collateral_vault()) as i128;
        let exchange = self.exchange();
        let accounts: Vec<Pubkey> = self.margin_accounts.clone();
        let (mut collateral, mut quote) = (0i128, 0i128);
        let mut base_by_market = vec![0i128; self.markets.len()];
        for a in accounts {
            if self.account_exists(a) {
                let acc = self.margin_account(a);
                collateral += acc.collateral as i128;
                for p in acc.active_positions() {
                    quote += p.quote_amount as i128;
                    base_by_market[p.market_index as usize] += p.base_amount as i128;
                }
            }
        }
        let markets: Vec<Market> = (0..self.markets.len() as u16).map(|i| self.market(i)).collect();
        let mut funding_pools = 0i128;
        for (i, m) in markets.iter().enumerate() {
            funding_pools += m.funding_pool as i128;
            if m.open_interest_long != m.open_interest_short {
                return Err(format!(
                    "market {i}: open interest long {} != short {}",
                    m.open_interest_long, m.open_interest_short
                ));
            }
            if base_by_market[i] != 0 {
                return Err(format!("market {i}: Σ base = {} != 0", base_by_market[i]));
            }
        }
        if exchange.total_collateral as i128 != collateral {
            return Err(format!(
                "exchange.total_collateral {} != Σ account collateral {collateral}",
                exchange.total_collateral
            ));
        }
        let aggregate_quote: i128 = markets.iter().map(|m| m.total_position_quote as i128).sum();
        if aggregate_quote != quote {
            return Err(format!("Σ market.total_position_quote {aggregate_quote} != Σ position quote {quote}"));
        }
        let gap = margin_engine_sdk::analytics::conservation_gap(vault as u64, &exchange, &markets);
        if gap != 0 {
            return Err(format!("aggregate conservation gap {gap}"));
        }
        let owed = collateral + quote + funding_pools + exchange.fee_pool as i128;
        if vault != owed {
            return Err(format!(
                "collateral vault {vault} != Σ collateral + Σ quote + funding pools + fee pool = {owed}"
            ));
        }
        Ok(())
    }
}
