//! Issue 6 through the real program: circuit breakers and governance.
use margin_engine::error::ErrorCode;
use margin_engine::math::breaker::MarketMode::{Halted, Normal, ReduceOnly};
use margin_engine::state::{market_status, paused_operations, RiskParams};
use margin_engine_sdk::instructions::{self as ix, Fill};
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
    a: Trader,
    b: Trader,
}

/// A long 10 / B short 10 at $100, both well collateralised.
fn setup_with(risk: RiskParams) -> Setup {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, risk);
    let filler = env.new_trader(0);
    let a = env.new_trader(100_000 * USDC);
    let b = env.new_trader(100_000 * USDC);
    env.deposit(&a, 5_000 * USDC).unwrap();
    env.deposit(&b, 5_000 * USDC).unwrap();
    env.refresh_market(0).unwrap();
    env.trade(&filler, &a, &b, 0, BID, P100, 10 * BASE as u64).unwrap();
    Setup { env, filler, a, b }
}

fn setup() -> Setup {
    setup_with(default_risk())
}

fn fill(taker: &Trader, t: u64, maker: &Trader, m: u64) -> Fill {
    Fill {
        market_index: 0,
        taker: taker.margin_account,
        taker_order_id: t,
        maker: maker.margin_account,
        maker_order_id: m,
        max_base_amount: u64::MAX,
    }
}

#[test]
fn a_soft_move_trips_reduce_only_and_only_reducing_fills_pass() {
    let Setup { mut env, filler, a, b } = setup();
    env.advance_slots(1);
    env.set_price(0, 120_000_000); // +20%: beyond the 15% soft band, inside the 40% hard band
                                   // Even before anyone persists the trip, the price itself stops new risk.
    assert_eq!(
        env.place_order(&a, 0, BID, 120_000_000, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::MarketReduceOnly))
    );
    env.refresh_market(0).unwrap();
    let m = env.market(0);
    assert_eq!((m.breaker_mode(), m.breaker_trip_count), (ReduceOnly, 1));
    // Reduce-only orders are still accepted, and a fill that shrinks both sides goes through.
    let ro = OrderOpts { reduce_only: true, ..OrderOpts::default() };
    let ask = env.place_order(&a, 0, ASK, 120_000_000, 4 * BASE as u64, ro).unwrap();
    let bid = env.place_order(&b, 0, BID, 120_000_000, 4 * BASE as u64, ro).unwrap();
    env.fill(&filler, fill(&b, bid, &a, ask)).unwrap();
    // A third party cannot open new risk.
    let c = env.new_trader(100_000 * USDC);
    env.deposit(&c, 5_000 * USDC).unwrap();
    assert_eq!(
        env.place_order(&c, 0, ASK, 120_000_000, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::MarketReduceOnly))
    );
    // Liquidations continue in reduce-only: A's long is healthy, so the only answer is "healthy".
    let liquidator = env.new_trader(0);
    assert_eq!(env.liquidate(&liquidator, &a, 0, u64::MAX), Err(program_error(ErrorCode::AccountNotLiquidatable)));
    env.assert_conservation();
}

#[test]
fn a_fill_that_grows_risk_is_refused_once_the_market_is_reduce_only() {
    let Setup { mut env, filler, a, b } = setup();
    // Orders resting from before the trip...
    let ask = env.place_order(&b, 0, ASK, 118_000_000, BASE as u64, OrderOpts::default()).unwrap();
    let bid = env.place_order(&a, 0, BID, 118_000_000, BASE as u64, OrderOpts::default()).unwrap();
    env.advance_slots(1);
    env.set_price(0, 118_000_000);
    env.refresh_market(0).unwrap();
    assert_eq!(env.market(0).breaker_mode(), ReduceOnly);
    // ...would grow both positions: refused.
    assert_eq!(env.fill(&filler, fill(&a, bid, &b, ask)), Err(program_error(ErrorCode::MarketReduceOnly)));
}

