//! Issue 15, the account-level attack classes for every instruction at once: a valid call of each
//! instruction is first sent with one account changed at a time — a signer unsigned (missing
//! signer), a writable account read-only, an account replaced by an existing account of another
//! kind (wrong owner, type cosplay, PDA and account substitution) or by an address that holds
//! nothing — and every variant must be refused without changing a byte of exchange state. Then
//! the unchanged call is sent and must succeed, so each refusal is due to the change alone.
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use margin_engine::state::{paused_operations, RiskParams};
use margin_engine_sdk::instructions::{self as ix, Fill};
use margin_engine_sdk::pda;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;

const P100: u64 = 100_000_000;
/// The SPL Token program (the .so runner's crate set has no anchor-spl).
const TOKEN_PROGRAM: Pubkey = anchor_lang::prelude::pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

type Env = TestEnv<TestBackend>;

fn wide(cap: u64) -> RiskParams {
    RiskParams { breaker_soft_band: 300_000, breaker_hard_band: 600_000, insurance_draw_cap: cap, ..default_risk() }
}

fn fingerprint(env: &mut Env, extra: &[Pubkey]) -> Vec<Option<Vec<u8>>> {
    let mut keys = vec![pda::exchange(), pda::collateral_vault(), pda::insurance_vault()];
    keys.extend((0..env.markets.len() as u16).map(pda::market));
    keys.extend(env.margin_accounts.clone());
    keys.extend_from_slice(extra);
    keys.into_iter().map(|k| env.backend.account(&k.to_bytes()).map(|a| a.data)).collect()
}

/// (owner, first 8 data bytes, data length): two accounts of one kind agree on all three.
fn kind(env: &mut Env, key: &Pubkey) -> Option<([u8; 32], Vec<u8>, usize)> {
    let a = env.backend.account(&key.to_bytes())?;
    Some((a.owner, a.data.iter().take(8).copied().collect(), a.data.len()))
}

struct Walk<'a> {
    env: &'a mut Env,
    /// Existing accounts of every kind the program deals in, to substitute with.
    decoys: Vec<Pubkey>,
    /// Accounts outside the exchange whose bytes must not change either (stakes, wallets).
    watched: Vec<Pubkey>,
    variants: usize,
    walked: Vec<&'static str>,
}

impl Walk<'_> {
    /// Every single-account variant of `call` is refused and changes nothing; then `call` runs.
    fn check(&mut self, name: &'static str, call: Instruction, signers: &[&RawKeypair]) {
        let payer = Pubkey::new_from_array(self.env.payer.pubkey());
        for i in 0..call.accounts.len() {
            let meta = call.accounts[i].clone();
            // Anchor's placeholder for an absent optional account (the Switchboard fallback of a
            // Pyth-only market) and the fee payer (its signature is the transaction's) aside.
            if meta.pubkey == margin_engine::ID || meta.pubkey == payer {
                continue;
            }
            let mut variants: Vec<(String, Instruction, Vec<&RawKeypair>)> = vec![];
            if meta.is_signer {
                let mut v = call.clone();
                v.accounts[i].is_signer = false;
                let rest: Vec<&RawKeypair> =
                    signers.iter().copied().filter(|k| Pubkey::new_from_array(k.pubkey()) != meta.pubkey).collect();
                variants.push((format!("{name}: account {i} unsigned"), v, rest));
            } else {
                let original = kind(self.env, &meta.pubkey);
                let mut substitutes = vec![Pubkey::new_unique()];
                for d in self.decoys.clone() {
                    if d != meta.pubkey && kind(self.env, &d) != original {
                        substitutes.push(d);
                    }
                }
                for s in substitutes {
                    let mut v = call.clone();
                    v.accounts[i] = AccountMeta { pubkey: s, ..meta.clone() };
                    variants.push((format!("{name}: account {i} {} -> {s}", meta.pubkey), v, signers.to_vec()));
                }
            }
            // Natively, program-test's CPI shim panics (instead of failing the transaction) when an
            // account handed to a CPI is read-only: token accounts, accounts `init` creates, system
            // accounts that pay or receive rent. The .so run checks those variants too.
            let native_cpi_shim = cfg!(not(sbf_backend))
                && kind(self.env, &meta.pubkey).is_none_or(|(owner, _, _)| {
                    owner == TOKEN_PROGRAM.to_bytes()
                        || owner == anchor_lang::solana_program::system_program::ID.to_bytes()
                });
            if meta.is_writable && !native_cpi_shim {
                let mut v = call.clone();
                v.accounts[i].is_writable = false;
                variants.push((format!("{name}: account {i} read-only"), v, signers.to_vec()));
            }
            for (what, variant, keys) in variants {
                let watched = self.watched.clone();
                let before = fingerprint(self.env, &watched);
                let result = self.env.send(variant, &keys);
                assert!(result.is_err(), "{what}: accepted");
                assert_eq!(fingerprint(self.env, &watched), before, "{what}: refused but changed state");
                self.variants += 1;
            }
        }
        self.env.send(call, signers).unwrap_or_else(|e| panic!("{name}: the unchanged call failed: {e:?}"));
        self.walked.push(name);
    }
}

