//! `invariants`: runs random operation sequences through the real program (natively) and checks
//! the exchange's invariants after every step (`margin_engine_tests::invariants`).
//!
//! cargo run --release -p margin-engine-tests --bin invariants -- --sequences 100000 --seed 1
//! Replay one (shrunk) failure: `--seed S --sequences 1 --keep 0,4,9` as the failure report prints.
//! The report goes to stderr: run natively, the program's own log lines go to stdout.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;
use margin_engine_tests::invariants::{ops, run_on, shrink, subsequence, Fixture, Stats};
use margin_engine_tests::native::NativeBackend;

#[derive(Parser)]
#[command(about = "Random operation sequences through the real program; invariants after every step")]
struct Args {
    /// How many sequences (sequence i uses seed `seed + i`).
    #[arg(long, default_value_t = 1_000)]
    sequences: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads, each with its own bank.
    #[arg(long, default_value_t = 2)]
    threads: u64,
    /// Replay only these operation indexes of the sequence (as a shrunk failure prints them).
    #[arg(long, value_delimiter = ',')]
    keep: Option<Vec<usize>>,
    /// Print each operation of a replayed sequence.
    #[arg(long)]
    verbose: bool,
}

fn main() {
    // program-test logs every instruction at debug level otherwise.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    // Panics are caught and reported as failures; their default message would only repeat it.
    std::panic::set_hook(Box::new(|_| {}));
    let args = Args::parse();
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let total = Mutex::new(Stats::default());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..args.threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= args.sequences || !failures.lock().unwrap().is_empty() {
                    break;
                }
                let seed = args.seed + i;
                let all = ops::sequence(seed);
                let sequence = match &args.keep {
                    Some(keep) => subsequence(&all, keep),
                    None => all.clone(),
                };
                if args.verbose {
                    for (step, op) in sequence.iter().enumerate() {
                        eprintln!("{step:>3} {op:?}");
                    }
                }
                let mut stats = Stats::default();
                let mut fixture = Fixture::new(NativeBackend::new());
                let outcome = run_on(&mut fixture, &sequence, &mut stats);
                // Dropping a bank waits on its worker threads; let another thread do that.
                std::thread::spawn(move || drop(fixture));
                if let Err(failure) = outcome {
                    let (keep, failure) = match &args.keep {
                        Some(keep) => (keep.clone(), failure),
                        None => shrink(NativeBackend::new, &all, failure),
                    };
                    failures.lock().unwrap().push((seed, keep, failure));
                }
                let done = {
                    let mut t = total.lock().unwrap();
                    t.merge(&stats);
                    t.sequences
                };
                if done % 1_000 == 0 {
                    eprintln!("{done} sequences, {:.0} s", started.elapsed().as_secs_f64());
                }
            });
        }
    });
    let total = total.into_inner().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} sequences, {} steps, {} transactions ({} accepted), {} liquidations, {} bankruptcies, {} passes checked in {:.0} s ({:.0} tx/s)",
        total.sequences,
        total.steps,
        total.transactions,
        total.accepted,
        total.liquidations,
        total.bankruptcies,
        total.passes_checked,
        seconds,
        total.transactions as f64 / seconds
    );
    let mut refusals: Vec<_> = total.refusals.iter().collect();
    refusals.sort_by(|a, b| b.1.cmp(a.1));
    eprintln!("refusals by name ({} names):", refusals.len());
    for (name, count) in refusals {
        eprintln!("  {count:>9}  {name}");
    }
    let failures = failures.into_inner().unwrap();
    for (seed, keep, failure) in &failures {
        let all = ops::sequence(*seed);
        eprintln!("FAILED: seed {seed}, after step {} of the shrunk sequence: {}", failure.step, failure.what);
        let list: Vec<String> = keep.iter().map(|k| k.to_string()).collect();
        eprintln!("replay: --seed {seed} --sequences 1 --keep {} --verbose", list.join(","));
        for (step, op) in subsequence(&all, keep).iter().enumerate() {
            eprintln!("  {step:>3} {op:?}");
        }
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
