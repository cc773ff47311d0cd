//! The crash both keeper tests unwind: six leveraged longs (9x to 7x) against three well-funded
//! shorts on one market, a $2,000 insurance stake, and a funded account for the keeper.
use margin_engine::state::margin_account_flags::{BANKRUPT, BEING_LIQUIDATED};
use margin_engine::state::RiskParams;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;

pub struct Crash {
    pub env: TestEnv<NativeBackend>,
    pub longs: Vec<Trader>,
    /// Its margin account (sub-account 0) holds $100,000.
    pub keeper_trader: Trader,
}

pub fn six_levered_longs() -> Crash {
    let risk = RiskParams { insurance_draw_cap: 2_500 * USDC, ..default_risk() };
    let mut env = TestEnv::new(NativeBackend::new());
    env.add_market("SOL-PERP", 100_000_000, risk);
    let filler = env.new_trader(0);
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 2_000 * USDC).unwrap();
    let shorts: Vec<Trader> = (0..3).map(|_| env.new_trader(1_000_000 * USDC)).collect();
    for s in &shorts {
        env.deposit(s, 20_000 * USDC).unwrap();
    }
    let mut longs = vec![];
    for i in 0..6u64 {
        let t = env.new_trader(100_000 * USDC);
        env.deposit(&t, (1_100 + 100 * i) * USDC).unwrap();
        env.trade(&filler, &t, &shorts[i as usize % 3], 0, BID, 100_000_000, 100 * BASE as u64).unwrap();
        longs.push(t);
    }
    let keeper_trader = env.new_trader(1_000_000 * USDC);
    env.deposit(&keeper_trader, 100_000 * USDC).unwrap();
    Crash { env, longs, keeper_trader }
}

/// No long is bankrupt, flagged, or below maintenance at `price`.
pub fn nothing_left(env: &mut TestEnv<NativeBackend>, longs: &[Trader], price: u64) -> bool {
    longs.iter().all(|t| {
        let a = env.margin_account(t.margin_account);
        let h = env.health(t.margin_account, &[(0, price)]);
        a.flags & (BANKRUPT | BEING_LIQUIDATED) == 0 && h.maintenance_health >= 0
    })
}
