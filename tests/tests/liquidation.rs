//! Issue 4 through the real program: partial, throttled, permissionless liquidation.
use margin_engine::controller::liquidation::{plan, LiquidationOutcome};
use margin_engine::error::ErrorCode;
use margin_engine::health::account_health;
use margin_engine::state::margin_account_flags::{BANKRUPT, BEING_LIQUIDATED};
use margin_engine_sdk::pda;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;

const P100: u64 = 100_000_000;

struct Setup {
    env: TestEnv<TestBackend>,
    filler: Trader,
    target: Trader,
    counterparty: Trader,
    liquidator: Trader,
}

/// Target: $1,100 deposited, long 100 SOL-PERP at $100 (collateral $1,090 after the taker fee).
fn setup() -> Setup {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, default_risk());
    let filler = env.new_trader(0);
    let target = env.new_trader(100_000 * USDC);
    let counterparty = env.new_trader(100_000 * USDC);
    let liquidator = env.new_trader(100_000 * USDC);
    env.deposit(&target, 1_100 * USDC).unwrap();
    env.deposit(&counterparty, 50_000 * USDC).unwrap();
    env.deposit(&liquidator, 20_000 * USDC).unwrap();
    env.trade(&filler, &target, &counterparty, 0, BID, P100, 100 * BASE as u64).unwrap();
    Setup { env, filler, target, counterparty, liquidator }
}

fn position(env: &mut TestEnv<TestBackend>, t: &Trader) -> i64 {
    let acc = env.margin_account(t.margin_account);
    let base = acc.active_positions().find(|p| p.market_index == 0).map_or(0, |p| p.base_amount);
    base
}

fn flags(env: &mut TestEnv<TestBackend>, t: &Trader) -> u8 {
    env.margin_account(t.margin_account).flags
}

/// Moves to the next slot with the oracle at `price`.
fn next_slot(env: &mut TestEnv<TestBackend>, price: u64) {
    env.advance_slots(1);
    env.set_price(0, price as i64);
}

#[test]
fn a_healthy_account_cannot_be_liquidated() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.set_price(0, 95_000_000); // equity 590, maintenance requirement 475: healthy
    let before = env.margin_account(target.margin_account);
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::AccountNotLiquidatable)));
    let after = env.margin_account(target.margin_account);
    assert_eq!(
        (after.collateral, after.positions[0].base_amount, after.flags),
        (before.collateral, before.positions[0].base_amount, 0)
    );
    assert_eq!(
        env.liquidate(&liquidator, &liquidator, 0, u64::MAX),
        Err(program_error(ErrorCode::CannotLiquidateSelf))
    );
}

#[test]
fn partial_liquidation_steps_are_hand_checked_and_stop_at_the_buffer() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.set_price(0, 93_000_000);
    // Equity 1090 − 700 = 390; maintenance 5% × 9300 = 465 (health −75); buffered 7% -> −261.
    let insurance_before = env.token_balance(pda::insurance_vault());
    let liq_collateral_before = env.margin_account(liquidator.margin_account).collateral;
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    // Step 1 is throttled to 25% of 100 = 25 base: notional $2,325, liquidator fee 1% = $23.25,
    // insurance fee 0.5% = $11.625.
    assert_eq!(position(&mut env, &target), 75 * BASE);
    assert_eq!(position(&mut env, &liquidator), 25 * BASE);
    assert_eq!(env.margin_account(liquidator.margin_account).collateral - liq_collateral_before, 23_250_000);
    assert_eq!(env.token_balance(pda::insurance_vault()) - insurance_before, 11_625_000);
    assert_eq!(flags(&mut env, &target) & BEING_LIQUIDATED, BEING_LIQUIDATED);
    env.assert_conservation();

    // One step per slot.
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::LiquidationThrottled)));

    // Keep stepping, one slot apart, until the buffer is restored; each step never hurts health.
    let mut last_health = i128::MIN;
    let mut steps = 1;
    while flags(&mut env, &target) & BEING_LIQUIDATED != 0 {
        next_slot(&mut env, 93_000_000);
        let cache = env.price_cache(&[(0, 93_000_000)]);
        let h = account_health(&env.margin_account(target.margin_account), &cache).unwrap();
        assert!(h.maintenance_health >= last_health);
        last_health = h.maintenance_health;
        env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
        env.assert_conservation();
        steps += 1;
        assert!(steps < 10, "liquidation must converge");
    }
    let cache = env.price_cache(&[(0, 93_000_000)]);
    let h = account_health(&env.margin_account(target.margin_account), &cache).unwrap();
    // Exactly at the buffer: non-negative, and less than one step size (0.01 base ≈ $0.05 of gain) above it.
    assert!(h.liquidation_health >= 0 && h.liquidation_health < 60_000, "liquidation health {}", h.liquidation_health);
    assert!(position(&mut env, &target) > 0, "partial: the account keeps a position");
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::AccountNotLiquidatable)));
}

