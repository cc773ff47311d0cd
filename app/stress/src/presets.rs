//! The presets compared: parameter sets of the same program (README, "Stress harness").
use std::sync::OnceLock;

use margin_engine::state::{OracleConfig, RiskParams};
use margin_engine_migrations::{BootstrapConfig, MarketSection};
use margin_engine_tests::default_risk;

/// The bootstrap configuration the project ships: the full preset is its policy.
pub const SHIPPED_CONFIG: &str = include_str!("../../../migrations/exchange.example.toml");

/// The shipped configuration, parsed once.
pub fn shipped_config() -> &'static BootstrapConfig {
    static CONFIG: OnceLock<BootstrapConfig> = OnceLock::new();
    CONFIG.get_or_init(|| margin_engine_migrations::parse(SHIPPED_CONFIG).expect("shipped bootstrap config parses"))
}

/// Its first market: the policy every harness market runs under.
pub fn shipped_market() -> &'static MarketSection {
    shipped_config().markets.first().expect("a market in the shipped config")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Preset {
    /// Binary LTV: the whole position goes at maintenance, no insurance fund, no breakers, no
    /// volatility margin.
    Naive,
    /// Partial throttled liquidation, insurance fund, ADL; static margin, no breakers.
    DriftLike,
    /// The shipped configuration: plus volatility-adjusted margin, the STRESSED add-on, the
    /// volatility-adjusted liquidation target and circuit breakers.
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

    /// Risk policy of the preset. Full is the shipped bootstrap configuration
    /// (`migrations/exchange.example.toml`, its first market) unchanged; the baselines switch its
    /// mechanisms off. Per-market sizing (tick, step, margin ratios, volatility reference, cap) is
    /// the harness market's own (`run::market_risk`).
    pub fn risk(self) -> RiskParams {
        let shipped = shipped_market().risk;
        // Drift's design as the baselines model it: no size premium, no volatility margin, no
        // STRESSED add-on, no breakers, the liquidation target at maintenance + buffer.
        let static_margin = RiskParams {
            size_premium_factor: 0,
            vol_max_multiplier: 1_000_000,
            stressed_initial_addon: 0,
            liquidation_initial_share: 0,
            stressed_liquidation_initial_share: 0,
            pnl_initial_haircut: 0,
            breaker_soft_band: 890_000,
            breaker_hard_band: 900_000,
            oracle_divergence_limit: 900_000,
            insurance_drawdown_limit: 1_000_000,
            ..shipped
        };
        match self {
            Preset::Naive => RiskParams {
                liquidation_throttle_initial: 1_000_000,
                liquidation_buffer: 1_000_000,
                insurance_fee: 0,
                fee_insurance_share: 0,
                insurance_draw_cap: 0,
                ..static_margin
            },
            Preset::DriftLike => static_margin,
            Preset::Full => shipped,
        }
    }

    /// Oracle validity policy: the shipped configuration's, for every preset.
    pub fn oracle_policy(self) -> OracleConfig {
        shipped_market().oracle().expect("shipped oracle config")
    }

    /// Whether outsiders stake the insurance fund (as a share of total trader collateral).
    pub fn insurance_stake_share(self) -> f64 {
        match self {
            Preset::Naive => 0.0,
            Preset::DriftLike | Preset::Full => 0.02,
        }
    }
}

/// Risk parameters set by name on the full preset (`--set name=value`): calibration compares
/// candidate defaults with one build. Names are `RiskParams` field names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides(pub Vec<(String, u64)>);

impl Overrides {
    pub fn parse(items: &[String]) -> Result<Self, String> {
        let mut out = vec![];
        for item in items {
            let (name, value) = item.split_once('=').ok_or_else(|| format!("`{item}` is not name=value"))?;
            let value: u64 = value.trim().parse().map_err(|e| format!("`{item}`: {e}"))?;
            // Refuse an unknown name now, not after the runs.
            set_field(&mut default_risk(), name.trim(), value)?;
            out.push((name.trim().to_string(), value));
        }
        Ok(Self(out))
    }

    pub fn apply(&self, risk: &mut RiskParams) {
        for (name, value) in &self.0 {
            set_field(risk, name, *value).expect("checked at parse");
        }
    }
}

