//! stress: replays crash paths through the real program under each preset and writes a report.
//!
//! `stress` with no argument runs the four shipped scenarios under all presets and writes
//! `target/stress-report/{report.md,results.json,*.png}`.
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use margin_engine_stress::{load_scenario, report, run, Preset, RunConfig};

/// The shipped crash paths, embedded so the default run needs no files.
const SHIPPED: [(&str, &str); 4] = [
    ("black-thursday-2020", include_str!("../scenarios/black-thursday-2020.csv")),
    ("luna-2022", include_str!("../scenarios/luna-2022.csv")),
    ("ftx-sol-2022", include_str!("../scenarios/ftx-sol-2022.csv")),
    ("yen-carry-2024", include_str!("../scenarios/yen-carry-2024.csv")),
];

#[derive(Parser, Debug)]
#[command(about = "Historical black-swan replay through the real margin-engine program")]
struct Args {
    /// CSV path (seconds,price) or generator (jump-diffusion, garch); repeatable. Default: the shipped four.
    #[arg(long)]
    scenario: Vec<String>,
    #[arg(long, default_value_t = 1_000)]
    accounts: usize,
    /// naive, drift-like, full or all.
    #[arg(long, default_value = "all")]
    preset: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "target/stress-report")]
    out: PathBuf,
    /// Seconds between oracle updates.
    #[arg(long, default_value_t = 10)]
    step_seconds: u64,
    /// Keeper latency: it acts every this many steps.
    #[arg(long, default_value_t = 1)]
    keeper_every: u64,
    /// Replay only the first HOURS of each path.
    #[arg(long)]
    hours: Option<f64>,
}

fn main() {
    let args = Args::parse();
    let presets = Preset::parse(&args.preset).unwrap_or_else(|| {
        eprintln!("unknown preset `{}` (naive, drift-like, full, all)", args.preset);
        std::process::exit(2)
    });
    let tmp = std::env::temp_dir().join("margin-engine-stress-scenarios");
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let specs: Vec<String> = if args.scenario.is_empty() {
        SHIPPED
            .iter()
            .map(|(name, text)| {
                let p = tmp.join(format!("{name}.csv"));
                std::fs::write(&p, text).expect("write scenario");
                p.to_string_lossy().into_owned()
            })
            .collect()
    } else {
        args.scenario.clone()
    };
    let cfg = RunConfig {
        accounts: args.accounts,
        seed: args.seed,
        step_seconds: args.step_seconds,
        keeper_every_steps: args.keeper_every.max(1),
        sample_every_steps: 1,
        ..RunConfig::default()
    };
    let started = Instant::now();
    let mut results = vec![];
    for spec in &specs {
        let scenario = load_scenario(spec, args.step_seconds, args.seed, args.hours).unwrap_or_else(|e| {
            eprintln!("scenario error: {e}");
            std::process::exit(2)
        });
        let sample_every = (scenario.path.len() / 400).max(1);
        for &preset in &presets {
            let bar = ProgressBar::new(scenario.path.len() as u64);
            bar.set_style(ProgressStyle::with_template("{msg:32} [{bar:40}] {pos}/{len} steps {elapsed}").unwrap());
            bar.set_message(format!("{} / {}", scenario.name, preset.name()));
            let result =
                run(&scenario, preset, &RunConfig { sample_every_steps: sample_every, ..cfg.clone() }, |i, _| {
                    bar.set_position(i as u64)
                });
            bar.finish_and_clear();
            let s = &result.summary;
            println!(
                "{:<22} {:<10} liquidations {:>4} partial {:>4} full | wiped {:>4} | bad debt ${:>10.0} | fund ${:>9.0} -> ${:>9.0} | ADL ${:>9.0} | socialised ${:>8.2} | trips {} | peak x{:.2} | {} tx in {:.1}s ({:.0} tx/s)",
                scenario.name, preset.name(), s.liquidations_partial, s.liquidations_full, s.accounts_wiped_out, s.bad_debt,
                s.insurance_fund_start, s.insurance_fund_end, s.adl_notional, s.socialized_loss, s.breaker_trips, s.peak_multiplier,
                s.transactions, result.wall_seconds, result.transactions_per_second
            );
            results.push(result);
        }
    }
    let charts = report::write(&args.out, &results).expect("write report");
    println!(
        "wrote {} ({} charts) in {:.1}s total",
        args.out.join("report.md").display(),
        charts.len(),
        started.elapsed().as_secs_f64()
    );
}
