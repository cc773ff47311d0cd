//! stress: crash paths through the real program, with the market model around it, under each
//! preset over many seeds; writes a report.
//!
//! `stress` with no scenario runs the four shipped scenarios and the three generators under all
//! presets and writes `target/stress-report/{report.md,results.json,*.png}`.
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use margin_engine_stress::agents::traders::StopPolicy;
use margin_engine_stress::{load_scenario, presets, report, run, Preset, RunConfig, RunResult};

/// The shipped crash paths, embedded so the default run needs no files.
const SHIPPED: [(&str, &str); 4] = [
    ("black-thursday-2020", include_str!("../scenarios/black-thursday-2020.csv")),
    ("luna-2022", include_str!("../scenarios/luna-2022.csv")),
    ("ftx-sol-2022", include_str!("../scenarios/ftx-sol-2022.csv")),
    ("yen-carry-2024", include_str!("../scenarios/yen-carry-2024.csv")),
];

#[derive(Parser, Debug)]
#[command(
    about = "Crash paths through the real margin-engine program, with market impact, live traders, competing liquidators and attackers"
)]
struct Args {
    /// CSV path (seconds,price) or generator (jump-diffusion, garch, whipsaw); repeatable. Default: the
    /// shipped four and the three generators.
    #[arg(long)]
    scenario: Vec<String>,
    #[arg(long, default_value_t = 1_000)]
    accounts: usize,
    /// naive, drift-like, full or all.
    #[arg(long, default_value = "all")]
    preset: String,
    /// Seeds per scenario × preset (population, noise, generator paths, latencies).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// The first seed (seeds FIRST..FIRST+N): calibration uses a set apart from the report's.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Overrides one risk parameter of the full preset (name=value, ppm or slots as in
    /// `RiskParams`); repeatable. For calibration: compare candidate defaults without a rebuild.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    overrides: Vec<String>,
    #[arg(long, default_value = "target/stress-report")]
    out: PathBuf,
    /// Seconds between oracle updates.
    #[arg(long, default_value_t = 10)]
    step_seconds: u64,
    /// Liquidators unload what they take over within this many seconds.
    #[arg(long, default_value_t = 300)]
    unload_seconds: u64,
    /// The largest liquidator is down this many minutes at the steepest hour (0: never).
    #[arg(long, default_value_t = 30)]
    outage_minutes: u64,
    /// Leave the attackers out.
    #[arg(long)]
    no_attackers: bool,
    /// Replay only the first HOURS of each path.
    #[arg(long)]
    hours: Option<f64>,
    /// Live traders' stop-losses: orders (stop-market orders on chain, fired by the trigger
    /// keeper), mental (decided at the trader's next look) or none.
    #[arg(long, default_value = "orders")]
    stops: String,
    /// Runs in parallel (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
}

fn main() {
    let args = Args::parse();
    let presets = Preset::parse(&args.preset).unwrap_or_else(|| {
        eprintln!("unknown preset `{}` (naive, drift-like, full, all)", args.preset);
        std::process::exit(2)
    });
    let overrides = presets::Overrides::parse(&args.overrides).unwrap_or_else(|e| {
        eprintln!("--set: {e}");
        std::process::exit(2)
    });
    let stops = StopPolicy::parse(&args.stops).unwrap_or_else(|| {
        eprintln!("unknown --stops `{}` (orders, mental, none)", args.stops);
        std::process::exit(2)
    });
    let tmp = std::env::temp_dir().join("margin-engine-stress-scenarios");
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let specs: Vec<String> = if args.scenario.is_empty() {
        let mut v: Vec<String> = SHIPPED
            .iter()
            .map(|(name, text)| {
                let p = tmp.join(format!("{name}.csv"));
                std::fs::write(&p, text).expect("write scenario");
                p.to_string_lossy().into_owned()
            })
            .collect();
        v.push("jump-diffusion".into());
        v.push("garch".into());
        v.push("whipsaw".into());
        v
    } else {
        args.scenario.clone()
    };
    // Every (scenario, seed) path first, so a bad file fails before any run.
    let mut jobs = vec![];
    for spec in &specs {
        for seed in args.first_seed..args.first_seed + args.seeds.max(1) {
            let scenario = load_scenario(spec, args.step_seconds, seed, args.hours).unwrap_or_else(|e| {
                eprintln!("scenario error: {e}");
                std::process::exit(2)
            });
            for &preset in &presets {
                jobs.push((scenario.clone(), preset, seed));
            }
        }
    }
    let threads = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let total_steps: u64 = jobs.iter().map(|(s, _, _)| s.path.len() as u64 - 1).sum();
    let bar = ProgressBar::new(total_steps);
    bar.set_style(ProgressStyle::with_template("{msg} [{bar:40}] {percent}% {elapsed} (eta {eta})").unwrap());
    bar.set_message(format!("{} runs on {threads} threads", jobs.len()));
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, RunResult)>> = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some((scenario, preset, seed)) = jobs.get(j) else { break };
                let cfg = RunConfig {
                    accounts: args.accounts,
                    seed: *seed,
                    step_seconds: args.step_seconds,
                    unload_seconds: args.unload_seconds,
                    outage_minutes: args.outage_minutes,
                    attackers: !args.no_attackers,
                    full_overrides: overrides.clone(),
                    stops,
                    sample_every_steps: (scenario.path.len() / 300).max(1),
                };
                let mut last = 0;
                let result = run(scenario, *preset, &cfg, |i, _| {
                    bar.inc((i - last) as u64);
                    last = i;
                });
                bar.inc((scenario.path.len() - 1 - last) as u64);
                let s = &result.summary;
                let line = format!(
                    "{:<20} {:<10} seed {:<2} | bad debt ${:>10.0} | wiped {:>4} | liq {:>5} | lost to liq ${:>9.0} | forced ${:>11.0} | forced impact {:>5.2}% | attackers ${:>8.0} | {} accounts, {} steps, {} tx in {:.1}s ({:.0} tx/s, {:.0}% of it in the chain)",
                    scenario.name, preset.name(), seed, s.bad_debt, s.accounts_wiped_out, s.liquidations,
                    s.trader_loss_to_liquidation, s.forced_volume, s.peak_forced_impact_percent, s.attacker_profit,
                    result.accounts, s.steps, s.transactions, result.wall_seconds, result.transactions_per_second,
                    result.chain_share * 100.0
                );
                // On stderr: natively the program's own logs go to stdout. Printed whether or not
                // the bar is drawn (it is hidden off a terminal).
                bar.suspend(|| eprintln!("{line}"));
                results.lock().unwrap().push((j, result));
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(j, _)| *j);
    let results: Vec<RunResult> = results.into_iter().map(|(_, r)| r).collect();
    let written = report::write(&args.out, &results).expect("write report");
    eprintln!("\n{}", written.summary_table);
    if !written.acceptance_table.is_empty() {
        eprintln!("Does full beat both baselines?\n\n{}", written.acceptance_table);
    }
    eprintln!(
        "wrote {} ({} charts): {} runs in {:.1}s on {threads} threads",
        args.out.join("report.md").display(),
        written.charts.len(),
        results.len(),
        started.elapsed().as_secs_f64()
    );
}
