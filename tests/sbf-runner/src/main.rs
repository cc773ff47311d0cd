//! Boots the exchange on the SBPF build of the program and runs one pass through its main
//! instructions, printing the compute units each transaction consumed.
//!
//! Usage: `margin-engine-sbf-runner [DIR] [RUNS]` where DIR holds `margin_engine.so` (default:
//! `SBF_OUT_DIR`, else the repository's `target/deploy`) and RUNS (default 5) is how many times
//! the scenario runs on a fresh chain. Traders are random keypairs, so instructions that search
//! a PDA bump from the owner's key (`find_program_address`, 1,500 CU a try) vary between runs:
//! min / median / max are printed. With `SBF_RUNNER_LOGS=1` the program logs of each kind of
//! transaction are printed once.
use margin_engine::error::ErrorCode;
use margin_engine_sbf_runner::{default_so_dir, SbfBackend};
use margin_engine_tests::*;

const P100: u64 = 100_000_000;
const P50K: u64 = 50_000_000_000;

#[derive(Default)]
struct Report {
    /// Label -> (status of the first run, program CU of every run, transaction CU of every
    /// run), in first-seen order.
    rows: Vec<(String, String, Vec<u64>, Vec<u64>)>,
}

impl Report {
    fn record(&mut self, what: &str, backend: &SbfBackend) {
        let last = &backend.last;
        let status = match &last.error {
            None => "ok".to_string(),
            Some(e) => format!("err {e:?}"),
        };
        let cu = last.compute_units.expect("program-test meters every transaction");
        // The program's own share, from its "consumed" log line (the transaction total also
        // holds e.g. the compute-budget instruction the backend appends to a repeated message).
        let prefix = format!("Program {} consumed ", margin_engine::ID);
        let program_cu = last
            .logs
            .iter()
            .find_map(|l| l.strip_prefix(&prefix)?.split(' ').next()?.parse().ok())
            .expect("the program logged its compute units");
        if std::env::var_os("SBF_RUNNER_LOGS").is_some() && !self.rows.iter().any(|r| r.0 == what) {
            println!("--- {what}: {cu} CU, {status}");
            for line in &last.logs {
                println!("    {line}");
            }
        }
        match self.rows.iter_mut().find(|r| r.0 == what) {
            Some(row) => {
                assert_eq!(row.1, status, "{what}: outcome differs between runs");
                row.2.push(program_cu);
                row.3.push(cu);
            }
            None => self.rows.push((what.to_string(), status, vec![program_cu], vec![cu])),
        }
    }

    fn print(&self) {
        println!("compute units consumed by margin_engine (min / median / max over the runs), and by the whole transaction (median)");
        println!("{:<46} {:>7} {:>7} {:>7} {:>9}  outcome", "instruction", "min", "median", "max", "tx median");
        for (what, status, cus, tx_cus) in &self.rows {
            let (min, median, max) = stats(cus);
            let (_, tx_median, _) = stats(tx_cus);
            println!("{what:<46} {min:>7} {median:>7} {max:>7} {tx_median:>9}  {status}");
        }
    }
}

fn stats(values: &[u64]) -> (u64, u64, u64) {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    (sorted[0], sorted[sorted.len() / 2], sorted[sorted.len() - 1])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(std::path::PathBuf::from).unwrap_or_else(default_so_dir);
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("RUNS is a number"));
    let so = dir.join("margin_engine.so");
    println!("program: {} ({} bytes)", so.display(), std::fs::metadata(&so).map(|m| m.len()).unwrap_or(0));
    println!("runtime: solana-program-test 4.2.2 running the SBPF .so (its bundled SPL Token is p-token)");
    println!("runs: {runs} (each on a fresh chain with new random traders)\n");
    let mut report = Report::default();
    let mut events = 0;
    for _ in 0..runs {
        events = scenario(&dir, &mut report);
    }
    report.print();
    println!("\nconservation held after every run; the last BTC fill logged {events} event(s) (\"Program data:\")");
}

