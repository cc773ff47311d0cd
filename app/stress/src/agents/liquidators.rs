//! Competing liquidators: each is the project's keeper bot with its own capital and latency,
//! acting on the same snapshot of the chain. Each unloads what it took over into the depth
//! within `unload_seconds`, paying the impact. Any of them can be down for a while.
use margin_engine_keeper::Keeper;
use margin_engine_keeper::View;
use margin_engine_sdk::scenario::SplitMix;
use margin_engine_tests::Trader;

use crate::world::{SharedChain, TradeRefusal};

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LiquidatorSpec {
    /// Collateral, as a share of all traders' collateral at start.
    pub capital_share: f64,
    /// Mean reaction time (exponential): a step whose draw exceeds the step length is missed.
    pub mean_latency_seconds: f64,
}

/// Four liquidators, a fast well-funded one down to a slow small one. The same for every preset.
pub const LIQUIDATORS: [LiquidatorSpec; 4] = [
    LiquidatorSpec { capital_share: 0.15, mean_latency_seconds: 1.0 },
    LiquidatorSpec { capital_share: 0.10, mean_latency_seconds: 4.0 },
    LiquidatorSpec { capital_share: 0.05, mean_latency_seconds: 10.0 },
    LiquidatorSpec { capital_share: 0.05, mean_latency_seconds: 30.0 },
];

pub struct Liquidator {
    pub keeper: Keeper<SharedChain>,
    pub trader: Trader,
    pub spec: LiquidatorSpec,
    /// Down over `[start, end)` seconds of the run.
    pub outage: Option<(u64, u64)>,
    pub unload_seconds: u64,
    /// Base unloaded into the depth, per market.
    pub unloaded: Vec<u64>,
}

/// This step's reaction time of each liquidator, or None when it is down or too slow for the
/// step. Sorted fastest first: the fastest gets the first shot at every account.
/// `bots`: each liquidator's mean latency and outage.
pub fn turn_order(
    bots: &[(f64, Option<(u64, u64)>)],
    now_seconds: u64,
    step_seconds: u64,
    rng: &mut SplitMix,
) -> Vec<usize> {
    let mut order: Vec<(f64, usize)> = bots
        .iter()
        .enumerate()
        .filter(|(_, (_, outage))| !outage.is_some_and(|(s, e)| now_seconds >= s && now_seconds < e))
        .map(|(i, (mean, _))| (-mean * rng.uniform().ln(), i))
        .filter(|(latency, _)| *latency <= step_seconds as f64)
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Share of what a liquidator holds that it unloads this step.
pub fn unload_share(step_seconds: u64, unload_seconds: u64) -> f64 {
    if unload_seconds == 0 {
        1.0
    } else {
        (step_seconds as f64 / unload_seconds as f64).min(1.0)
    }
}

impl Liquidator {
    /// One turn: the keeper acts on `view`, then part of the inventory goes into the depth.
    pub fn act(&mut self, view: &View, cranks: bool, step_seconds: u64) {
        self.keeper.config.modes.cranks = cranks;
        // Program refusals are per account; transport errors cannot happen in-process.
        let _ = self.keeper.tick_on(view);
        self.unload(step_seconds);
    }

    fn unload(&mut self, step_seconds: u64) {
        let world = self.keeper.chain.0.clone();
        let Some(account) = world.borrow_mut().margin_account(&self.trader.margin_account) else { return };
        let share = unload_share(step_seconds, self.unload_seconds);
        for p in account.active_positions().filter(|p| p.base_amount != 0) {
            let market = p.market_index;
            let step = world.borrow().markets[market as usize].spec.step_size;
            let held = p.base_amount.unsigned_abs();
            let mut base = ((held as f64 * share).ceil() as u64).max(step);
            if held <= 2 * step || base > held {
                base = held;
            }
            let sell = p.base_amount > 0;
            match world.borrow_mut().depth_trade(&self.trader, market, !sell, base, true, true) {
                Ok(done) => self.unloaded[market as usize] += done,
                Err(TradeRefusal::TooSmall) | Err(TradeRefusal::Program(_)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_act_first_the_slow_miss_steps_the_down_never_act() {
        let bots = [(1.0, None), (30.0, None), (1.0, Some((100, 200)))];
        let mut rng = SplitMix(3);
        let (mut first, mut slow_acted, mut down_acted) = (0, 0, 0);
        for t in 0..1_000u64 {
            let order = turn_order(&bots, 100 + t % 100, 10, &mut rng);
            first += usize::from(order.first() == Some(&0));
            slow_acted += usize::from(order.contains(&1));
            down_acted += usize::from(order.contains(&2));
        }
        assert_eq!(down_acted, 0);
        assert!(first > 900, "{first}");
        // P(Exp(30) <= 10) = 1 - e^(-1/3), about 28%.
        assert!((200..360).contains(&slow_acted), "{slow_acted}");
    }

    #[test]
    fn unload_share_spreads_over_the_window() {
        assert_eq!(unload_share(10, 300), 10.0 / 300.0);
        assert_eq!(unload_share(600, 300), 1.0);
        assert_eq!(unload_share(10, 0), 1.0);
    }
}