#[test]
fn a_hard_move_halts_every_price_dependent_action() {
    let Setup { mut env, filler, a, b } = setup();
    let ask = env.place_order(&b, 0, ASK, 50_000_000, BASE as u64, OrderOpts::default()).unwrap();
    let bid = env.place_order(&a, 0, BID, 50_000_000, BASE as u64, OrderOpts::default()).unwrap();
    env.advance_slots(1);
    env.set_price(0, 50_000_000); // −50%
    env.refresh_market(0).unwrap();
    assert_eq!(env.market(0).breaker_mode(), Halted);
    let liquidator = env.new_trader(0);
    assert_eq!(env.fill(&filler, fill(&a, bid, &b, ask)), Err(program_error(ErrorCode::MarketHalted)));
    assert_eq!(
        env.place_order(&a, 0, ASK, 50_000_000, BASE as u64, OrderOpts { reduce_only: true, ..OrderOpts::default() }),
        Err(program_error(ErrorCode::MarketHalted))
    );
    assert_eq!(env.withdraw(&a, USDC), Err(program_error(ErrorCode::MarketHalted)));
    // Liquidation is de-risking and runs in a halted market too: A (equity $4,500 against a $25
    // requirement) is refused only because it is healthy.
    assert_eq!(env.liquidate(&liquidator, &a, 0, u64::MAX), Err(program_error(ErrorCode::AccountNotLiquidatable)));
    env.advance_slots(default_risk().funding_period_slots as u64);
    env.set_price(0, 50_000_000);
    assert_eq!(env.update_funding(0), Err(program_error(ErrorCode::MarketHalted)));
    // Deposits never depend on a price and stay open.
    env.deposit(&a, USDC).unwrap();
    // Cancelling is always possible.
    env.send(ix::cancel_all_orders(a.owner, a.margin_account, None), &[&a.keypair]).unwrap();
    env.assert_conservation();
}

#[test]
fn an_oracle_inconsistent_with_its_own_ema_halts() {
    let Setup { mut env, a, .. } = setup();
    env.advance_slots(1);
    env.write_pyth_with_ema(0, 101_000_000, 70_000_000); // price vs EMA: 44% apart
    assert_eq!(env.withdraw(&a, USDC), Err(program_error(ErrorCode::MarketHalted)));
    env.refresh_market(0).unwrap();
    assert_eq!(env.market(0).breaker_mode(), Halted);
}

#[test]
fn the_breaker_recovers_by_itself_after_calm_prices() {
    let Setup { mut env, a, .. } = setup();
    env.advance_slots(1);
    env.set_price(0, 55_000_000);
    env.refresh_market(0).unwrap();
    assert_eq!(env.market(0).breaker_mode(), Halted);
    // A jumpy price restarts the cooldown; steady ones (each within the soft band of the last) end it.
    for (slots, price) in [(10, 56_000_000), (10, 75_000_000), (20, 76_000_000), (20, 75_500_000), (20, 76_000_000)] {
        env.advance_slots(slots);
        env.set_price(0, price);
        env.refresh_market(0).unwrap();
        assert_eq!(env.market(0).breaker_mode(), Halted, "still cooling down at {price}");
    }
    env.advance_slots(25);
    env.set_price(0, 76_000_000);
    env.refresh_market(0).unwrap();
    let m = env.market(0);
    assert_eq!((m.breaker_mode(), m.breaker_reference_price), (Normal, 76_000_000));
    env.withdraw(&a, USDC).unwrap();
    env.place_order(&a, 0, BID, 76_000_000, BASE as u64, OrderOpts::default()).unwrap();
}

#[test]
fn the_insurance_drawdown_breaker_sets_the_market_reduce_only() {
    let risk = RiskParams { insurance_drawdown_limit: 100_000, insurance_draw_cap: 100_000 * USDC, ..default_risk() };
    let Setup { mut env, filler, .. } = setup_with(risk);
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 5_000 * USDC).unwrap();
    let bankrupt = env.new_trader(100_000 * USDC);
    let winner = env.new_trader(100_000 * USDC);
    let keeper = env.new_trader(0);
    env.deposit(&bankrupt, 1_100 * USDC).unwrap();
    env.deposit(&winner, 5_000 * USDC).unwrap();
    env.trade(&filler, &bankrupt, &winner, 0, BID, P100, 100 * BASE as u64).unwrap();
    env.advance_slots(1);
    env.set_price(0, 80_000_000);
    // Equity below zero: the liquidation call hands the account to the waterfall.
    env.liquidate(&keeper, &bankrupt, 0, u64::MAX).unwrap();
    assert_eq!(env.margin_account(bankrupt.margin_account).flags, margin_engine::state::margin_account_flags::BANKRUPT);
    // ~$991 paid out of a ~$5,000 fund: more than the 10% drawdown limit.
    env.resolve_bankruptcy(&keeper, &bankrupt, 0).unwrap();
    assert_eq!(env.market(0).status & market_status::INSURANCE_DRAWDOWN, market_status::INSURANCE_DRAWDOWN);
    let c = env.new_trader(100_000 * USDC);
    env.deposit(&c, 5_000 * USDC).unwrap();
    env.set_price(0, 80_000_000);
    assert_eq!(
        env.place_order(&c, 0, BID, 80_000_000, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::MarketReduceOnly))
    );
    // The flag lapses with the insurance period.
    env.advance_slots(default_risk().insurance_draw_period_slots);
    env.set_price(0, 80_000_000);
    env.refresh_market(0).unwrap();
    env.place_order(&c, 0, BID, 80_000_000, BASE as u64, OrderOpts::default()).unwrap();
}

