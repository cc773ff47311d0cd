//! Price impact of flow through a market's depth: a transient square-root part on exponentially
//! decayed net flow, plus a permanent part linear in cumulative net flow.
//!
//! The law, in log price, for a market with daily volatility `σ` and daily volume `V`:
//! - transient: `Y · σ · sign(F) · √(|F| / V)`, where `F` is the net signed notional traded
//!   through the depth (USD, buys positive), decaying with half-life `half_life_seconds` as the
//!   book refills;
//! - permanent: `γ · σ · N / V`, where `N` is the cumulative net signed notional (no decay).
//!
//! The impacted price is `exogenous · exp(transient + permanent)`. A trade executes at the mid of
//! the impact before and after it. Because the impacted price is what the oracle publishes,
//! forced selling lowers the price that values every other account: a cascade can feed on itself.
//!
//! Why this shape: the square-root law is the best-documented regularity of metaorder impact,
//! and its transient part is what makes the schedule matter. The same flow spread over time costs
//! less than a block. The permanent part is linear, the only form without a round-trip arbitrage
//! (Huberman and Stanzl 2004), so it depends only on how much was sold, not on how.
//!
//! Orders of magnitude, and where they come from:
//! - `Y ≈ 0.5–1`: the square-root prefactor measured on equity, futures and crypto books
//!   (Almgren et al. 2005; Tóth et al. 2011; Bouchaud et al., "Trades, Quotes and Prices",
//!   ch. 12). We take 0.7.
//! - `γ = 1`: a metaorder worth 10% of daily volume keeps about a third of its peak impact
//!   once the book has refilled. Measurements put this between a third and two thirds, so we sit
//!   at the low end. Selling a whole day's volume moves the price by about `1.7 σ`.
//! - `σ`: calm daily volatility (BTC about 3.5%, SOL 5.5%, a thin alt 9%).
//! - `V`: the daily volume the depth absorbs. Perpetual venues trade one to three times their
//!   open interest a day. This exchange is a small share of a deep market like BTC, so its
//!   liquidators face a depth many times its own open interest. On a thin alt it can be most of
//!   the market. The harness states `V` as a multiple of each market's open interest at start
//!   (`model::markets`).
//! - Half-life: books refill in minutes on deep markets and in tens of minutes on thin ones.

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ImpactLaw {
    /// Square-root prefactor `Y`.
    pub y: f64,
    /// Permanent coefficient `γ`.
    pub permanent: f64,
    /// Daily volatility, as a fraction.
    pub daily_volatility: f64,
    /// Daily volume the depth absorbs (USD).
    pub daily_volume_usd: f64,
    /// Half-life of the decayed net flow (seconds).
    pub half_life_seconds: f64,
}

/// One market's impact state.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct ImpactState {
    /// Decayed net signed flow (USD, buys positive).
    pub flow_usd: f64,
    /// Cumulative net signed flow (USD).
    pub net_usd: f64,
    /// Gross notional traded through the depth so far (USD), for the report.
    pub gross_usd: f64,
}

impl ImpactLaw {
    /// Transient log impact of a decayed net flow.
    pub fn transient(&self, flow_usd: f64) -> f64 {
        if self.daily_volume_usd <= 0.0 {
            return 0.0;
        }
        self.y * self.daily_volatility * flow_usd.signum() * (flow_usd.abs() / self.daily_volume_usd).sqrt()
    }

    /// Permanent log impact of a cumulative net flow.
    pub fn permanent_impact(&self, net_usd: f64) -> f64 {
        if self.daily_volume_usd <= 0.0 {
            return 0.0;
        }
        self.permanent * self.daily_volatility * net_usd / self.daily_volume_usd
    }

    /// Total log impact in state `s`.
    pub fn log_impact(&self, s: &ImpactState) -> f64 {
        self.transient(s.flow_usd) + self.permanent_impact(s.net_usd)
    }

    /// Lets `seconds` pass: the flow decays, the permanent part stays.
    pub fn decay(&self, s: &mut ImpactState, seconds: f64) {
        if self.half_life_seconds > 0.0 {
            s.flow_usd *= (-std::f64::consts::LN_2 * seconds / self.half_life_seconds).exp();
        }
    }

    /// The impacted price of `exogenous` in state `s`.
    pub fn price(&self, s: &ImpactState, exogenous: f64) -> f64 {
        exogenous * self.log_impact(s).exp()
    }

    /// The log impact a trade of `signed_usd` would leave, and the log impact it executes at
    /// (mid of before and after), without changing `s`.
    pub fn preview(&self, s: &ImpactState, signed_usd: f64) -> (f64, f64) {
        let before = self.log_impact(s);
        let mut after_state = *s;
        self.apply(&mut after_state, signed_usd);
        let after = self.log_impact(&after_state);
        (after, (before + after) / 2.0)
    }

    /// Books a trade of `signed_usd` (buys positive) through the depth.
    pub fn apply(&self, s: &mut ImpactState, signed_usd: f64) {
        s.flow_usd += signed_usd;
        s.net_usd += signed_usd;
        s.gross_usd += signed_usd.abs();
    }

