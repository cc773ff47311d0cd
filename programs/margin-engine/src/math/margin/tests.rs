use super::*;
use proptest::prelude::*;

const PRICE_100: u64 = 100_000_000; // $100 in 1e6
const ONE_BASE: i64 = 1_000_000_000;

fn params() -> MarginParams {
    MarginParams {
        initial_margin_ratio: 100_000,    // 10%
        maintenance_margin_ratio: 50_000, // 5%
        size_premium_factor: 0,
        pnl_initial_haircut: 0,
        liquidation_buffer: 20_000,
        initial_multiplier: 0,
        maintenance_multiplier: 0,
        initial_addon: 0,
    }
}

fn long(base: i64, entry_price: u64, price: u64) -> PositionRisk {
    PositionRisk {
        base_amount: base,
        quote_amount: -(base_value_down(base, entry_price).unwrap() as i64),
        unsettled_funding: 0,
        open_bids: 0,
        open_asks: 0,
        price,
        params: params(),
        stable_price: 0,
    }
}

#[test]
fn flat_account_health_is_collateral() {
    let r = compute_health(1_000, &[]).unwrap();
    assert_eq!((r.initial_health, r.maintenance_health), (1_000, 1_000));
}

#[test]
fn hand_computed_long_at_a_loss() {
    // 10 base long from $100, now $90: PnL = -$100; notional $900.
    // initial req 10% = $90, maintenance 5% = $45. Collateral $200.
    let pos = long(10 * ONE_BASE, PRICE_100, 90_000_000);
    let r = compute_health(200_000_000, &[pos]).unwrap();
    assert_eq!(r.unrealized_pnl, -100_000_000);
    assert_eq!(r.initial_requirement, 90_000_000);
    assert_eq!(r.maintenance_requirement, 45_000_000);
    assert_eq!(r.initial_health, 200_000_000 - 100_000_000 - 90_000_000);
    assert_eq!(r.maintenance_health, 200_000_000 - 100_000_000 - 45_000_000);
}

#[test]
fn short_gains_when_price_falls() {
    // Short 2 base from $100 (received $200), price $80: PnL +$40, notional $160.
    let pos = PositionRisk {
        base_amount: -2 * ONE_BASE,
        quote_amount: 200_000_000,
        unsettled_funding: -1_000_000, // owes $1 of funding
        open_bids: 0,
        open_asks: 0,
        price: 80_000_000,
        params: params(),
        stable_price: 0,
    };
    let r = compute_health(0, &[pos]).unwrap();
    assert_eq!(r.unrealized_pnl, 39_000_000);
    assert_eq!(r.maintenance_health, 39_000_000 - 8_000_000);
    assert_eq!(r.initial_health, 39_000_000 - 16_000_000);
}

#[test]
fn haircut_applies_to_positive_initial_contribution_only() {
    let mut pos = long(ONE_BASE, PRICE_100, 150_000_000); // +$50 PnL, notional $150
    pos.params.pnl_initial_haircut = 500_000; // 50%
    let r = compute_health(0, &[pos]).unwrap();
    // initial contribution = 50 - 15 = 35 -> haircut to 17.5
    assert_eq!(r.initial_health, 17_500_000);
    assert_eq!(r.maintenance_health, 50_000_000 - 7_500_000);
}

#[test]
fn size_premium_grows_with_sqrt_of_size() {
    // factor 1,000 ppm per sqrt(unit): 100 units -> +10,000 ppm (+1%), 10,000 units -> +10%.
    assert_eq!(size_premium(100 * ONE_BASE as u64, 1_000).unwrap(), 10_001);
    assert_eq!(size_premium(10_000 * ONE_BASE as u64, 1_000).unwrap(), 100_001);
    assert_eq!(size_premium(5, 0).unwrap(), 0);
    let p = MarginParams { size_premium_factor: 1_000, ..params() };
    assert_eq!(margin_ratio(&p, 100 * ONE_BASE as u64, HealthKind::Initial).unwrap(), 110_001);
    assert_eq!(margin_ratio(&p, u64::MAX, HealthKind::Initial).unwrap(), 1_000_000);
}

#[test]
fn open_orders_raise_initial_margin_only() {
    // Long 1 at $100 with 3 bid and 1 ask open: worst case long 4 -> initial req 10% of $400.
    let mut pos = long(ONE_BASE, PRICE_100, PRICE_100);
    pos.open_bids = 3 * ONE_BASE as u64;
    pos.open_asks = ONE_BASE as u64;
    let r = compute_health(0, &[pos]).unwrap();
    assert_eq!(r.initial_requirement, 40_000_000);
    assert_eq!(r.maintenance_requirement, 5_000_000);
    // Asks dominate when they flip the position further than bids extend it.
    pos.open_bids = 0;
    pos.open_asks = 6 * ONE_BASE as u64;
    assert_eq!(pos.worst_case_base().unwrap(), -5 * ONE_BASE);
}