#[test]
fn the_guardian_closes_gates_only_governance_reopens() {
    let Setup { mut env, a, .. } = setup();
    let guardian = env.guardian.clone();
    let gov = env.governance.clone();
    let stranger = new_keypair();
    assert_eq!(
        env.send(ix::pause_operations(key(&stranger), paused_operations::TRADING), &[&stranger]),
        Err(program_error(ErrorCode::NotGuardianOrGovernance))
    );
    assert_eq!(
        env.send(ix::pause_operations(key(&guardian), 1 << 12), &[&guardian]),
        Err(program_error(ErrorCode::UnknownOperations))
    );
    // The guardian can only stop what adds risk or moves money out: not deposits, not liquidation.
    for bits in [paused_operations::DEPOSIT, paused_operations::LIQUIDATION, paused_operations::FUNDING] {
        assert_eq!(
            env.send(ix::pause_operations(key(&guardian), paused_operations::TRADING | bits), &[&guardian]),
            Err(program_error(ErrorCode::GuardianCannotPause))
        );
    }
    assert_eq!(env.exchange().paused_operations, 0);
    env.send(ix::pause_operations(key(&guardian), paused_operations::TRADING), &[&guardian]).unwrap();
    env.send(ix::pause_operations(key(&gov), paused_operations::DEPOSIT), &[&gov]).unwrap();
    assert_eq!(
        env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::OperationPaused))
    );
    assert_eq!(env.deposit(&a, USDC), Err(program_error(ErrorCode::OperationPaused)));
    env.withdraw(&a, USDC).unwrap(); // other groups stay open
    assert_eq!(
        env.send(ix::resume_operations(key(&guardian), paused_operations::TRADING), &[&guardian]),
        Err(program_error(ErrorCode::NotGovernance))
    );
    env.send(ix::resume_operations(key(&gov), paused_operations::TRADING), &[&gov]).unwrap();
    assert_eq!(env.exchange().paused_operations, paused_operations::DEPOSIT);
    env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();

    // Market reduce-only: the guardian may set it, not lift it.
    env.send(ix::set_market_reduce_only(key(&guardian), 0, true), &[&guardian]).unwrap();
    assert_eq!(
        env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::MarketReduceOnly))
    );
    assert_eq!(
        env.send(ix::set_market_reduce_only(key(&guardian), 0, false), &[&guardian]),
        Err(program_error(ErrorCode::OnlyGovernanceCanLoosen))
    );
    assert_eq!(
        env.send(ix::set_market_reduce_only(key(&stranger), 0, true), &[&stranger]),
        Err(program_error(ErrorCode::NotGuardianOrGovernance))
    );
    env.send(ix::set_market_reduce_only(key(&gov), 0, false), &[&gov]).unwrap();
    env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
}

