//! Property: over random sequences of trades, price moves, funding periods and withdrawals run
//! through the real program, no token is created or destroyed (exact conservation after every
//! step) and open interest stays balanced.
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Trade { taker: usize, maker: usize, taker_buys: bool, price_offset_bps: i64, size_centi: u64 },
    MovePrice { bps: i64 },
    FundingPeriod { fills_at_bps: i64 },
    Withdraw { trader: usize, usdc: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..4, 0usize..4, any::<bool>(), -300i64..300, 1u64..2_000).prop_map(|(taker, maker, taker_buys, price_offset_bps, size_centi)| Op::Trade { taker, maker, taker_buys, price_offset_bps, size_centi }),
        2 => (-800i64..800).prop_map(|bps| Op::MovePrice { bps }),
        1 => (-200i64..200).prop_map(|fills_at_bps| Op::FundingPeriod { fills_at_bps }),
        1 => (0usize..4, 1u64..400).prop_map(|(trader, usdc)| Op::Withdraw { trader, usdc }),
    ]
}

fn tick(price: u64) -> u64 {
    price - price % 1_000
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn random_activity_conserves_every_unit(ops in prop::collection::vec(op(), 1..14)) {
        let mut env = TestEnv::new(TestBackend::new());
        env.add_market("SOL-PERP", 100_000_000, default_risk());
        let filler = env.new_trader(0);
        let traders: Vec<Trader> = (0..4).map(|_| env.new_trader(5_000 * USDC)).collect();
        for t in &traders {
            env.deposit(t, 1_000 * USDC).unwrap();
        }
        let mut price: u64 = 100_000_000;
        let period = default_risk().funding_period_slots as u64;
        for op in ops {
            match op {
                Op::Trade { taker, maker, taker_buys, price_offset_bps, size_centi } => {
                    if taker == maker { continue; }
                    let p = tick((price as i128 * (10_000 + price_offset_bps as i128) / 10_000) as u64);
                    let side = if taker_buys { BID } else { ASK };
                    // Margin or band rejections are legitimate outcomes; conservation must hold either way.
                    let _ = env.trade(&filler, &traders[taker], &traders[maker], 0, side, p, size_centi * BASE as u64 / 100);
                    for t in &traders {
                        let _ = env.send(margin_engine_sdk::instructions::cancel_all_orders(t.owner, t.margin_account, None), &[&t.keypair]);
                    }
                }
                Op::MovePrice { bps } => {
                    price = tick(((price as i128) * (10_000 + bps as i128) / 10_000) as u64).max(1_000_000);
                    env.set_price(0, price as i64);
                }
                Op::FundingPeriod { fills_at_bps } => {
                    env.advance_slots(period / 2);
                    env.set_price(0, price as i64);
                    let p = tick((price as i128 * (10_000 + fills_at_bps as i128) / 10_000) as u64);
                    let _ = env.trade(&filler, &traders[0], &traders[1], 0, BID, p, BASE as u64 / 10);
                    env.advance_slots(period / 2);
                    env.set_price(0, price as i64);
                    env.update_funding(0).unwrap();
                }
                Op::Withdraw { trader, usdc } => {
                    let _ = env.withdraw(&traders[trader], usdc * USDC);
                }
            }
            env.assert_conservation();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    /// Over random portfolios and price paths, every liquidation step through the program leaves
    /// the target's maintenance health no worse (at the same price) and conserves every unit.
    #[test]
    fn liquidation_never_hurts_the_target_and_conserves(
        deposit_usd in 500u64..3_000, leverage_pct in 300u64..950, long in any::<bool>(),
        path in prop::collection::vec(-400i64..400, 4..14),
    ) {
        let mut env = TestEnv::new(TestBackend::new());
        env.add_market("SOL-PERP", 100_000_000, default_risk());
        let filler = env.new_trader(0);
        let target = env.new_trader(10_000 * USDC);
        let other = env.new_trader(1_000_000 * USDC);
        let liquidator = env.new_trader(1_000_000 * USDC);
        env.deposit(&target, deposit_usd * USDC).unwrap();
        env.deposit(&other, 500_000 * USDC).unwrap();
        env.deposit(&liquidator, 500_000 * USDC).unwrap();
        // Notional = deposit × leverage (3x..9.5x), in whole 0.01 base units at $100.
        let size = deposit_usd * leverage_pct / 100 * BASE as u64 / 100;
        let size = size - size % (BASE as u64 / 100);
        env.trade(&filler, &target, &other, 0, if long { BID } else { ASK }, 100_000_000, size).unwrap();
        let mut price: u64 = 100_000_000;
        for bps in path {
            price = tick(((price as i128) * (10_000 + bps as i128) / 10_000) as u64).max(1_000_000);
            env.advance_slots(1);
            env.set_price(0, price as i64);
            let cache = env.price_cache(&[(0, price)]);
            let before = margin_engine::health::account_health(&env.margin_account(target.margin_account), &cache).unwrap();
            let insurance_before = env.token_balance(margin_engine_sdk::pda::insurance_vault());
            if env.liquidate(&liquidator, &target, 0, u64::MAX).is_ok() {
                let after = margin_engine::health::account_health(&env.margin_account(target.margin_account), &cache).unwrap();
                prop_assert!(after.maintenance_health >= before.maintenance_health,
                    "health fell from {} to {}", before.maintenance_health, after.maintenance_health);
                prop_assert!(env.token_balance(margin_engine_sdk::pda::insurance_vault()) >= insurance_before);
            }
            env.assert_conservation();
        }
    }
}
