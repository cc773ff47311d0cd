//! Live traders: each has a style and habits drawn per seed, and decides every step from what it
//! can see (its own account, recent returns). The decision is a pure function (`decide`), so its
//! rules are unit-tested apart from the chain.
use margin_engine_sdk::scenario::SplitMix;

use crate::model::markets::MarketSpec;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Style {
    /// Trades in the direction of the last half hour's move.
    Momentum,
    /// Fades the last half hour's move.
    MeanReversion,
}

/// A trader's habits, drawn once per seed.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Profile {
    pub style: Style,
    /// Average voluntary trades a day.
    pub trades_per_day: f64,
    /// Leverage drawn per trade, log-uniform in this range (capped by each market's initial margin).
    pub leverage_min: f64,
    pub leverage_max: f64,
    /// Closes a position whose unrealised PnL reaches this share of its notional...
    pub take_profit: f64,
    /// ...or loses this share (a stop-out).
    pub stop_loss: f64,
    /// The stop-loss is a stop-market order on chain (fired by a keeper), not a decision taken
    /// at the trader's next look.
    pub stop_orders: bool,
    /// Tops up collateral on a margin warning, after `top_up_delay_seconds`.
    pub tops_up: bool,
    pub top_up_delay_seconds: u64,
    /// Withdraws half of any profit above 50% of what it deposited.
    pub withdraws_profit: bool,
}

/// Seconds of history behind `Observation::recent_return`.
pub const SIGNAL_SECONDS: u64 = 1_800;
/// A margin warning: equity below this multiple of the maintenance requirement.
pub const WARNING_RATIO: f64 = 1.5;
/// A top-up brings equity back to this multiple of the maintenance requirement.
pub const TOP_UP_TO_RATIO: f64 = 3.0;

/// Which stop-losses the live traders who use one keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum StopPolicy {
    /// Stop-market orders on chain (`orders::stop_market`), fired by the trigger keeper.
    Orders,
    /// Decided at each of the trader's looks (a stop kept in the trader's head).
    Mental,
    /// No stop-losses at all: the comparison that shows what stops avoided.
    None,
}

impl StopPolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "orders" => Some(Self::Orders),
            "mental" => Some(Self::Mental),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

impl Profile {
    /// Draws the habits; the same draws whatever `stops` is, so runs that differ only in the stop
    /// policy have the same population.
    pub fn draw(rng: &mut SplitMix, stops: StopPolicy) -> Self {
        let style = if rng.uniform() < 0.5 { Style::Momentum } else { Style::MeanReversion };
        Profile {
            style,
            trades_per_day: 2.0 + 10.0 * rng.uniform(),
            leverage_min: 1.5,
            leverage_max: 2.0 + 6.0 * rng.uniform(),
            take_profit: 0.05 + 0.15 * rng.uniform(),
            stop_loss: match (rng.uniform() < 0.4, 0.03 + 0.07 * rng.uniform()) {
                (true, share) if stops != StopPolicy::None => share,
                _ => f64::INFINITY,
            },
            stop_orders: stops == StopPolicy::Orders,
            tops_up: rng.uniform() < 0.4,
            top_up_delay_seconds: (60.0 + 1_740.0 * rng.uniform()) as u64,
            withdraws_profit: rng.uniform() < 0.3,
        }
    }
}

/// One position as the trader sees it (USD).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PositionView {
    /// Signed notional at the oracle (long positive).
    pub notional: f64,
    pub unrealized_pnl: f64,
}

/// What a trader sees at a step (USD).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub equity: f64,
    pub maintenance_requirement: f64,
    /// Free initial margin (initial health).
    pub initial_health: f64,
    pub positions: [PositionView; 3],
    /// Log return of each market's oracle over the last `SIGNAL_SECONDS`.
    pub recent_return: [f64; 3],
    pub wallet: f64,
    pub deposited: f64,
    /// Seconds since equity first fell below the warning line (None: no warning).
    pub warned_for_seconds: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    Hold,
    /// Signed notional to trade in `market` (buys positive); `reduce_only` when closing.
    Trade {
        market: usize,
        notional: f64,
        reduce_only: bool,
        stop_out: bool,
    },
    TopUp(f64),
    Withdraw(f64),
}