#[test]
fn loosening_waits_for_the_timelock_tightening_applies_at_once() {
    let Setup { mut env, .. } = setup();
    let gov = env.governance.clone();
    let guardian = env.guardian.clone();
    let base = default_risk();
    // Tighter: applied now.
    let tighter = RiskParams { initial_margin_ratio: 120_000, max_open_interest: base.max_open_interest / 2, ..base };
    env.send(ix::update_risk_params(key(&gov), 0, tighter), &[&gov]).unwrap();
    assert_eq!(env.market(0).risk, tighter);
    assert_eq!(env.market(0).has_pending_risk, 0);
    // Looser: queued.
    let looser = RiskParams { initial_margin_ratio: 80_000, ..tighter };
    env.send(ix::update_risk_params(key(&gov), 0, looser), &[&gov]).unwrap();
    let m = env.market(0);
    assert_eq!((m.risk, m.pending_risk, m.has_pending_risk), (tighter, looser, 1));
    assert_eq!(env.send(ix::execute_risk_update(0), &[]), Err(program_error(ErrorCode::TimelockNotElapsed)));
    env.advance_slots(RISK_TIMELOCK_SLOTS);
    env.send(ix::execute_risk_update(0), &[]).unwrap();
    assert_eq!(env.market(0).risk, looser);
    assert_eq!(env.send(ix::execute_risk_update(0), &[]), Err(program_error(ErrorCode::NoPendingRiskChange)));
    // A fee change has no "safe" direction: queued too; the guardian can cancel it.
    let fee_change = RiskParams { taker_fee: 500, ..looser };
    env.send(ix::update_risk_params(key(&gov), 0, fee_change), &[&gov]).unwrap();
    assert_eq!(env.market(0).has_pending_risk, 1);
    env.send(ix::cancel_risk_update(key(&guardian), 0), &[&guardian]).unwrap();
    env.advance_slots(RISK_TIMELOCK_SLOTS);
    assert_eq!(env.send(ix::execute_risk_update(0), &[]), Err(program_error(ErrorCode::NoPendingRiskChange)));
    assert_eq!(env.market(0).risk, looser);
    // Bounds and signers.
    let stranger = new_keypair();
    assert_eq!(
        env.send(ix::update_risk_params(key(&stranger), 0, tighter), &[&stranger]),
        Err(program_error(ErrorCode::NotGovernance))
    );
    assert_eq!(
        env.send(ix::cancel_risk_update(key(&stranger), 0), &[&stranger]),
        Err(program_error(ErrorCode::NotGuardianOrGovernance))
    );
    let broken = RiskParams { initial_margin_ratio: looser.maintenance_margin_ratio, ..looser };
    assert_eq!(
        env.send(ix::update_risk_params(key(&gov), 0, broken), &[&gov]),
        Err(program_error(ErrorCode::InitialNotAboveMaintenance))
    );
    let broken = RiskParams { breaker_soft_band: 500_000, ..looser };
    assert_eq!(
        env.send(ix::update_risk_params(key(&gov), 0, broken), &[&gov]),
        Err(program_error(ErrorCode::MarketParamOutOfBounds))
    );
    assert_eq!(env.market(0).risk, looser);
}

#[test]
fn governance_moves_in_two_steps() {
    let Setup { mut env, .. } = setup();
    let gov = env.governance.clone();
    let next = new_keypair();
    let stranger = new_keypair();
    assert_eq!(
        env.send(ix::propose_authority(key(&stranger), key(&next)), &[&stranger]),
        Err(program_error(ErrorCode::NotGovernance))
    );
    env.send(ix::propose_authority(key(&gov), key(&next)), &[&gov]).unwrap();
    assert_eq!(env.exchange().authority, key(&gov), "nothing changes until the new key accepts");
    assert_eq!(
        env.send(ix::accept_authority(key(&stranger)), &[&stranger]),
        Err(program_error(ErrorCode::NotPendingAuthority))
    );
    env.send(ix::accept_authority(key(&next)), &[&next]).unwrap();
    let ex = env.exchange();
    assert_eq!((ex.authority, ex.pending_authority), (key(&next), anchor_lang::prelude::Pubkey::default()));
    assert_eq!(env.send(ix::set_guardian(key(&gov), key(&gov)), &[&gov]), Err(program_error(ErrorCode::NotGovernance)));
    env.send(ix::set_guardian(key(&next), key(&stranger)), &[&next]).unwrap();
    assert_eq!(env.exchange().guardian, key(&stranger));
}

#[test]
fn a_higher_liquidation_target_is_a_tightening_a_lower_one_waits_and_bounds_hold() {
    let Setup { mut env, .. } = setup();
    let gov = env.governance.clone();
    let base = env.market(0).risk;
    // Restoring more of initial margin in liquidation is the safe direction: applied now.
    let higher =
        RiskParams { liquidation_initial_share: 1_000_000, stressed_liquidation_initial_share: 2_000_000, ..base };
    env.send(ix::update_risk_params(key(&gov), 0, higher), &[&gov]).unwrap();
    assert_eq!((env.market(0).risk, env.market(0).has_pending_risk), (higher, 0));
    // Back down: queued behind the timelock.
    let lower = RiskParams { stressed_liquidation_initial_share: 1_000_000, ..higher };
    env.send(ix::update_risk_params(key(&gov), 0, lower), &[&gov]).unwrap();
    let m = env.market(0);
    assert_eq!((m.risk, m.pending_risk, m.has_pending_risk), (higher, lower, 1));
    // Past the bound: refused by name, nothing changes.
    let max = margin_engine::constants::MAX_LIQUIDATION_INITIAL_SHARE;
    for broken in [
        RiskParams { liquidation_initial_share: max + 1, ..higher },
        RiskParams { stressed_liquidation_initial_share: max + 1, ..higher },
    ] {
        assert_eq!(
            env.send(ix::update_risk_params(key(&gov), 0, broken), &[&gov]),
            Err(program_error(ErrorCode::MarketParamOutOfBounds))
        );
    }
    let m = env.market(0);
    assert_eq!((m.risk, m.pending_risk), (higher, lower));
}