#[test]
fn every_account_of_every_instruction_substituted_or_unsigned_is_refused() {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, wide(1_000_000 * USDC));
    env.add_market("ALT-PERP", P100 as i64, wide(0));
    let filler = env.new_trader(0);
    let keeper = env.new_trader(0);
    let a = env.new_trader(1_000_000 * USDC);
    let b = env.new_trader(1_000_000 * USDC);
    let staker = env.new_trader(1_000_000 * USDC);
    for t in [&a, &b] {
        env.deposit(t, 50_000 * USDC).unwrap();
    }
    // $400,000 of notional: a quarter of its fees ($120) reaches the fund before anyone stakes,
    // so the protocol owns revenue above the $100 floor for `withdraw_protocol_revenue`.
    env.trade(&filler, &a, &b, 0, BID, P100, 4_000 * BASE as u64).unwrap();
    env.stake(&staker, 10_000 * USDC).unwrap();
    let gov = env.governance.clone();
    let guardian = env.guardian.clone();
    let m0 = env.markets[0];
    let decoys = vec![
        pda::exchange(),
        m0.address,
        m0.pyth,
        a.margin_account,
        pda::collateral_vault(),
        a.token_account,
        pda::insurance_stake(&staker.owner),
        key(&gov),
        TOKEN_PROGRAM,
        anchor_lang::solana_program::system_program::ID,
    ];
    let watched = vec![pda::insurance_stake(&staker.owner), a.token_account, b.token_account, staker.token_account];
    let mut w = Walk { env: &mut env, decoys, watched, variants: 0, walked: vec![] };

    // Accounts and trading.
    let newcomer = new_keypair();
    let payer = key(&w.env.payer);
    w.check("create_margin_account", ix::create_margin_account(payer, key(&newcomer), 0), &[&newcomer]);
    w.env.margin_accounts.push(pda::margin_account(&key(&newcomer), 0));
    w.check("set_delegate", ix::set_delegate(a.owner, a.margin_account, Pubkey::new_unique()), &[&a.keypair]);
    w.check("deposit", ix::deposit(a.owner, a.margin_account, a.token_account, USDC), &[&a.keypair]);
    let remaining = w.env.health_accounts(a.margin_account);
    w.check("withdraw", ix::withdraw(a.owner, a.margin_account, a.token_account, USDC, remaining), &[&a.keypair]);
    let order = |side, expiry_slot| margin_engine::instructions::PlaceOrderArgs {
        expiry_slot,
        client_order_id: 7,
        ..margin_engine_sdk::orders::limit(0, side, P100, BASE as u64)
    };
    let oracles = w.env.oracles_of(0);
    w.check("place_order", ix::place_order(a.owner, a.margin_account, oracles, order(BID, 0), vec![]), &[&a.keypair]);
    let bid = w.env.margin_account(a.margin_account).next_order_id - 1;
    w.check("cancel_order", ix::cancel_order(a.owner, a.margin_account, bid), &[&a.keypair]);
    let bid = w.env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    let ask = w.env.place_order(&b, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    let fill = Fill {
        market_index: 0,
        taker: a.margin_account,
        taker_order_id: bid,
        maker: b.margin_account,
        maker_order_id: ask,
        max_base_amount: u64::MAX,
    };
    w.check(
        "fill_orders",
        ix::fill_orders(filler.owner, filler.margin_account, oracles, fill, vec![]),
        &[&filler.keypair],
    );
    // The taker's own cross against one maker (the maker account among the remaining accounts is
    // substituted too), and a keeper firing a stop.
    let ask = w.env.place_order(&b, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    let take = margin_engine::instructions::PlaceAndTakeArgs {
        order: margin_engine_sdk::orders::limit(0, BID, P100, BASE as u64),
        time_in_force: margin_engine::instructions::time_in_force::IMMEDIATE_OR_CANCEL,
        post_only_slide: false,
        maker_order_ids: vec![ask],
    };
    let call = w.env.place_and_take_instruction(&a, take, &[b.margin_account]);
    w.check("place_and_take", call, &[&a.keypair]);
    let stop = margin_engine_sdk::orders::stop_market(0, BID, 101_000_000, 103_000_000, BASE as u64);
    let stop_id = w.env.place(&b, stop).unwrap();
    w.env.set_price(0, 101_000_000);
    let fire = ix::trigger_order(keeper.owner, keeper.margin_account, b.margin_account, 0, oracles, stop_id);
    w.check("trigger_order", fire, &[&keeper.keypair]);
    w.env.set_price(0, P100 as i64);
    w.env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    w.check("cancel_all_orders", ix::cancel_all_orders(a.owner, a.margin_account, None), &[&a.keypair]);
    let slot = w.env.slot();
    w.env.send(ix::place_order(a.owner, a.margin_account, oracles, order(BID, slot), vec![]), &[&a.keypair]).unwrap();
    w.env.advance_slots(1);
    w.env.set_price(0, P100 as i64);
    w.check("prune_expired_orders", ix::prune_expired_orders(keeper.owner, a.margin_account), &[&keeper.keypair]);
    w.check("refresh_market", ix::refresh_market(0, oracles), &[]);
    w.env.advance_slots(default_risk().funding_period_slots as u64);
    w.env.set_price(0, P100 as i64);
    w.env.set_price(1, P100 as i64);
    w.check("update_funding", ix::update_funding(0, oracles), &[]);

    // Insurance.
    let s2 = new_keypair();
    w.check("open_insurance_stake", ix::open_insurance_stake(payer, key(&s2)), &[&s2]);
    w.check("stake_insurance", ix::stake_insurance(staker.owner, staker.token_account, USDC), &[&staker.keypair]);
    w.env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    w.check("request_unstake", ix::request_unstake(staker.owner, USDC), &[&staker.keypair]);
    w.env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    w.check("unstake_insurance", ix::unstake_insurance(staker.owner, staker.token_account), &[&staker.keypair]);
    let revenue = ix::withdraw_protocol_revenue(key(&gov), staker.token_account, 1);
    w.check("withdraw_protocol_revenue", revenue, &[&gov]);

    // Liquidation and the waterfall: A long 10 on SOL (fund pays), then a second account long on
    // ALT (no fund there: ADL, then the socialised remainder).
    w.env.set_price(0, P100 as i64);
    w.env.set_price(1, P100 as i64);
    let c = w.env.new_trader(1_000_000 * USDC);
    let d = w.env.new_trader(1_000_000 * USDC);
    w.env.deposit(&c, 110 * USDC).unwrap();
    w.env.deposit(&d, 50_000 * USDC).unwrap();
    w.env.trade(&filler, &c, &d, 0, BID, P100, 10 * BASE as u64).unwrap();
    let e = w.env.new_trader(1_000_000 * USDC);
    w.env.deposit(&e, 110 * USDC).unwrap();
    w.env.trade(&filler, &e, &d, 1, BID, P100, 10 * BASE as u64).unwrap();
    let liquidator = b.clone(); // short: taking over longs only shrinks its position
    w.env.set_price(0, 94_000_000); // C: equity 109 − 60 = 49 against a 47 maintenance + buffer
    let groups = |env: &mut Env, t: &Trader, l: Option<&Trader>, m: u16| {
        let mut accounts = vec![env.margin_account(t.margin_account)];
        if let Some(l) = l {
            accounts.push(env.margin_account(l.margin_account));
        }
        let refs: Vec<&margin_engine::state::MarginAccount> = accounts.iter().collect();
        ix::market_groups(&refs, Some(m), env.oracles())
    };
    let remaining = groups(w.env, &c, Some(&liquidator), 0);
    let step =
        ix::liquidate(liquidator.owner, liquidator.margin_account, c.margin_account, 0, oracles, u64::MAX, remaining);
    w.env.set_price(0, 90_000_000); // equity 109 − 100 = 9 < 4.5% of 900: a partial step
    w.check("liquidate", step, &[&liquidator.keypair]);
    w.env.advance_slots(1);
    w.env.set_price(0, 80_000_000);
    w.env.set_price(1, P100 as i64);
    w.env.liquidate(&liquidator, &c, 0, u64::MAX).unwrap();
    assert!(w.env.margin_account(c.margin_account).has_flag(margin_engine::state::margin_account_flags::BANKRUPT));
    let remaining = groups(w.env, &c, None, 0);
    let resolve = ix::resolve_bankruptcy(keeper.owner, keeper.margin_account, c.margin_account, 0, oracles, remaining);
    w.check("resolve_bankruptcy", resolve, &[&keeper.keypair]);
    w.env.set_price(1, 80_000_000);
    w.env.liquidate(&liquidator, &e, 1, u64::MAX).unwrap();
    let alt = w.env.oracles_of(1);
    let remaining = groups(w.env, &e, None, 1);
    let adl = ix::auto_deleverage(keeper.owner, e.margin_account, 1, alt, &[d.margin_account], remaining);
    w.check("auto_deleverage", adl, &[&keeper.keypair]);
    assert!(w.env.margin_account(e.margin_account).collateral < 0, "a remainder is left past the ADL band");
    w.check("socialize_loss", ix::socialize_loss(keeper.owner, e.margin_account, 1), &[&keeper.keypair]);

    // Governance.
    w.check("pause_operations", ix::pause_operations(key(&guardian), paused_operations::TRADING), &[&guardian]);
    w.check("resume_operations", ix::resume_operations(key(&gov), paused_operations::TRADING), &[&gov]);
    w.check("set_market_reduce_only", ix::set_market_reduce_only(key(&guardian), 0, true), &[&guardian]);
    let tighter = RiskParams { initial_margin_ratio: 110_000, ..wide(1_000_000 * USDC) };
    w.check("update_risk_params", ix::update_risk_params(key(&gov), 0, tighter), &[&gov]);
    let looser = RiskParams { fill_price_band: 60_000, ..tighter };
    w.env.send(ix::update_risk_params(key(&gov), 0, looser), &[&gov]).unwrap();
    w.check("cancel_risk_update", ix::cancel_risk_update(key(&gov), 0), &[&gov]);
    w.env.send(ix::update_risk_params(key(&gov), 0, looser), &[&gov]).unwrap();
    w.env.advance_slots(RISK_TIMELOCK_SLOTS);
    w.check("execute_risk_update", ix::execute_risk_update(0), &[]);
    let index = w.env.markets.len() as u16;
    let feed = [9u8; 32];
    let pyth = Pubkey::new_unique();
    w.env.write_pyth(pyth, feed, P100 as i64, 0);
    let create = ix::create_market(
        payer,
        key(&gov),
        index,
        market_name("NEW-PERP"),
        default_oracle_config(feed),
        default_risk(),
    );
    w.check("create_market", create, &[&gov]);
    w.check("set_guardian", ix::set_guardian(key(&gov), Pubkey::new_unique()), &[&gov]);
    let next = new_keypair();
    w.check("propose_authority", ix::propose_authority(key(&gov), key(&next)), &[&gov]);
    w.check("accept_authority", ix::accept_authority(key(&next)), &[&next]);
    w.check(
        "close_margin_account",
        ix::close_margin_account(key(&newcomer), pda::margin_account(&key(&newcomer), 0)),
        &[&newcomer],
    );

    let (variants, walked) = (w.variants, w.walked.clone());
    env.assert_conservation();
    // Every instruction but initialize_exchange (it runs once; its accounts are attacked in
    // attacks.rs `only_the_upgrade_authority_initialises_the_exchange` and core_accounts.rs).
    assert_eq!(walked.len(), margin_engine::instructions::gates::TABLE.len() - 1, "walked {walked:?}");
    assert!(variants > 300, "{variants} variants");
}
