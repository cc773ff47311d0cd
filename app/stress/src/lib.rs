//! Stress harness: crash price paths through the real program (in-process chain), with a market
//! around it (three markets with depth and impact, live traders, competing liquidators,
//! attackers), under parameter presets side by side, over many seeds.
pub mod agents;
pub mod generators;
pub mod model;
pub mod presets;
pub mod report;
pub mod run;
pub mod stats;
pub mod world;

pub use presets::Preset;
pub use run::{run, RunConfig, RunResult};

/// A scenario: a name, a factor price path of (seconds, price) at the harness step, and each
/// market's beta on it.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub path: Vec<(u64, f64)>,
    /// Log-return loading of each harness market (BTC, SOL, ALT) on the path.
    pub betas: [f64; 3],
}

/// Betas a path has unless its file says otherwise: a market-wide move led by a major.
pub fn default_betas() -> [f64; 3] {
    [model::markets::MARKETS[0].beta, model::markets::MARKETS[1].beta, model::markets::MARKETS[2].beta]
}

/// A `# betas: BTC,SOL,ALT` comment line, if the file has one. A path of one asset says how
/// the harness's markets moved with it in that event: LUNA's collapse took the alt with it but
/// BTC only a quarter down.
pub fn betas_in(text: &str) -> Result<Option<[f64; 3]>, String> {
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim().strip_prefix('#').map(str::trim) else { continue };
        let Some(list) = rest.strip_prefix("betas:") else { continue };
        // The three values, then any explanation.
        let list = list.split_whitespace().next().unwrap_or("");
        let values: Vec<f64> = list
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("line {}: betas: {e}", i + 1))?;
        let [a, b, c] = values[..] else {
            return Err(format!("line {}: betas need three values (BTC,SOL,ALT)", i + 1));
        };
        if !(a.is_finite() && b.is_finite() && c.is_finite() && a >= 0.0 && b >= 0.0 && c >= 0.0) {
            return Err(format!("line {}: betas must be finite and non-negative", i + 1));
        }
        return Ok(Some([a, b, c]));
    }
    Ok(None)
}

/// Loads a scenario: a CSV path in the shipped format, or a generator name
/// (`jump-diffusion`, `garch`). CSV paths are interpolated to `step_seconds` with seeded noise.
pub fn load_scenario(spec: &str, step_seconds: u64, seed: u64, hours: Option<f64>) -> Result<Scenario, String> {
    let mut scenario = match spec {
        "jump-diffusion" => Scenario {
            name: spec.into(),
            path: generators::jump_diffusion(seed, step_seconds, 86_400),
            betas: default_betas(),
        },
        "whipsaw" => Scenario {
            name: spec.into(),
            path: generators::whipsaw(seed, step_seconds, 86_400),
            betas: default_betas(),
        },
        "garch" => {
            Scenario { name: spec.into(), path: generators::garch(seed, step_seconds, 86_400), betas: default_betas() }
        }
        path => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let points = margin_engine_sdk::scenario::parse(&text).map_err(|e| format!("{path}: {e}"))?;
            let smooth = margin_engine_sdk::scenario::interpolate(&points, step_seconds);
            let name =
                std::path::Path::new(path).file_stem().map_or(path.to_string(), |s| s.to_string_lossy().into_owned());
            // 0.05% per 10 s of background noise, scaled to the step, plus clustering where the
            // path moves fast.
            let base = 0.0005 * (step_seconds as f64 / 10.0).sqrt();
            let betas = betas_in(&text).map_err(|e| format!("{path}: {e}"))?.unwrap_or_else(default_betas);
            Scenario { name, path: margin_engine_sdk::scenario::with_noise(&smooth, seed, base, 3.0), betas }
        }
    };
    if let Some(h) = hours {
        let limit = (h * 3600.0) as u64;
        scenario.path.retain(|(t, _)| *t <= limit);
    }
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_can_give_its_own_betas() {
        let luna = include_str!("../scenarios/luna-2022.csv");
        assert_eq!(betas_in(luna).unwrap(), Some([0.025, 0.045, 1.0]));
        assert_eq!(betas_in("seconds,price\n0,1\n10,2\n").unwrap(), None);
        assert!(betas_in("# betas: 1,2\n").unwrap_err().contains("three values"));
        assert!(betas_in("# betas: 1,x,2\n").is_err());
        assert!(betas_in("# betas: 1,-1,2\n").is_err());
        let dir = std::env::temp_dir().join("stress-betas");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("luna.csv");
        std::fs::write(&p, luna).unwrap();
        let s = load_scenario(p.to_str().unwrap(), 600, 1, None).unwrap();
        assert_eq!(s.betas, [0.025, 0.045, 1.0]);
        assert_eq!(load_scenario("garch", 600, 1, None).unwrap().betas, default_betas());
    }
}