    /// Largest trade size (USD) in the direction of `sign` whose execution stays within
    /// `max_log_move` of the price before it (the exchange's fill band bounds it). Bisection: the
    /// execution impact is monotone in size.
    pub fn max_size_within(&self, s: &ImpactState, sign: f64, max_log_move: f64, upper_usd: f64) -> f64 {
        let before = self.log_impact(s);
        let ok = |q: f64| (self.preview(s, sign * q).1 - before).abs() <= max_log_move;
        if ok(upper_usd) {
            return upper_usd;
        }
        let (mut lo, mut hi) = (0.0, upper_usd);
        for _ in 0..40 {
            let mid = (lo + hi) / 2.0;
            if ok(mid) {
                lo = mid
            } else {
                hi = mid
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn law() -> ImpactLaw {
        ImpactLaw {
            y: 0.7,
            daily_volatility: 0.05,
            daily_volume_usd: 1_000_000.0,
            half_life_seconds: 600.0,
            permanent: 1.0,
        }
    }

    #[test]
    fn square_root_in_size_and_signed() {
        let l = law();
        // 1% of daily volume: 0.7 · 5% · 0.1 = 0.35% of log price.
        assert!((l.transient(10_000.0) - 0.0035).abs() < 1e-12);
        // Four times the size, twice the impact: concave.
        assert!((l.transient(40_000.0) - 2.0 * l.transient(10_000.0)).abs() < 1e-12);
        assert_eq!(l.transient(-10_000.0), -l.transient(10_000.0));
        assert_eq!(l.transient(0.0), 0.0);
    }

    #[test]
    fn split_orders_cost_the_same_impact_as_one() {
        // Child orders of one metaorder add up on the decayed flow: ten slices leave the same
        // impact as one block when there is no time between them.
        let l = law();
        let (mut one, mut ten) = (ImpactState::default(), ImpactState::default());
        l.apply(&mut one, -100_000.0);
        for _ in 0..10 {
            l.apply(&mut ten, -10_000.0);
        }
        assert!((l.log_impact(&one) - l.log_impact(&ten)).abs() < 1e-12);
        assert!(l.log_impact(&one) < 0.0);
    }

    #[test]
    fn spreading_flow_over_time_lowers_peak_impact() {
        let l = law();
        let mut block = ImpactState::default();
        l.apply(&mut block, -100_000.0);
        let block_peak = l.log_impact(&block).abs();
        let mut spread = ImpactState::default();
        let mut peak: f64 = 0.0;
        for _ in 0..10 {
            l.apply(&mut spread, -10_000.0);
            peak = peak.max(l.log_impact(&spread).abs());
            l.decay(&mut spread, 600.0);
        }
        assert!(peak < 0.8 * block_peak, "{peak} vs {block_peak}");
    }

    #[test]
    fn impact_relaxes_to_its_permanent_part() {
        let l = law();
        let mut s = ImpactState::default();
        l.apply(&mut s, -50_000.0);
        let peak = l.log_impact(&s);
        l.decay(&mut s, 600.0);
        let half = l.log_impact(&s);
        assert!(half.abs() < peak.abs());
        l.decay(&mut s, 86_400.0);
        // γ σ N / V = 1 · 5% · 5% of the day's volume.
        assert!((l.log_impact(&s) + 0.0025).abs() < 1e-9, "only the permanent part stays");
        assert!(l.log_impact(&s).abs() > 0.2 * peak.abs() && l.log_impact(&s).abs() < 0.5 * peak.abs());
        assert_eq!(s.gross_usd, 50_000.0);
    }

    #[test]
    fn the_permanent_part_depends_on_size_not_schedule() {
        let l = law();
        let (mut block, mut spread) = (ImpactState::default(), ImpactState::default());
        l.apply(&mut block, -100_000.0);
        for _ in 0..10 {
            l.apply(&mut spread, -10_000.0);
            l.decay(&mut spread, 1_200.0);
        }
        l.decay(&mut block, 1e7);
        l.decay(&mut spread, 1e7);
        assert!((l.log_impact(&block) - l.log_impact(&spread)).abs() < 1e-12);
        // A round trip leaves nothing behind once the book refills.
        let mut round = ImpactState::default();
        l.apply(&mut round, -30_000.0);
        l.decay(&mut round, 300.0);
        l.apply(&mut round, 30_000.0);
        l.decay(&mut round, 1e7);
        assert!(l.log_impact(&round).abs() < 1e-12);
    }

    #[test]
    fn execution_sits_between_before_and_after() {
        let l = law();
        let s = ImpactState::default();
        let (after, exec) = l.preview(&s, -20_000.0);
        assert!(after < exec && exec < 0.0);
        assert_eq!(s, ImpactState::default(), "preview changes nothing");
    }

    #[test]
    fn size_within_a_band() {
        let l = law();
        let s = ImpactState::default();
        let q = l.max_size_within(&s, -1.0, 0.01, 10_000_000.0);
        let (_, exec) = l.preview(&s, -q);
        assert!((exec.abs() - 0.01).abs() < 1e-6, "{exec}");
        assert_eq!(l.max_size_within(&s, -1.0, 0.5, 1_000.0), 1_000.0);
    }
}