/// The trader's decision this step. `step_seconds` sets the chance of a voluntary trade.
pub fn decide(
    profile: &Profile,
    obs: &Observation,
    markets: &[MarketSpec],
    step_seconds: u64,
    rng: &mut SplitMix,
) -> Decision {
    if obs.equity <= 0.0 {
        return Decision::Hold;
    }
    // A margin warning comes first: top up once the delay has passed.
    if let Some(waited) = obs.warned_for_seconds {
        if profile.tops_up && waited >= profile.top_up_delay_seconds && obs.wallet > 0.0 {
            let want = TOP_UP_TO_RATIO * obs.maintenance_requirement - obs.equity;
            if want > 0.0 {
                return Decision::TopUp(want.min(obs.wallet));
            }
        }
    }
    // Take profit and stop-loss, per position.
    for (market, p) in obs.positions.iter().enumerate() {
        if p.notional == 0.0 {
            continue;
        }
        let r = p.unrealized_pnl / p.notional.abs();
        if r >= profile.take_profit || (!profile.stop_orders && r <= -profile.stop_loss) {
            return Decision::Trade { market, notional: -p.notional, reduce_only: true, stop_out: r < 0.0 };
        }
    }
    // Voluntary trades: a Poisson clock.
    let chance = profile.trades_per_day * step_seconds as f64 / 86_400.0;
    if rng.uniform() < chance {
        let market = pick_market(markets, rng);
        let signal = obs.recent_return[market];
        let follow = match profile.style {
            Style::Momentum => 1.0,
            Style::MeanReversion => -1.0,
        };
        // Below a 0.2% move there is no signal: a coin flip.
        let direction = if signal.abs() < 0.002 {
            if rng.uniform() < 0.5 {
                1.0
            } else {
                -1.0
            }
        } else {
            follow * signal.signum()
        };
        let held = obs.positions[market].notional;
        if held != 0.0 && held.signum() != direction {
            // Against the position: close it.
            return Decision::Trade { market, notional: -held, reduce_only: true, stop_out: false };
        }
        let max_leverage = 0.9 * 1e6 / markets[market].initial_margin_ratio as f64;
        let leverage = (profile.leverage_min * (profile.leverage_max / profile.leverage_min).powf(rng.uniform()))
            .min(max_leverage);
        // Spend at most the free initial margin, so most trades pass the initial health check.
        let budget = obs.initial_health.max(0.0) * 1e6 / markets[market].initial_margin_ratio as f64;
        let notional = (leverage * obs.equity * markets[market].weight).min(0.9 * budget);
        if notional >= 10.0 {
            return Decision::Trade { market, notional: direction * notional, reduce_only: false, stop_out: false };
        }
        return Decision::Hold;
    }
    if profile.withdraws_profit && obs.warned_for_seconds.is_none() && obs.equity > 1.5 * obs.deposited {
        let amount = (0.5 * (obs.equity - obs.deposited)).min(0.9 * obs.initial_health.max(0.0));
        if amount >= 1.0 {
            return Decision::Withdraw(amount);
        }
    }
    Decision::Hold
}

