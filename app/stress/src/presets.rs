//! The presets compared: parameter sets of the same program (README, "Stress harness").
use margin_engine::state::RiskParams;
use margin_engine_tests::default_risk;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Preset {
    /// Binary LTV: the whole position goes at maintenance, no insurance fund, no breakers, no
    /// volatility margin.
    Naive,
    /// Partial throttled liquidation, insurance fund, ADL; static margin, no breakers.
    DriftLike,
    /// Everything: plus volatility-adjusted margin, the STRESSED add-on and circuit breakers.
    Full,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Naive, Preset::DriftLike, Preset::Full];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Naive => "naive",
            Preset::DriftLike => "drift-like",
            Preset::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Vec<Preset>> {
        match s {
            "naive" => Some(vec![Preset::Naive]),
            "drift-like" => Some(vec![Preset::DriftLike]),
            "full" => Some(vec![Preset::Full]),
            "all" => Some(Preset::ALL.to_vec()),
            _ => None,
        }
    }

    /// Risk parameters at the market's price scale (`tick`, `step` per the market).
    pub fn risk(self) -> RiskParams {
        let base = RiskParams {
            insurance_draw_cap: 1_000_000_000_000,
            insurance_draw_period_slots: 216_000,
            size_premium_factor: 0,
            ..default_risk()
        };
        let no_breaker = RiskParams {
            breaker_soft_band: 890_000,
            breaker_hard_band: 900_000,
            oracle_divergence_limit: 900_000,
            ..base
        };
        match self {
            Preset::Naive => RiskParams {
                liquidation_throttle_initial: 1_000_000,
                liquidation_buffer: 1_000_000,
                insurance_fee: 0,
                fee_insurance_share: 0,
                insurance_draw_cap: 0,
                ..no_breaker
            },
            Preset::DriftLike => no_breaker,
            // The engine's shipped defaults (migrations/exchange.example.toml): 10% haircut on
            // positive PnL in initial health as well.
            Preset::Full => RiskParams {
                vol_max_multiplier: 3_000_000,
                stressed_initial_addon: 50_000,
                pnl_initial_haircut: 100_000,
                ..base
            },
        }
    }

    /// Whether outsiders stake the insurance fund (as a share of total trader collateral).
    pub fn insurance_stake_share(self) -> f64 {
        match self {
            Preset::Naive => 0.0,
            Preset::DriftLike | Preset::Full => 0.02,
        }
    }
}