#[test]
fn the_sdk_preview_matches_what_the_program_does() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.set_price(0, 92_000_000);
    let slot = env.slot();
    let cache = env.price_cache(&[(0, 92_000_000)]);
    let market = env.market(0);
    let preview = plan(&env.margin_account(target.margin_account), &market, &cache, slot, u64::MAX).unwrap();
    let LiquidationOutcome::Step { step, .. } = preview.outcome else { panic!("expected a step: {preview:?}") };
    let before = env.margin_account(liquidator.margin_account).collateral;
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(position(&mut env, &liquidator), step.base as i64);
    assert_eq!(env.margin_account(liquidator.margin_account).collateral - before, step.liquidator_fee as i64);
}

#[test]
fn the_liquidator_fee_escalates_while_a_liquidation_sits_idle() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.set_price(0, 93_000_000);
    env.liquidate(&liquidator, &target, 0, 5 * BASE as u64).unwrap();
    // 900 idle slots: 150 of delay, then halfway up the 1,500-slot ramp:
    // fee = 1% + (2.75% − 1%) / 2 = 1.875%.
    env.advance_slots(900);
    env.set_price(0, 93_000_000);
    let before = env.margin_account(liquidator.margin_account).collateral;
    env.liquidate(&liquidator, &target, 0, 10 * BASE as u64).unwrap();
    // 10 base × $93 = $930 × 1.875% = $17.4375.
    assert_eq!(env.margin_account(liquidator.margin_account).collateral - before, 17_437_500);
    env.assert_conservation();
}

#[test]
fn a_liquidator_without_margin_is_rejected() {
    let Setup { mut env, target, .. } = setup();
    let broke = env.new_trader(0);
    env.set_price(0, 93_000_000);
    assert_eq!(
        env.liquidate(&broke, &target, 0, u64::MAX),
        Err(program_error(ErrorCode::LiquidatorInsufficientMargin))
    );
    assert_eq!(position(&mut env, &target), 100 * BASE);
    assert_eq!(flags(&mut env, &target), 0, "a failed call changes nothing");
    // Someone else's margin account cannot be used as the liquidator's.
    let thief = env.new_trader(0);
    let stolen = Trader { margin_account: env_liquidator_account(&mut env), ..thief };
    assert_eq!(env.liquidate(&stolen, &target, 0, u64::MAX), Err(program_error(ErrorCode::NotAccountOwner)));
}

fn env_liquidator_account(env: &mut TestEnv<TestBackend>) -> anchor_lang::prelude::Pubkey {
    env.margin_accounts[3]
}

#[test]
fn liquidation_runs_on_stale_but_sane_prices_and_refuses_broken_ones() {
    let Setup { mut env, target, liquidator, .. } = setup();
    let m = env.markets[0];
    env.advance_slots(200);
    let slot = env.slot();
    let now = env.backend.clock().unix_timestamp;
    // 130 slots old: too stale for margin checks, still sane for liquidation.
    env.write_pyth_full(
        m.pyth,
        m.feed_id,
        93_000_000,
        0,
        slot - 130,
        now - 100,
        pyth_solana_receiver_sdk::price_update::VerificationLevel::Full,
    );
    assert_eq!(env.withdraw(&target, USDC), Err(program_error(ErrorCode::OracleStaleForMargin)));
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(position(&mut env, &target), 75 * BASE);
    env.advance_slots(1);
    env.write_pyth(m.pyth, m.feed_id, 0, 0);
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::OracleNonPositive)));
    env.write_pyth(m.pyth, m.feed_id, 93_000_000, 5_000_000);
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::OracleTooUncertain)));
    env.assert_conservation();
}