/// A market drawn in proportion to its weight.
pub fn pick_market(markets: &[MarketSpec], rng: &mut SplitMix) -> usize {
    let mut u = rng.uniform() * markets.iter().map(|m| m.weight).sum::<f64>();
    for (i, m) in markets.iter().enumerate() {
        if u < m.weight {
            return i;
        }
        u -= m.weight;
    }
    markets.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::markets::MARKETS;

    fn profile(style: Style) -> Profile {
        Profile {
            style,
            trades_per_day: 1e9, // always trades when nothing else comes first
            leverage_min: 2.0,
            leverage_max: 2.0,
            take_profit: 0.1,
            stop_loss: 0.05,
            stop_orders: false,
            tops_up: true,
            top_up_delay_seconds: 300,
            withdraws_profit: true,
        }
    }

    fn obs() -> Observation {
        Observation {
            equity: 10_000.0,
            maintenance_requirement: 500.0,
            initial_health: 9_000.0,
            positions: [PositionView::default(); 3],
            recent_return: [0.0; 3],
            wallet: 5_000.0,
            deposited: 10_000.0,
            warned_for_seconds: None,
        }
    }

    #[test]
    fn styles_follow_or_fade_the_move() {
        let o = Observation { recent_return: [-0.02, -0.02, -0.02], ..obs() };
        for seed in 0..20 {
            let mut rng = SplitMix(seed);
            match decide(&profile(Style::Momentum), &o, &MARKETS, 10, &mut rng) {
                Decision::Trade { notional, reduce_only: false, .. } => {
                    assert!(notional < 0.0, "momentum sells a fall")
                }
                d => panic!("{d:?}"),
            }
            let mut rng = SplitMix(seed);
            match decide(&profile(Style::MeanReversion), &o, &MARKETS, 10, &mut rng) {
                Decision::Trade { notional, .. } => assert!(notional > 0.0, "mean reversion buys a fall"),
                d => panic!("{d:?}"),
            }
        }
    }

    #[test]
    fn take_profit_and_stop_loss_close_the_position() {
        let mut o = obs();
        o.positions[1] = PositionView { notional: 20_000.0, unrealized_pnl: 2_500.0 };
        let d = decide(&profile(Style::Momentum), &o, &MARKETS, 10, &mut SplitMix(1));
        assert_eq!(d, Decision::Trade { market: 1, notional: -20_000.0, reduce_only: true, stop_out: false });
        o.positions[1] = PositionView { notional: -20_000.0, unrealized_pnl: -1_200.0 };
        let d = decide(&profile(Style::Momentum), &o, &MARKETS, 10, &mut SplitMix(1));
        assert_eq!(d, Decision::Trade { market: 1, notional: 20_000.0, reduce_only: true, stop_out: true });
        // A stop kept as an order on chain is the keeper's to fire, not the trader's.
        let ordered = Profile { stop_orders: true, ..profile(Style::Momentum) };
        let d = decide(&ordered, &o, &MARKETS, 10, &mut SplitMix(1));
        assert!(!matches!(d, Decision::Trade { stop_out: true, .. }), "{d:?}");
    }

    #[test]
    fn the_stop_policy_changes_only_the_stops() {
        for seed in 0..50 {
            let [orders, mental, none] = [StopPolicy::Orders, StopPolicy::Mental, StopPolicy::None]
                .map(|p| Profile::draw(&mut SplitMix(seed), p));
            assert_eq!((orders.stop_loss.to_bits(), orders.stop_orders), (mental.stop_loss.to_bits(), true));
            assert!(!mental.stop_orders && none.stop_loss.is_infinite());
            assert_eq!(Profile { stop_loss: 0.0, stop_orders: false, ..orders }, Profile { stop_loss: 0.0, ..none });
        }
    }

    #[test]
    fn a_warning_tops_up_only_after_the_delay_and_within_the_wallet() {
        let o = Observation { equity: 600.0, warned_for_seconds: Some(100), ..obs() };
        let p = Profile { trades_per_day: 0.0, ..profile(Style::Momentum) };
        assert_eq!(decide(&p, &o, &MARKETS, 10, &mut SplitMix(1)), Decision::Hold);
        let o = Observation { warned_for_seconds: Some(300), ..o };
        assert_eq!(decide(&p, &o, &MARKETS, 10, &mut SplitMix(1)), Decision::TopUp(900.0));
        let o = Observation { wallet: 100.0, ..o };
        assert_eq!(decide(&p, &o, &MARKETS, 10, &mut SplitMix(1)), Decision::TopUp(100.0));
        let lazy = Profile { tops_up: false, ..p };
        assert_eq!(decide(&lazy, &o, &MARKETS, 10, &mut SplitMix(1)), Decision::Hold);
    }

    #[test]
    fn leverage_and_size_respect_margin() {
        let o = Observation { initial_health: 100.0, ..obs() };
        let p = Profile { leverage_max: 50.0, leverage_min: 50.0, ..profile(Style::Momentum) };
        for seed in 0..20 {
            if let Decision::Trade { market, notional, .. } = decide(&p, &o, &MARKETS, 10, &mut SplitMix(seed)) {
                let budget = 100.0 * 1e6 / MARKETS[market].initial_margin_ratio as f64;
                assert!(notional.abs() <= 0.9 * budget + 1e-9);
            }
        }
        let broke = Observation { equity: -1.0, ..obs() };
        assert_eq!(decide(&profile(Style::Momentum), &broke, &MARKETS, 10, &mut SplitMix(1)), Decision::Hold);
    }

    #[test]
    fn profit_is_withdrawn_by_those_who_do() {
        let p = Profile { trades_per_day: 0.0, ..profile(Style::Momentum) };
        let o = Observation { equity: 20_000.0, initial_health: 18_000.0, ..obs() };
        assert_eq!(decide(&p, &o, &MARKETS, 10, &mut SplitMix(1)), Decision::Withdraw(5_000.0));
        let keeps = Profile { withdraws_profit: false, ..p };
        assert_eq!(decide(&keeps, &o, &MARKETS, 10, &mut SplitMix(1)), Decision::Hold);
    }

    #[test]
    fn trade_rate_follows_the_profile() {
        let p = Profile {
            trades_per_day: 24.0,
            stop_loss: f64::INFINITY,
            take_profit: f64::INFINITY,
            withdraws_profit: false,
            ..profile(Style::Momentum)
        };
        let mut rng = SplitMix(9);
        let trades =
            (0..8_640).filter(|_| matches!(decide(&p, &obs(), &MARKETS, 10, &mut rng), Decision::Trade { .. })).count();
        assert!((18..=30).contains(&trades), "{trades} trades in a day at 24 a day");
    }
}