/// One pass through the main instructions; returns the number of events the BTC fill emitted.
fn scenario(dir: &std::path::Path, report: &mut Report) -> usize {
    let mut env = TestEnv::new(SbfBackend::with_so_dir(dir));
    report.record("initialize_exchange", &env.backend);
    env.add_market("SOL-PERP", P100 as i64, default_risk());
    report.record("create_market (Pyth only)", &env.backend);
    let btc_risk = margin_engine::state::RiskParams { tick_size: 1_000_000, step_size: 1_000_000, min_order_size: 1_000_000, ..default_risk() };
    env.add_market_with_oracle("BTC-PERP", P50K as i64, btc_risk, true);
    report.record("create_market (Pyth + Switchboard)", &env.backend);

    let mut trader = |env: &mut TestEnv<SbfBackend>, wallet: u64| {
        let t = env.new_trader(wallet);
        report.record("create_margin_account", &env.backend);
        t
    };
    let filler = trader(&mut env, 0);
    let target = trader(&mut env, 100_000 * USDC);
    let counterparty = trader(&mut env, 100_000 * USDC);
    let liquidator = trader(&mut env, 100_000 * USDC);

    for (t, amount) in [(&target, 1_100 * USDC), (&counterparty, 50_000 * USDC), (&liquidator, 20_000 * USDC)] {
        env.deposit(t, amount).unwrap();
        report.record("deposit (token CPI)", &env.backend);
    }

    let size = 100 * BASE as u64;
    let maker_id = env.place_order(&counterparty, 0, ASK, P100, size, OrderOpts::default()).unwrap();
    report.record("place_order (maker ask)", &env.backend);
    let taker_id = env.place_order(&target, 0, BID, P100, size, OrderOpts::default()).unwrap();
    report.record("place_order (taker bid)", &env.backend);
    let fill = margin_engine_sdk::instructions::Fill {
        market_index: 0,
        taker: target.margin_account,
        taker_order_id: taker_id,
        maker: counterparty.margin_account,
        maker_order_id: maker_id,
        max_base_amount: size,
    };
    env.fill(&filler, fill).unwrap();
    report.record("fill_orders (100 SOL at $100)", &env.backend);

    env.withdraw(&counterparty, 1_000 * USDC).unwrap();
    report.record("withdraw (1 position, token CPI)", &env.backend);
    let err = env.withdraw(&target, 1_000 * USDC).unwrap_err();
    assert_eq!(err, program_error(ErrorCode::InsufficientInitialMargin), "withdraw beyond initial margin");
    report.record("withdraw beyond initial margin (error)", &env.backend);

    env.set_price(0, 95_000_000);
    let err = env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap_err();
    assert_eq!(err, program_error(ErrorCode::AccountNotLiquidatable));
    report.record("liquidate healthy account (error)", &env.backend);

    env.set_price(0, 93_000_000);
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    report.record("liquidate (partial, throttled step)", &env.backend);
    assert_eq!(env.liquidate(&liquidator, &target, 0, u64::MAX), Err(program_error(ErrorCode::LiquidationThrottled)));
    report.record("liquidate again same slot (error)", &env.backend);

    assert_eq!(env.update_funding(0), Err(program_error(ErrorCode::FundingNotDue)));
    report.record("update_funding not due (error)", &env.backend);
    let period = default_risk().funding_period_slots as u64;
    env.advance_slots(period);
    env.set_price(0, 93_000_000);
    env.update_funding(0).unwrap();
    report.record("update_funding", &env.backend);
    let funding_events = env.backend.last.logs.iter().filter(|l| l.starts_with("Program data:")).count();
    assert!(funding_events > 0, "update_funding emits an event");

    // Market 1 (Pyth + Switchboard): the counterparty buys 0.01 BTC; 40 slots later its Pyth
    // update is too old for trading (> 25 slots) and the fresh Switchboard feed prices it.
    env.set_price(1, P50K as i64);
    env.trade(&filler, &counterparty, &liquidator, 1, BID, P50K, 10_000_000).unwrap();
    report.record("fill_orders (0.01 BTC, market 1)", &env.backend);
    let events = env.backend.last.logs.iter().filter(|l| l.starts_with("Program data:")).count();
    env.advance_slots(40);
    env.set_price(0, 93_000_000);
    let m1 = env.markets[1];
    env.write_switchboard(m1.switchboard.unwrap(), P50K as i64, 0);
    env.withdraw(&counterparty, USDC).unwrap();
    report.record("withdraw (2 positions, Switchboard fallback)", &env.backend);
    // Proof that the fallback carried it: with Switchboard stale as well, the same withdraw fails.
    env.advance_slots(40);
    env.set_price(0, 93_000_000);
    assert_eq!(env.withdraw(&counterparty, USDC), Err(program_error(ErrorCode::OracleStaleForTrading)));
    report.record("withdraw, both BTC oracles stale (error)", &env.backend);

    env.assert_conservation();
    events
}