#[test]
fn rounding_is_against_the_account() {
    // 1 lot (1e-9 base) long bought for 1 native unit at price 1: value floors to 0, req ceil to 1.
    let pos = PositionRisk {
        base_amount: 1,
        quote_amount: -1,
        unsettled_funding: 0,
        open_bids: 0,
        open_asks: 0,
        price: 1,
        params: params(),
        stable_price: 0,
    };
    let r = compute_health(10, &[pos]).unwrap();
    assert_eq!(r.unrealized_pnl, -1);
    assert_eq!(r.maintenance_requirement, 1);
    // A short of one lot: value -1e-9 floors to -1.
    let short = PositionRisk {
        base_amount: -1,
        quote_amount: 0,
        unsettled_funding: 0,
        open_bids: 0,
        open_asks: 0,
        price: 1,
        params: params(),
        stable_price: 0,
    };
    assert_eq!(unrealized_pnl(&short).unwrap(), -1);
}

fn arb_params() -> impl Strategy<Value = MarginParams> {
    (5_000u32..500_000, 1u32..500_000, 0u32..100_000, 0u32..=1_000_000).prop_map(|(maint, extra, premium, haircut)| {
        MarginParams {
            initial_margin_ratio: (maint + extra).min(1_000_000),
            maintenance_margin_ratio: maint,
            size_premium_factor: premium,
            pnl_initial_haircut: haircut,
            liquidation_buffer: 20_000,
            initial_multiplier: 0,
            maintenance_multiplier: 0,
            initial_addon: 0,
        }
    })
}

fn arb_position() -> impl Strategy<Value = PositionRisk> {
    (
        -1_000_000 * ONE_BASE..1_000_000 * ONE_BASE,
        -1_000_000_000_000_000i64..1_000_000_000_000_000,
        -1_000_000_000i64..1_000_000_000,
        1u64..1_000_000_000_000,
        arb_params(),
    )
        .prop_map(|(base, quote, funding, price, params)| PositionRisk {
            base_amount: base,
            quote_amount: quote,
            unsettled_funding: funding,
            open_bids: 0,
            open_asks: 0,
            price,
            params,
            stable_price: 0,
        })
}

proptest! {
    #[test]
    fn initial_health_never_exceeds_maintenance(collateral in -1_000_000_000_000i64..1_000_000_000_000, positions in prop::collection::vec(arb_position(), 0..8)) {
        let r = compute_health(collateral, &positions).unwrap();
        prop_assert!(r.initial_health <= r.maintenance_health);
        prop_assert!(r.liquidation_health <= r.maintenance_health);
        prop_assert!(r.initial_requirement >= r.maintenance_requirement);
    }

    #[test]
    fn health_monotone_in_price_for_a_long(pos in arb_position(), bump in 1u64..1_000_000_000) {
        let mut pos = pos;
        pos.base_amount = pos.base_amount.saturating_abs().max(1);
        let lo = compute_health(0, &[pos]).unwrap();
        let hi = compute_health(0, &[PositionRisk { price: pos.price + bump, ..pos }]).unwrap();
        prop_assert!(hi.maintenance_health >= lo.maintenance_health);
        prop_assert!(hi.initial_health >= lo.initial_health);
    }

    #[test]
    fn health_monotone_in_price_falling_for_a_short(pos in arb_position(), bump in 1u64..1_000_000_000) {
        let mut pos = pos;
        pos.base_amount = -pos.base_amount.saturating_abs().max(1);
        let lo = compute_health(0, &[pos]).unwrap();
        let hi = compute_health(0, &[PositionRisk { price: pos.price + bump, ..pos }]).unwrap();
        prop_assert!(hi.maintenance_health <= lo.maintenance_health);
        prop_assert!(hi.initial_health <= lo.initial_health);
    }

    #[test]
    fn health_moves_one_for_one_with_collateral(c in -1_000_000_000_000i64..1_000_000_000_000, add in 0i64..1_000_000_000_000, positions in prop::collection::vec(arb_position(), 0..8)) {
        let a = compute_health(c, &positions).unwrap();
        let b = compute_health(c + add, &positions).unwrap();
        prop_assert_eq!(b.initial_health - a.initial_health, add as i128);
        prop_assert_eq!(b.maintenance_health - a.maintenance_health, add as i128);
    }

    #[test]
    fn one_pass_requirements_equal_the_per_kind_ones(pos in arb_position(), bids in 0u64..1_000_000_000_000_000, asks in 0u64..1_000_000_000_000_000) {
        let pos = PositionRisk { open_bids: bids, open_asks: asks, ..pos };
        let r = compute_health(0, &[pos]).unwrap();
        prop_assert_eq!(r.initial_requirement, margin_requirement(&pos, HealthKind::Initial).unwrap());
        prop_assert_eq!(r.maintenance_requirement, margin_requirement(&pos, HealthKind::Maintenance).unwrap());
        prop_assert_eq!(r.liquidation_requirement, margin_requirement(&pos, HealthKind::Liquidation).unwrap());
    }

    #[test]
    fn extreme_inputs_never_panic(collateral in any::<i64>(), base in any::<i64>(), quote in any::<i64>(), funding in any::<i64>(), price in any::<u64>(), params in arb_params()) {
        // Must return a value or MathOverflow, never panic or wrap.
        let pos = PositionRisk { base_amount: base, quote_amount: quote, unsettled_funding: funding, open_bids: base.unsigned_abs() / 3, open_asks: quote.unsigned_abs() / 5, price, params, stable_price: 0 };
        let _ = compute_health(collateral, &[pos; 8]);
    }
}

