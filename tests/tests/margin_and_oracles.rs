//! Withdrawals against initial margin, and the oracle guard, through the real program.
use anchor_lang::prelude::{AccountMeta, Pubkey};
use margin_engine::error::ErrorCode;
use margin_engine::health::{account_health, MarketSnapshot, PriceCache};
use margin_engine_sdk::instructions as ix;
use margin_engine_sdk::pda;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;

const P100: u64 = 100_000_000;
const P50K: u64 = 50_000_000_000;

struct Setup {
    env: TestEnv<TestBackend>,
    a: Trader,
    b: Trader,
}

/// Market 0 (Pyth only) at $100 and market 1 (Pyth + Switchboard) at $50,000; A long 50 SOL-PERP.
fn setup() -> Setup {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, default_risk());
    env.add_market_with_oracle(
        "BTC-PERP",
        P50K as i64,
        margin_engine::state::RiskParams {
            tick_size: 1_000_000,
            step_size: 1_000_000,
            min_order_size: 1_000_000,
            ..default_risk()
        },
        true,
    );
    let filler = env.new_trader(0);
    let a = env.new_trader(10_000 * USDC);
    let b = env.new_trader(10_000 * USDC);
    env.deposit(&a, 1_000 * USDC).unwrap();
    env.deposit(&b, 1_000 * USDC).unwrap();
    env.trade(&filler, &a, &b, 0, BID, P100, 50 * BASE as u64).unwrap();
    Setup { env, a, b }
}

/// Initial health as the SDK computes it from decoded accounts: the program's own function.
fn initial_health(env: &mut TestEnv<TestBackend>, t: &Trader, prices: &[(u16, u64)]) -> i128 {
    let mut cache = PriceCache::new();
    for &(index, price) in prices {
        let market = env.market(index);
        cache.insert(MarketSnapshot::at_hypothetical_price(&market, price)).unwrap();
    }
    account_health(&env.margin_account(t.margin_account), &cache).unwrap().initial_health
}

fn snapshot(env: &mut TestEnv<TestBackend>, t: &Trader) -> (u64, u64, i64) {
    (
        env.token_balance(t.token_account),
        env.token_balance(pda::collateral_vault()),
        env.margin_account(t.margin_account).collateral,
    )
}

fn withdraw_with(
    env: &mut TestEnv<TestBackend>,
    t: &Trader,
    amount: u64,
    remaining: Vec<AccountMeta>,
) -> Result<TxOutcome, TxError> {
    env.send(ix::withdraw(t.owner, t.margin_account, t.token_account, amount, remaining), &[&t.keypair])
}