fn set_field(r: &mut RiskParams, name: &str, value: u64) -> Result<(), String> {
    let small = || u32::try_from(value).map_err(|_| format!("{name}={value} does not fit 32 bits"));
    match name {
        "initial_margin_ratio" => r.initial_margin_ratio = small()?,
        "maintenance_margin_ratio" => r.maintenance_margin_ratio = small()?,
        "size_premium_factor" => r.size_premium_factor = small()?,
        "liquidation_fee" => r.liquidation_fee = small()?,
        "insurance_fee" => r.insurance_fee = small()?,
        "pnl_initial_haircut" => r.pnl_initial_haircut = small()?,
        "liquidation_buffer" => r.liquidation_buffer = small()?,
        "fee_insurance_share" => r.fee_insurance_share = small()?,
        "fill_price_band" => r.fill_price_band = small()?,
        "liquidation_throttle_initial" => r.liquidation_throttle_initial = small()?,
        "liquidation_throttle_per_slot" => r.liquidation_throttle_per_slot = small()?,
        "breaker_soft_band" => r.breaker_soft_band = small()?,
        "breaker_hard_band" => r.breaker_hard_band = small()?,
        "breaker_window_slots" => r.breaker_window_slots = small()?,
        "breaker_cooldown_slots" => r.breaker_cooldown_slots = small()?,
        "oracle_divergence_limit" => r.oracle_divergence_limit = small()?,
        "vol_max_multiplier" => r.vol_max_multiplier = small()?,
        "vol_decay_per_slot" => r.vol_decay_per_slot = small()?,
        "vol_maintenance_rise_per_slot" => r.vol_maintenance_rise_per_slot = small()?,
        "vol_short_half_life_slots" => r.vol_short_half_life_slots = small()?,
        "regime_enter_ratio" => r.regime_enter_ratio = small()?,
        "regime_exit_ratio" => r.regime_exit_ratio = small()?,
        "regime_jump" => r.regime_jump = small()?,
        "regime_min_slots" => r.regime_min_slots = small()?,
        "stressed_initial_addon" => r.stressed_initial_addon = small()?,
        "liquidation_initial_share" => r.liquidation_initial_share = small()?,
        "stressed_liquidation_initial_share" => r.stressed_liquidation_initial_share = small()?,
        "insurance_draw_cap" => r.insurance_draw_cap = value,
        "vol_reference_variance" => r.vol_reference_variance = value,
        _ => return Err(format!("unknown or unsupported risk parameter `{name}`")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_is_the_shipped_configuration_and_the_baselines_switch_its_mechanisms_off() {
        let config = shipped_config();
        // Every market of the shipped file carries the same policy (sizing aside), so the first
        // one speaks for all.
        for m in &config.markets {
            let sized_as_first = RiskParams {
                max_open_interest: config.markets[0].risk.max_open_interest,
                min_order_size: config.markets[0].risk.min_order_size,
                tick_size: config.markets[0].risk.tick_size,
                step_size: config.markets[0].risk.step_size,
                initial_margin_ratio: config.markets[0].risk.initial_margin_ratio,
                maintenance_margin_ratio: config.markets[0].risk.maintenance_margin_ratio,
                size_premium_factor: config.markets[0].risk.size_premium_factor,
                vol_reference_variance: config.markets[0].risk.vol_reference_variance,
                insurance_draw_cap: config.markets[0].risk.insurance_draw_cap,
                ..m.risk
            };
            assert_eq!(sized_as_first, config.markets[0].risk, "{}", m.name);
        }
        assert_eq!(Preset::Full.risk(), config.markets[0].risk);
        assert_eq!(Preset::Full.oracle_policy(), config.markets[0].oracle().unwrap());
        let drift = Preset::DriftLike.risk();
        assert_eq!(
            (drift.vol_max_multiplier, drift.liquidation_initial_share, drift.size_premium_factor),
            (1_000_000, 0, 0)
        );
        let naive = Preset::Naive.risk();
        assert_eq!((naive.liquidation_buffer, naive.insurance_draw_cap), (1_000_000, 0));
        assert!(Preset::Full.risk().validate().is_ok() && drift.validate().is_ok() && naive.validate().is_ok());
    }

    #[test]
    fn overrides_set_known_fields_and_refuse_unknown_ones() {
        let o = Overrides::parse(&["stressed_liquidation_initial_share=2000000".into()]).unwrap();
        let mut r = default_risk();
        o.apply(&mut r);
        assert_eq!(r.stressed_liquidation_initial_share, 2_000_000);
        assert!(Overrides::parse(&["no_such_field=1".into()]).is_err());
        assert!(Overrides::parse(&["liquidation_buffer".into()]).is_err());
        assert!(Overrides::parse(&["liquidation_buffer=5000000000".into()]).is_err());
    }
}
