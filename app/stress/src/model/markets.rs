//! The harness's three markets: a deep BTC-like one, a mid SOL-like one and a thin alt. All are
//! driven by one scenario path (the common factor) with a per-market beta and seeded
//! idiosyncratic noise, and each trades through its own depth (`model::impact`).
use margin_engine_sdk::scenario::SplitMix;

use super::impact::ImpactLaw;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct MarketSpec {
    pub name: &'static str,
    /// Starting price (USD).
    pub start_price: f64,
    /// Log-return loading on a market-wide path (a scenario file may give its own).
    pub beta: f64,
    /// Idiosyncratic volatility a day, added as independent noise per step.
    pub idiosyncratic_daily_vol: f64,
    /// Calm daily volatility (impact law, margin calibration).
    pub daily_volatility: f64,
    /// Depth: daily volume as a multiple of the market's open interest at start.
    pub volume_to_open_interest: f64,
    pub half_life_seconds: f64,
    /// Base units (1e-9 of a coin) per order step: about a dollar of notional at start.
    pub step_size: u64,
    /// Initial and maintenance margin ratios (ppm); the same under every preset.
    pub initial_margin_ratio: u32,
    pub maintenance_margin_ratio: u32,
    /// Share of traders' notional that goes to this market.
    pub weight: f64,
}

/// Square-root prefactor shared by every market (`model::impact`).
pub const IMPACT_Y: f64 = 0.7;
/// Permanent coefficient `γ` shared by every market (`model::impact`).
pub const IMPACT_PERMANENT: f64 = 1.0;

/// The three markets. Depth ratios: this exchange is a small share of a deep BTC market (its
/// liquidators can unload across the whole market, about 100x its own open interest a day), a
/// larger share of SOL (25x), and most of the market for the alt (1.5x, as a newly listed token
/// trades).
pub const MARKETS: [MarketSpec; 3] = [
    MarketSpec {
        name: "BTC",
        start_price: 30_000.0,
        beta: 1.0,
        idiosyncratic_daily_vol: 0.005,
        daily_volatility: 0.035,
        volume_to_open_interest: 100.0,
        half_life_seconds: 120.0,
        step_size: 100_000,
        initial_margin_ratio: 80_000,
        maintenance_margin_ratio: 40_000,
        weight: 0.45,
    },
    MarketSpec {
        name: "SOL",
        start_price: 100.0,
        beta: 1.25,
        idiosyncratic_daily_vol: 0.015,
        daily_volatility: 0.055,
        volume_to_open_interest: 25.0,
        half_life_seconds: 300.0,
        step_size: 10_000_000,
        initial_margin_ratio: 100_000,
        maintenance_margin_ratio: 50_000,
        weight: 0.35,
    },
    MarketSpec {
        name: "ALT",
        start_price: 1.0,
        beta: 1.5,
        idiosyncratic_daily_vol: 0.03,
        daily_volatility: 0.09,
        volume_to_open_interest: 1.5,
        half_life_seconds: 1_800.0,
        step_size: 1_000_000_000,
        initial_margin_ratio: 200_000,
        maintenance_margin_ratio: 100_000,
        weight: 0.20,
    },
];

impl MarketSpec {
    /// The market's impact law once its open interest at start is known.
    pub fn impact_law(&self, open_interest_usd: f64) -> ImpactLaw {
        ImpactLaw {
            y: IMPACT_Y,
            daily_volatility: self.daily_volatility,
            daily_volume_usd: self.volume_to_open_interest * open_interest_usd.max(1.0),
            half_life_seconds: self.half_life_seconds,
            permanent: IMPACT_PERMANENT,
        }
    }

    /// Variance per slot (ppm²) the volatility-margin ratios are measured against: 1.5x the
    /// market's calm variance, so calm noise never lifts margin (the program's
    /// `vol_reference_variance`; 22,500 ppm² per 400 ms slot is 7% a day).
    pub fn vol_reference_variance(&self) -> u64 {
        let reference_daily = 1.5 * self.daily_volatility;
        (22_500.0 * (reference_daily / 0.07).powi(2)).round() as u64
    }
}

/// Per-market exogenous paths from one factor path: `ln p_m(t) = ln p_m(0) + β_m · ln(F_t/F_0) +
/// ε_m(t)`, with `ε_m` a seeded random walk of the market's idiosyncratic volatility. `betas`
/// are the scenario's (`Scenario::betas`), one per market.
pub fn exogenous_paths(factor: &[(u64, f64)], specs: &[MarketSpec], betas: &[f64], seed: u64) -> Vec<Vec<f64>> {
    let f0 = factor[0].1;
    specs
        .iter()
        .enumerate()
        .map(|(m, spec)| {
            let mut rng = SplitMix(seed ^ (0x9E37_79B9 * (m as u64 + 1)));
            let mut noise = 0.0;
            let mut last_t = factor[0].0;
            factor
                .iter()
                .map(|&(t, f)| {
                    let dt_days = (t - last_t) as f64 / 86_400.0;
                    last_t = t;
                    noise += spec.idiosyncratic_daily_vol * dt_days.sqrt() * rng.normal();
                    spec.start_price * (betas[m] * (f / f0).ln() + noise).exp()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betas_scale_the_factor_move() {
        let factor = vec![(0, 100.0), (3_600, 100.0), (7_200, 50.0)];
        let quiet: Vec<MarketSpec> =
            MARKETS.iter().map(|m| MarketSpec { idiosyncratic_daily_vol: 0.0, ..*m }).collect();
        let betas: Vec<f64> = quiet.iter().map(|m| m.beta).collect();
        let paths = exogenous_paths(&factor, &quiet, &betas, 1);
        for (spec, path) in quiet.iter().zip(&paths) {
            assert_eq!(path[0], spec.start_price);
            let expected = spec.start_price * 0.5f64.powf(spec.beta);
            assert!((path[2] - expected).abs() < 1e-9 * spec.start_price);
        }
        // The alt falls furthest.
        assert!(paths[2][2] / paths[2][0] < paths[0][2] / paths[0][0]);
    }

    #[test]
    fn noise_is_seeded_and_per_market() {
        let factor: Vec<(u64, f64)> = (0..100).map(|i| (i * 10, 100.0)).collect();
        let b = [1.0, 1.0, 1.0];
        let a = exogenous_paths(&factor, &MARKETS, &b, 5);
        assert_eq!(a, exogenous_paths(&factor, &MARKETS, &b, 5));
        assert_ne!(a, exogenous_paths(&factor, &MARKETS, &b, 6));
        assert_ne!(a[1][50] / a[1][0], a[2][50] / a[2][0]);
    }

    #[test]
    fn thin_market_has_the_largest_impact_per_share_of_open_interest() {
        let oi = 1_000_000.0;
        let shares: Vec<f64> = MARKETS.iter().map(|m| m.impact_law(oi).transient(-0.1 * oi).abs()).collect();
        assert!(shares[0] < shares[1] && shares[1] < shares[2], "{shares:?}");
        // Forcing 10% of the alt's open interest through its depth moves it by a few percent.
        assert!(shares[2] > 0.01 && shares[2] < 0.05, "{}", shares[2]);
        assert_eq!(MARKETS[0].vol_reference_variance(), 12_656);
    }
}