fn arb_position_with_orders() -> impl Strategy<Value = PositionRisk> {
    (arb_position(), 0u64..1_000_000 * ONE_BASE as u64, 0u64..1_000_000 * ONE_BASE as u64, any::<bool>()).prop_map(
        |(pos, bids, asks, orders)| if orders { PositionRisk { open_bids: bids, open_asks: asks, ..pos } } else { pos },
    )
}

proptest! {
    // The 64-bit fast path is an optimisation only: same report as the 128-bit reference, or
    // none (and the reference runs). Ranges reach past 64 bits so both outcomes occur.
    #[test]
    fn health_64_equals_the_128_bit_reference(
        collateral in any::<i64>(),
        positions in prop::collection::vec(arb_position_with_orders(), 0..8),
        wide in prop::collection::vec((any::<i64>(), any::<i64>(), 1u64..u64::MAX), 0..3),
    ) {
        let mut all = positions.clone();
        for (base, quote, price) in wide {
            if let Some(p) = positions.first() {
                all.push(PositionRisk { base_amount: base, quote_amount: quote, price, ..*p });
            }
        }
        let reference = compute_health_128(collateral, &all);
        match compute_health_64(collateral, &all) {
            Some(fast) => prop_assert_eq!(Ok(fast), reference),
            None => {}
        }
        prop_assert_eq!(compute_health(collateral, &all), reference);
    }
}

#[test]
fn health_64_takes_realistic_accounts_and_declines_huge_ones() {
    let params = MarginParams {
        initial_margin_ratio: 100_000,
        maintenance_margin_ratio: 50_000,
        size_premium_factor: 1_000,
        pnl_initial_haircut: 100_000,
        liquidation_buffer: 20_000,
        ..MarginParams::default()
    };
    let pos = PositionRisk {
        base_amount: 100 * ONE_BASE,
        quote_amount: -10_000_000_000,
        unsettled_funding: -5,
        open_bids: ONE_BASE as u64,
        open_asks: 0,
        price: 101_000_000,
        params,
        stable_price: 0,
    };
    let fast = compute_health_64(1_000_000_000, &[pos, pos]).expect("fits 64 bits");
    assert_eq!(Ok(fast), compute_health_128(1_000_000_000, &[pos, pos]));
    let huge = PositionRisk { base_amount: i64::MAX, price: u64::MAX, ..pos };
    assert!(compute_health_64(0, &[huge]).is_none());
    assert_eq!(compute_health(0, &[huge]), compute_health_128(0, &[huge]));
}

#[test]
fn liquidation_buffer_in_force_restores_a_share_of_initial_margin() {
    let p = MarginParams {
        initial_margin_ratio: 100_000,
        maintenance_margin_ratio: 50_000,
        liquidation_buffer: 20_000,
        ..MarginParams::default()
    };
    // No share, or a share below maintenance + buffer: the buffer alone.
    assert_eq!(liquidation_buffer_in_force(&p, 0), 20_000);
    assert_eq!(liquidation_buffer_in_force(&p, 600_000), 20_000);
    // All of initial margin at 1x: 10% − 5%.
    assert_eq!(liquidation_buffer_in_force(&p, 1_000_000), 50_000);
    // Volatility: initial at 2.5x plus a 5% add-on (30%), maintenance lagging at 1.2x (6%).
    let stressed =
        MarginParams { initial_multiplier: 2_500_000, maintenance_multiplier: 1_200_000, initial_addon: 50_000, ..p };
    assert_eq!(liquidation_buffer_in_force(&stressed, 1_000_000), 240_000);
    assert_eq!(liquidation_buffer_in_force(&stressed, 500_000), 90_000);
    // Capped at 100%.
    let extreme = MarginParams { initial_margin_ratio: 1_000_000, initial_multiplier: 3_000_000, ..p };
    assert_eq!(liquidation_buffer_in_force(&extreme, 1_000_000), 1_000_000);
}
