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

/// A scenario: a name and a price path of (seconds, price) at the harness step.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub path: Vec<(u64, f64)>,
}

/// Loads a scenario: a CSV path in the shipped format, or a generator name
/// (`jump-diffusion`, `garch`). CSV paths are interpolated to `step_seconds` with seeded noise.
pub fn load_scenario(spec: &str, step_seconds: u64, seed: u64, hours: Option<f64>) -> Result<Scenario, String> {
    let mut scenario = match spec {
        "jump-diffusion" => {
            Scenario { name: spec.into(), path: generators::jump_diffusion(seed, step_seconds, 86_400) }
        }
        "garch" => Scenario { name: spec.into(), path: generators::garch(seed, step_seconds, 86_400) },
        path => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let points = margin_engine_sdk::scenario::parse(&text).map_err(|e| format!("{path}: {e}"))?;
            let smooth = margin_engine_sdk::scenario::interpolate(&points, step_seconds);
            let name =
                std::path::Path::new(path).file_stem().map_or(path.to_string(), |s| s.to_string_lossy().into_owned());
            // 0.05% per 10 s of background noise, scaled to the step, plus clustering where the
            // path moves fast.
            let base = 0.0005 * (step_seconds as f64 / 10.0).sqrt();
            Scenario { name, path: margin_engine_sdk::scenario::with_noise(&smooth, seed, base, 3.0) }
        }
    };
    if let Some(h) = hours {
        let limit = (h * 3600.0) as u64;
        scenario.path.retain(|(t, _)| *t <= limit);
    }
    Ok(scenario)
}