#[test]
fn open_orders_are_cancelled_first() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.place_order(&target, 0, ASK, 110_000_000, 10 * BASE as u64, OrderOpts::default()).unwrap();
    env.set_price(0, 93_000_000);
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    let acc = env.margin_account(target.margin_account);
    assert!(acc.orders.iter().all(|o| o.is_empty()));
    assert_eq!(acc.positions[0].open_asks, 0);
}

#[test]
fn a_multi_market_account_is_priced_across_markets() {
    let Setup { mut env, filler, target, counterparty, liquidator } = setup();
    env.add_market("ETH-PERP", 2_000_000_000, default_risk());
    env.set_price(0, P100 as i64);
    // Target also shorts 1 ETH at $2,000 (more margin: deposit first).
    env.deposit(&target, 300 * USDC).unwrap();
    env.trade(&filler, &target, &counterparty, 1, ASK, 2_000_000_000, BASE as u64).unwrap();
    env.set_price(0, 93_000_000);
    env.set_price(1, 2_200_000_000);
    // Without ETH's market group the program refuses to guess.
    let ix = margin_engine_sdk::instructions::liquidate(
        liquidator.owner,
        liquidator.margin_account,
        target.margin_account,
        0,
        env.oracles_of(0),
        u64::MAX,
        vec![],
    );
    assert_eq!(env.send(ix, &[&liquidator.keypair]), Err(program_error(ErrorCode::MissingMarketAccounts)));
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert!(position(&mut env, &target) < 100 * BASE);
    // Liquidating the ETH leg in the next slot works too.
    env.advance_slots(1);
    env.set_price(0, 93_000_000);
    env.set_price(1, 2_200_000_000);
    if flags(&mut env, &target) & BEING_LIQUIDATED != 0 {
        env.liquidate(&liquidator, &target, 1, u64::MAX).unwrap();
    }
    env.assert_conservation();
}

#[test]
fn a_sharp_drop_leaves_the_account_bankrupt() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.set_price(0, 80_000_000); // equity 1090 − 2000 < 0
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(flags(&mut env, &target), BANKRUPT);
    assert_eq!(position(&mut env, &target), 100 * BASE, "no position is taken over at a loss");
    next_slot(&mut env, 80_000_000);
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::AccountBankrupt)));
    env.assert_conservation();
}

#[test]
fn the_flag_clears_when_the_price_recovers() {
    let Setup { mut env, target, liquidator, .. } = setup();
    env.set_price(0, 93_000_000);
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(flags(&mut env, &target), BEING_LIQUIDATED);
    next_slot(&mut env, 99_000_000);
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(flags(&mut env, &target), 0, "no account stays stuck in liquidation");
    assert_eq!(position(&mut env, &target), 75 * BASE, "recovery moved nothing");
    next_slot(&mut env, 99_000_000);
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::AccountNotLiquidatable)));
}

#[test]
fn stress_coverage_is_the_fund_over_the_gap_shortfall_of_the_book() {
    let Setup { mut env, target, counterparty, .. } = setup();
    let market = env.market(0);
    let accounts = [env.margin_account(target.margin_account), env.margin_account(counterparty.margin_account)];
    let fund = env.token_balance(pda::insurance_vault());
    // A 20% gap down leaves the 9x long at 1,090 − 100 × $20 = −$910; the short gains. Up, the
    // short loses $2,000 of its ~$50,000: nobody short.
    let c = margin_engine_sdk::analytics::stress_coverage(&accounts, &[(&market, P100)], fund, 200_000).unwrap();
    assert_eq!(c.shortfall, 910 * USDC as u128);
    assert_eq!(c.coverage, fund as f64 / (910 * USDC) as f64);
    // A 5% gap leaves nobody short: infinite coverage.
    let calm = margin_engine_sdk::analytics::stress_coverage(&accounts, &[(&market, P100)], fund, 50_000).unwrap();
    assert_eq!((calm.shortfall, calm.coverage), (0, f64::INFINITY));
}
