//! Issue 7 through the real program: volatility-adjusted margin and the regime signal.
use margin_engine::error::ErrorCode;
use margin_engine::math::margin::{margin_ratio, HealthKind, MarginParams};
use margin_engine::math::volatility::{project, target_multiplier, CALM, STRESSED};
use margin_engine::state::{margin_account_flags, Market, RiskParams};
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
    a: Trader,
    price: u64,
}

/// A: $1,100, long 100 at $100 (initial health ~$90 at 1x). Calm refreshes first.
fn setup() -> Setup {
    setup_with(volatility_risk())
}

fn setup_with(risk: RiskParams) -> Setup {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, risk);
    let filler = env.new_trader(0);
    let a = env.new_trader(100_000 * USDC);
    let b = env.new_trader(100_000 * USDC);
    env.deposit(&a, 1_100 * USDC).unwrap();
    env.deposit(&b, 50_000 * USDC).unwrap();
    env.trade(&filler, &a, &b, 0, BID, P100, 100 * BASE as u64).unwrap();
    let mut s = Setup { env, a, price: P100 };
    for _ in 0..20 {
        refresh_at(&mut s, 25, P100);
    }
    s
}

fn refresh_at(s: &mut Setup, slots: u64, price: u64) {
    s.env.advance_slots(slots);
    s.env.set_price(0, price as i64);
    s.env.refresh_market(0).unwrap();
    s.price = price;
}

/// ±2% every 5 slots: violent but inside the breaker's soft band.
fn burst(s: &mut Setup, n: usize) {
    for i in 0..n {
        let p = if i % 2 == 0 { 102_000_000 } else { P100 };
        refresh_at(s, 5, p);
    }
}