#[test]
fn withdraw_is_blocked_by_initial_margin_to_the_unit() {
    let Setup { mut env, a, .. } = setup();
    // Collateral 1000 − 5 taker fee; initial requirement 10% × $5,000 = $500 -> health $495.
    let health = initial_health(&mut env, &a, &[(0, P100)]);
    assert_eq!(health, 495 * USDC as i128);
    let before = snapshot(&mut env, &a);
    assert_eq!(env.withdraw(&a, 495 * USDC + 1), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(snapshot(&mut env, &a), before);
    env.withdraw(&a, 495 * USDC).unwrap();
    assert_eq!(initial_health(&mut env, &a, &[(0, P100)]), 0);
    env.assert_conservation();

    // The price falls: the account is now below initial margin and nothing more can leave.
    env.set_price(0, 99_000_000);
    assert!(initial_health(&mut env, &a, &[(0, 99_000_000)]) < 0);
    assert_eq!(env.withdraw(&a, 1), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    // A gain frees margin again, but only as fast as the stable price follows the oracle (a jump
    // is not credited at once: Mango's stable price), and only settled collateral can leave.
    env.set_price(0, 110_000_000);
    assert_eq!(env.withdraw(&a, 1), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    // At most 1% per valid observation, and 0.005% a slot: ten observations 200 slots apart.
    for _ in 0..10 {
        env.advance_slots(200);
        env.set_price(0, 110_000_000);
        env.refresh_market(0).unwrap();
    }
    assert_eq!(env.market(0).stable_price, 110_000_000);
    let h = initial_health(&mut env, &a, &[(0, 110_000_000)]);
    assert!(h > 0);
    let collateral = env.margin_account(a.margin_account).collateral as u64;
    assert_eq!(env.withdraw(&a, collateral + 1), Err(program_error(ErrorCode::InsufficientCollateral)));
    env.withdraw(&a, 100 * USDC).unwrap();
    env.assert_conservation();
}

#[test]
fn withdraw_rejects_every_bad_oracle_and_changes_nothing() {
    let Setup { mut env, a, b } = setup();
    env.advance_slots(200);
    env.set_price(0, P100 as i64);
    let m = env.markets[0];
    let before = snapshot(&mut env, &a);
    let slot = env.slot();
    let now = env.backend.clock().unix_timestamp;
    let cases: Vec<(&str, Box<dyn Fn(&mut TestEnv<TestBackend>)>, ErrorCode)> = vec![
        (
            "stale for trading (slots)",
            Box::new(move |e| {
                e.write_pyth_full(
                    m.pyth,
                    m.feed_id,
                    P100 as i64,
                    0,
                    slot.saturating_sub(30),
                    now,
                    VerificationLevel::Full,
                )
            }),
            ErrorCode::OracleStaleForTrading,
        ),
        (
            "stale for margin (slots)",
            Box::new(move |e| {
                e.write_pyth_full(
                    m.pyth,
                    m.feed_id,
                    P100 as i64,
                    0,
                    slot.saturating_sub(130),
                    now,
                    VerificationLevel::Full,
                )
            }),
            ErrorCode::OracleStaleForMargin,
        ),
        (
            "stale for margin (seconds)",
            Box::new(move |e| {
                e.write_pyth_full(m.pyth, m.feed_id, P100 as i64, 0, slot, now - 121, VerificationLevel::Full)
            }),
            ErrorCode::OracleStaleForMargin,
        ),
        (
            "confidence 3% > 2%",
            Box::new(move |e| e.write_pyth(m.pyth, m.feed_id, P100 as i64, 3_000_000)),
            ErrorCode::OracleTooUncertain,
        ),
        ("zero price", Box::new(move |e| e.write_pyth(m.pyth, m.feed_id, 0, 0)), ErrorCode::OracleNonPositive),
        ("negative price", Box::new(move |e| e.write_pyth(m.pyth, m.feed_id, -5, 0)), ErrorCode::OracleNonPositive),
        (
            "another feed",
            Box::new(move |e| e.write_pyth(m.pyth, [77; 32], P100 as i64, 0)),
            ErrorCode::OracleFeedMismatch,
        ),
        (
            "partially verified",
            Box::new(move |e| {
                e.write_pyth_full(
                    m.pyth,
                    m.feed_id,
                    P100 as i64,
                    0,
                    slot,
                    now,
                    VerificationLevel::Partial { num_signatures: 5 },
                )
            }),
            ErrorCode::OracleNotFullyVerified,
        ),
        (
            "wrong owner",
            Box::new(move |e| {
                e.write_pyth(m.pyth, m.feed_id, P100 as i64, 0);
                let data = e.raw_data(m.pyth);
                e.set_raw(m.pyth, data, Pubkey::new_unique());
            }),
            ErrorCode::OracleWrongOwner,
        ),
        (
            "garbage data",
            Box::new(move |e| e.set_raw(m.pyth, vec![1; 134], pyth_solana_receiver_sdk::ID)),
            ErrorCode::OracleUndecodable,
        ),
    ];
    assert!(slot > 130, "setup must have advanced enough slots to back-date updates");
    for (name, corrupt, expected) in cases {
        corrupt(&mut env);
        assert_eq!(env.withdraw(&a, USDC), Err(program_error(expected)), "{name}");
        assert_eq!(snapshot(&mut env, &a), before, "{name}: nothing may change");
    }
    env.set_price(0, P100 as i64);
    env.set_price(1, P50K as i64);
    // Missing or mismatched remaining accounts.
    assert_eq!(withdraw_with(&mut env, &a, USDC, vec![]), Err(program_error(ErrorCode::MissingMarketAccounts)));
    let m1 = env.markets[1];
    let other_market = vec![
        AccountMeta::new_readonly(m1.address, false),
        AccountMeta::new_readonly(m1.pyth, false),
        AccountMeta::new_readonly(m1.switchboard.unwrap(), false),
    ];
    assert_eq!(withdraw_with(&mut env, &a, USDC, other_market), Err(program_error(ErrorCode::MissingMarketAccounts)));
    let wrong_oracle = vec![AccountMeta::new_readonly(m.address, false), AccountMeta::new_readonly(m1.pyth, false)];
    assert_eq!(withdraw_with(&mut env, &a, USDC, wrong_oracle), Err(program_error(ErrorCode::OracleFeedMismatch)));
    let truncated = vec![AccountMeta::new_readonly(m.address, false)];
    assert_eq!(withdraw_with(&mut env, &a, USDC, truncated), Err(program_error(ErrorCode::MissingMarketAccounts)));
    let not_a_market =
        vec![AccountMeta::new_readonly(b.margin_account, false), AccountMeta::new_readonly(m.pyth, false)];
    assert_eq!(
        withdraw_with(&mut env, &a, USDC, not_a_market),
        Err(anchor_error(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch))
    );
    assert_eq!(snapshot(&mut env, &a), before);
    env.withdraw(&a, USDC).unwrap();
    env.assert_conservation();
}

#[test]
fn a_stale_oracle_on_an_unrelated_market_does_not_block_withdrawal() {
    let Setup { mut env, a, .. } = setup();
    let m1 = env.markets[1];
    env.write_pyth(m1.pyth, m1.feed_id, 0, 0);
    env.advance_slots(200);
    env.set_price(0, P100 as i64);
    env.withdraw(&a, 10 * USDC).unwrap();
    env.assert_conservation();
}

#[test]
fn switchboard_is_the_fallback_when_pyth_is_unusable() {
    let Setup { mut env, a, b } = setup();
    let filler = env.new_trader(0);
    // A also holds BTC-PERP (market 1, which has a Switchboard feed).
    env.trade(&filler, &a, &b, 1, BID, P50K, 2_000_000).unwrap(); // 0.002 BTC = $100
    let m1 = env.markets[1];
    env.advance_slots(40);
    env.set_price(0, P100 as i64);
    // Pyth for BTC is now 40 slots old (> 25): Switchboard, fresh, takes over.
    env.write_switchboard(m1.switchboard.unwrap(), P50K as i64, 0);
    env.withdraw(&a, USDC).unwrap();
    // Both stale: the error names Pyth's problem.
    env.advance_slots(40);
    env.set_price(0, P100 as i64);
    let before = snapshot(&mut env, &a);
    assert_eq!(env.withdraw(&a, USDC), Err(program_error(ErrorCode::OracleStaleForTrading)));
    // A Switchboard feed that is not the configured one is refused outright.
    let impostor = Pubkey::new_unique();
    env.write_switchboard(impostor, P50K as i64, 0);
    let m0 = env.markets[0];
    let remaining = vec![
        AccountMeta::new_readonly(m0.address, false),
        AccountMeta::new_readonly(m0.pyth, false),
        AccountMeta::new_readonly(m1.address, false),
        AccountMeta::new_readonly(m1.pyth, false),
        AccountMeta::new_readonly(impostor, false),
    ];
    assert_eq!(withdraw_with(&mut env, &a, USDC, remaining), Err(program_error(ErrorCode::OracleFeedMismatch)));
    // A Switchboard feed with a wide spread is no fallback either.
    env.write_switchboard(m1.switchboard.unwrap(), P50K as i64, 5_000_000_000);
    assert_eq!(env.withdraw(&a, USDC), Err(program_error(ErrorCode::OracleStaleForTrading)));
    assert_eq!(snapshot(&mut env, &a), before);
    env.write_switchboard(m1.switchboard.unwrap(), P50K as i64, 0);
    env.withdraw(&a, USDC).unwrap();
    env.assert_conservation();
}
