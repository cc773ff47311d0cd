//! `fuzz`: mutated instructions against every instruction of the real program, natively
//! (`margin_engine_tests::fuzz`). Zero crashes is the pass mark: every refusal named, nothing
//! changed by a refusal, every invariant after an accepted one.
//!
//! cargo run --release -p margin-engine-tests --bin fuzz -- --chunks 1000 --executions 500 --seed 1
//! Replay a crash: `--seed S --first-chunk C --chunks 1` as the report prints.
//! The report goes to stderr: run natively, the program's own log lines go to stdout.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;
use margin_engine_tests::fuzz::{run_chunk, FuzzStats, INSTRUCTIONS};
use margin_engine_tests::native::NativeBackend;

#[derive(Parser)]
#[command(
    about = "Mutated instructions through the real program: no panic, named refusals, nothing changed by a refusal"
)]
struct Args {
    /// Fresh exchanges to fuzz.
    #[arg(long, default_value_t = 100)]
    chunks: u64,
    /// Executions on each.
    #[arg(long, default_value_t = 500)]
    executions: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 0)]
    first_chunk: u64,
    #[arg(long, default_value_t = 2)]
    threads: u64,
}

fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let args = Args::parse();
    let started = Instant::now();
    let next = AtomicU64::new(args.first_chunk);
    let total = Mutex::new(FuzzStats::default());
    let crashes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..args.threads.max(1) {
            scope.spawn(|| loop {
                let chunk = next.fetch_add(1, Ordering::Relaxed);
                if chunk >= args.first_chunk + args.chunks {
                    break;
                }
                let mut stats = FuzzStats::default();
                if let Some(crash) = run_chunk(NativeBackend::new(), args.seed, chunk, args.executions, &mut stats) {
                    crashes.lock().unwrap().push(crash);
                }
                total.lock().unwrap().merge(&stats);
            });
        }
    });
    let total = total.into_inner().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} executions on {} exchanges in {:.0} s ({:.0}/s): {} accepted, {} refused by name, {} refused by the runtime before the program ran",
        total.executions,
        args.chunks,
        seconds,
        total.executions as f64 / seconds,
        total.accepted,
        total.refused_named,
        total.refused_by_runtime
    );
    eprintln!("instructions covered: {} of {INSTRUCTIONS}", total.by_instruction.len());
    let mut refusals: Vec<_> = total.refusals.iter().collect();
    refusals.sort_by(|a, b| b.1.cmp(a.1));
    eprintln!("refusals by name ({} names), most common:", refusals.len());
    for (name, count) in refusals.iter().take(25) {
        eprintln!("  {count:>9}  {name}");
    }
    let crashes = crashes.into_inner().unwrap();
    eprintln!("crashes: {}", crashes.len());
    for c in &crashes {
        eprintln!("CRASH: chunk {} execution {}: {}\n  {}", c.chunk, c.execution, c.what, c.instruction);
        eprintln!(
            "  replay: --seed {} --first-chunk {} --chunks 1 --executions {}",
            args.seed,
            c.chunk,
            c.execution + 1
        );
    }
    if !crashes.is_empty() {
        std::process::exit(1);
    }
}