#[test]
fn volatility_raises_initial_margin_at_once_and_maintenance_gradually() {
    let mut s = setup();
    let calm = s.env.market(0);
    assert_eq!((calm.initial_multiplier, calm.maintenance_multiplier, calm.regime), (1_000_000, 1_000_000, CALM));
    s.env.withdraw(&s.a.clone(), USDC).unwrap();

    burst(&mut s, 10);
    let m = s.env.market(0);
    assert!(m.initial_multiplier >= 2_000_000, "initial multiplier {}", m.initial_multiplier);
    assert!(
        m.maintenance_multiplier <= 1_000_000 + 50 * 20,
        "maintenance rises at most 20 ppm per slot: {}",
        m.maintenance_multiplier
    );
    assert_eq!(m.regime, STRESSED, "a burst of volatility marks the market before prices fall far");

    // The requirement the program enforces is the SDK's: base 10% × multiplier + 5% STRESSED add-on.
    let params = m.margin_params();
    let ratio = margin_ratio(&params, 100 * BASE as u64, HealthKind::Initial).unwrap();
    assert_eq!(ratio, (100_000u128 * m.initial_multiplier as u128).div_ceil(1_000_000) + 50_000);
    let h = s.env.health(s.a.margin_account, &[(0, s.price)]);
    assert_eq!(h.initial_requirement, 10_000 * USDC as u128 * ratio / 1_000_000);
    assert!(h.initial_health < 0 && h.maintenance_health > 0);

    // New risk and withdrawals are blocked; nobody is liquidated by the parameter step.
    let a = s.a.clone();
    assert_eq!(s.env.withdraw(&a, USDC), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(
        s.env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    let liquidator = s.env.new_trader(0);
    assert_eq!(s.env.liquidate(&liquidator, &a, 0, u64::MAX), Err(program_error(ErrorCode::AccountNotLiquidatable)));
    s.env.assert_conservation();
}

#[test]
fn margin_decays_back_at_a_bounded_rate_and_the_regime_calms() {
    let mut s = setup();
    burst(&mut s, 10);
    let peak = s.env.market(0).initial_multiplier;
    refresh_at(&mut s, 100, P100);
    let after_100 = s.env.market(0).initial_multiplier;
    assert!(after_100 >= peak - 100 * 50, "decay is bounded: {peak} -> {after_100}");
    // What the SDK promises for later, with no new shock, is what the program then does.
    let m = s.env.market(0);
    let tomorrow = project(&m.vol_state(), &m.risk.vol_params(), 40_000);
    assert!(tomorrow.initial_multiplier <= after_100);
    assert!(tomorrow.initial_multiplier >= target_multiplier(&m.vol_state(), &m.risk.vol_params()));
    for _ in 0..150 {
        refresh_at(&mut s, 400, P100);
    }
    let m = s.env.market(0);
    assert_eq!((m.initial_multiplier, m.regime), (1_000_000, CALM));
    let a = s.a.clone();
    s.env.withdraw(&a, USDC).unwrap();
}

#[test]
fn the_multiplier_flows_into_fills() {
    let mut s = setup();
    let filler = s.env.new_trader(0);
    let c = s.env.new_trader(100_000 * USDC);
    let d = s.env.new_trader(100_000 * USDC);
    s.env.deposit(&c, 1_000 * USDC).unwrap();
    s.env.deposit(&d, 50_000 * USDC).unwrap();
    // At 1x, $1,000 carries 90 base at $100 (initial 10%).
    let bid = s.env.place_order(&c, 0, BID, P100, 90 * BASE as u64, OrderOpts::default()).unwrap();
    let ask = s.env.place_order(&d, 0, ASK, P100, 90 * BASE as u64, OrderOpts::default()).unwrap();
    burst(&mut s, 10);
    // Same orders, now under ~2x margin plus the add-on: the fill is refused for the maker (c).
    let fill = margin_engine_sdk::instructions::Fill {
        market_index: 0,
        taker: d.margin_account,
        taker_order_id: ask,
        maker: c.margin_account,
        maker_order_id: bid,
        max_base_amount: u64::MAX,
    };
    assert_eq!(s.env.fill(&filler, fill), Err(program_error(ErrorCode::MakerInsufficientMargin)));
}

/// A's long, taken under maintenance after a 6.5% drop in a STRESSED market, liquidated to the
/// end with `share` of initial margin as the target. Returns the base left, A's final health and
/// the initial ratio in force at the end.
fn liquidate_in_stress(stressed_share: u32) -> (i64, margin_engine::math::margin::HealthReport, u128, Market) {
    let mut s = setup_with(RiskParams { stressed_liquidation_initial_share: stressed_share, ..volatility_risk() });
    refresh_at(&mut s, 25, 93_500_000);
    assert_eq!(s.env.market(0).regime, STRESSED, "a 6.5% drop is a jump");
    let liquidator = s.env.new_trader(100_000 * USDC);
    s.env.deposit(&liquidator, 50_000 * USDC).unwrap();
    let a = s.a.clone();
    s.env.liquidate(&liquidator, &a, 0, u64::MAX).unwrap();
    while s.env.margin_account(a.margin_account).has_flag(margin_account_flags::BEING_LIQUIDATED) {
        s.env.advance_slots(1);
        s.env.set_price(0, s.price as i64);
        s.env.liquidate(&liquidator, &a, 0, u64::MAX).unwrap();
    }
    s.env.assert_conservation();
    let m = s.env.market(0);
    let base = s.env.margin_account(a.margin_account).positions[0].base_amount;
    let h = s.env.health(a.margin_account, &[(0, s.price)]);
    let initial = margin_ratio(&m.margin_params(), base.unsigned_abs(), HealthKind::Initial).unwrap();
    (base, h, initial, m)
}

#[test]
fn in_stress_a_partial_liquidation_restores_initial_margin_not_maintenance_plus_two_percent() {
    let (base_buffer_only, h0, _, m0) = liquidate_in_stress(0);
    let (base_restored, h1, initial, m1) = liquidate_in_stress(1_000_000);
    assert_eq!((m0.regime, m1.regime), (STRESSED, STRESSED));
    // Buffer only: the account is left at maintenance + 2%, levered well above what a new
    // position may carry in this regime.
    let notional = |base: i64, price: u64| base.unsigned_abs() as u128 * price as u128 / BASE as u128;
    assert!(h0.equity() > 0 && h0.liquidation_health >= 0);
    let leverage_left = notional(base_buffer_only, 93_500_000) as f64 / h0.equity() as f64;
    // Restoring initial margin in force (10% × multiplier + 5% add-on) takes more of the position,
    // and what is left carries at least that margin: equity ≥ initial ratio × notional.
    assert!(base_restored < base_buffer_only, "{base_restored} vs {base_buffer_only}");
    let required = notional(base_restored, 93_500_000) * initial / 1_000_000;
    assert!(h1.equity() as u128 >= required, "equity {} below initial requirement {required}", h1.equity());
    let leverage_restored = notional(base_restored, 93_500_000) as f64 / h1.equity() as f64;
    assert!(leverage_restored < leverage_left * 0.6, "{leverage_restored:.1}x vs {leverage_left:.1}x");
    // The buffer the program used is the SDK's.
    let p = m1.margin_params();
    assert_eq!(
        p.liquidation_buffer,
        margin_engine::math::margin::liquidation_buffer_in_force(
            &MarginParams { liquidation_buffer: 20_000, ..p },
            1_000_000
        )
    );
    assert!(p.liquidation_buffer > 20_000);
}

#[test]
fn the_calm_share_applies_only_in_calm_and_bounds_are_checked() {
    let mut risk = RiskParams { liquidation_initial_share: 1_000_000, ..volatility_risk() };
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, risk);
    let m = env.market(0);
    assert_eq!(m.regime, CALM);
    // Calm, multiplier 1: initial 10% − maintenance 5% = a 5% buffer instead of 2%.
    assert_eq!(m.margin_params().liquidation_buffer, 50_000);
    risk.stressed_liquidation_initial_share = margin_engine::constants::MAX_LIQUIDATION_INITIAL_SHARE + 1;
    assert!(risk.validate().is_err(), "a share above the bound is refused");
}
