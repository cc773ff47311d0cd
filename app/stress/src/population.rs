//! A seeded population: traders with log-uniform collateral and leverage, mostly long, each opening
//! one position against one of a few deep-pocketed liquidity providers at the starting price.
use margin_engine_sdk::scenario::SplitMix;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;

#[derive(Clone, Copy, Debug)]
pub struct TraderSpec {
    pub collateral: u64,
    pub leverage: f64,
    pub long: bool,
}

pub fn traders(seed: u64, n: usize) -> Vec<TraderSpec> {
    let mut rng = SplitMix(seed ^ 0xA5A5_5A5A);
    (0..n)
        .map(|_| {
            let collateral = (500.0 * (40.0f64).powf(rng.uniform())) as u64 * USDC; // $500 .. $20,000
            let leverage = 2.0 * (4.5f64).powf(rng.uniform()); // 2x .. 9x (initial margin caps at 10x)
            TraderSpec { collateral, leverage, long: rng.uniform() < 0.6 }
        })
        .collect()
}

pub struct Population {
    pub traders: Vec<Trader>,
    pub liquidity_providers: Vec<Trader>,
    pub total_trader_collateral: u64,
}

/// Opens every trader's position at `price_1e6` (a whole number of `step` base units) against the
/// liquidity providers in turn. Traders whose size rounds to nothing stay flat.
pub fn build(
    env: &mut TestEnv<NativeBackend>,
    specs: &[TraderSpec],
    price_1e6: u64,
    step: u64,
    tick: u64,
) -> Population {
    let filler = env.new_trader(0);
    let lps: Vec<Trader> = (0..4).map(|_| env.new_trader(u64::MAX / 8)).collect();
    let total: u64 = specs.iter().map(|s| s.collateral).sum();
    for lp in &lps {
        // Enough that LPs are never the ones in trouble: they are the ADL candidates.
        env.deposit(lp, (total / 2).max(1_000_000 * USDC)).unwrap();
    }
    let price = price_1e6 - price_1e6 % tick;
    let mut traders = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let t = env.new_trader(spec.collateral);
        env.deposit(&t, spec.collateral).unwrap();
        let notional = spec.collateral as f64 * spec.leverage;
        let base = (notional / price as f64 * 1e9) as u64;
        let base = base - base % step;
        if base >= step {
            let lp = &lps[i % lps.len()];
            let side = if spec.long { BID } else { ASK };
            // A trader at the edge of initial margin may be refused: it then stays flat.
            let _ = env.trade(&filler, &t, lp, 0, side, price, base);
            let _ = env.send(
                margin_engine_sdk::instructions::cancel_all_orders(t.owner, t.margin_account, None),
                &[&t.keypair],
            );
            let _ = env.send(
                margin_engine_sdk::instructions::cancel_all_orders(lp.owner, lp.margin_account, None),
                &[&lp.keypair],
            );
        }
        traders.push(t);
    }
    Population { traders, liquidity_providers: lps, total_trader_collateral: total }
}
