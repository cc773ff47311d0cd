//! End to end over JSON-RPC: a local network process (tests/localnet: agave 4.2.2's bank running
//! the SBPF build of the program) with the market's Pyth account preloaded, traders that deposit
//! and trade through real RPC transactions, an oracle crash written into the price account the
//! network serves, and the `keeper` binary — a separate process, as in production — liquidating
//! and resolving the waterfall on its own. The test checks the outcome over RPC.
//!
//! Run by `tests/e2e/run.sh` (it builds the .so and the localnet first).
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use margin_engine::state::margin_account_flags::{BANKRUPT, BEING_LIQUIDATED};
use margin_engine::state::RiskParams;
use margin_engine_sdk::pda;
use margin_engine_tests::rpc::{Localnet, RpcBackend};
use margin_engine_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-engine-e2e-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Pyth `PriceUpdateV2` in `solana account --output json` form, for `--account`.
fn pyth_account_json(data: &[u8]) -> String {
    use base64::Engine;
    format!(
        r#"{{"pubkey":"","account":{{"lamports":10000000,"data":["{}","base64"],"owner":"{}","executable":false,"rentEpoch":0}}}}"#,
        base64::engine::general_purpose::STANDARD.encode(data),
        pyth_solana_receiver_sdk::ID
    )
}

#[test]
#[ignore = "needs the localnet binary and the .so: run by tests/e2e/run.sh"]
fn the_keeper_binary_unwinds_a_crash_over_rpc() {
    let dir = temp_dir("crash");
    // The price account the market will read, preloaded at genesis like a cloned Pyth account.
    let pyth = Pubkey::new_unique();
    let feed_id = [7u8; 32];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let preload = pyth_update_bytes(feed_id, 100_000_000, 0, 0, now, VerificationLevel::Full);
    let pyth_file = dir.join("pyth.json");
    std::fs::write(&pyth_file, pyth_account_json(&preload)).unwrap();
    let localnet = Localnet::start(&[(pyth, pyth_file)]);
    let url = localnet.url.clone();
    let mut env = TestEnv::new(RpcBackend::with_localnet(localnet));
    assert_eq!(env.raw_data(pyth), preload, "the network serves the preloaded price account");

    let risk = RiskParams { insurance_draw_cap: 2_500 * USDC, ..default_risk() };
    env.add_market_on_oracle("SOL-PERP", pyth, feed_id, 100_000_000, risk);
    let filler = env.new_trader(0);
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 2_000 * USDC).unwrap();
    let shorts: Vec<Trader> = (0..2).map(|_| env.new_trader(1_000_000 * USDC)).collect();
    for s in &shorts {
        env.deposit(s, 20_000 * USDC).unwrap();
    }
    let mut longs = vec![];
    for i in 0..4u64 {
        let t = env.new_trader(100_000 * USDC);
        env.deposit(&t, (1_100 + 100 * i) * USDC).unwrap();
        env.trade(&filler, &t, &shorts[i as usize % 2], 0, BID, 100_000_000, 100 * BASE as u64).unwrap();
        longs.push(t);
    }
    env.assert_conservation();
    let keeper_trader = env.new_trader(1_000_000 * USDC);
    env.deposit(&keeper_trader, 100_000 * USDC).unwrap();
    env.backend.airdrop(&keeper_trader.owner, 100 * 1_000_000_000);
    let keeper_collateral_before = env.margin_account(keeper_trader.margin_account).collateral;
    let fund_before = env.token_balance(pda::insurance_vault());
    let wallet_before: Vec<u64> = longs.iter().map(|t| env.token_balance(t.token_account)).collect();

    // The keeper process: its keypair file and TOML config, as an operator would write them.
    let keypair_file = dir.join("keeper.json");
    let bytes: Vec<String> = keeper_trader.keypair.0.iter().map(|b| b.to_string()).collect();
    std::fs::write(&keypair_file, format!("[{}]", bytes.join(","))).unwrap();
    let config_file = dir.join("keeper.toml");
    std::fs::write(
        &config_file,
        format!(
            "rpc_url = \"{url}\"\nkeypair_path = \"{}\"\npoll_interval_ms = 200\nmetrics_interval_secs = 1\n\
             [modes]\nliquidator = true\nwaterfall = true\nfiller = false\ncranks = true\n\
             [[markets]]\nindex = 0\npyth = \"{pyth}\"\n",
            keypair_file.display()
        ),
    )
    .unwrap();
    let log_file = dir.join("keeper.log");
    let mut keeper = Command::new(env!("CARGO_BIN_EXE_keeper"))
        .args(["--config", config_file.to_str().unwrap(), "--json-logs"])
        .env("RUST_LOG", "info")
        .stdout(std::fs::File::create(&log_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("keeper binary starts");

    // The crash, pushed like a Pyth price feed: −2% every 300 ms down to $76, then held there
    // (re-published so it stays fresh) until the keeper has unwound everything.
    let started = Instant::now();
    let mut price = 100_000_000i64;
    let unwound = loop {
        if price > 76_000_000 {
            price -= 2_000_000;
        }
        env.set_price(0, price);
        std::thread::sleep(Duration::from_millis(300));
        if price <= 76_000_000 && nothing_left(&mut env, &longs, price as u64) {
            break true;
        }
        if started.elapsed() > Duration::from_secs(120) {
            break false;
        }
    };
    let elapsed = started.elapsed();
    let _ = keeper.kill();
    let _ = keeper.wait();
    let mut log = String::new();
    std::fs::File::open(&log_file).unwrap().read_to_string(&mut log).unwrap();
    assert!(unwound, "the keeper did not unwind the crash within 120 s; its log:\n{log}");

    // What the keeper reported about itself (its last metrics line).
    let metrics: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "metrics")
        .last()
        .map(|v| v["fields"].clone())
        .unwrap_or(Value::Null);
    // The outcome, read back over RPC.
    let fund_after = env.token_balance(pda::insurance_vault());
    let keeper_collateral_after = env.margin_account(keeper_trader.margin_account).collateral;
    println!(
        "e2e over RPC: unwound in {:.1} s; keeper metrics {metrics}; insurance fund ${:.2} -> ${:.2}; \
         keeper collateral ${:.2} -> ${:.2}",
        elapsed.as_secs_f64(),
        fund_before as f64 / 1e6,
        fund_after as f64 / 1e6,
        keeper_collateral_before as f64 / 1e6,
        keeper_collateral_after as f64 / 1e6
    );
    for t in &longs {
        let a = env.margin_account(t.margin_account);
        assert!(a.collateral >= 0, "no bad debt left on {}", t.margin_account);
    }
    assert!(fund_after < fund_before, "the insurance fund paid for the bankrupt remainder");
    assert!(keeper_collateral_after > keeper_collateral_before, "liquidation fees paid the keeper");
    assert!(metrics["liq_landed"].as_u64().unwrap_or(0) >= 4, "the keeper liquidated every long: {metrics}");
    assert!(metrics["resolved"].as_u64().unwrap_or(0) >= 1, "the keeper resolved a bankruptcy: {metrics}");
    // Wallet balances are untouched: losses come out of margin, never out of wallets.
    let wallet_after: Vec<u64> = longs.iter().map(|t| env.token_balance(t.token_account)).collect();
    assert_eq!(wallet_before, wallet_after);
    env.assert_conservation();
}

/// No long is bankrupt, flagged, or below maintenance at `price`.
fn nothing_left(env: &mut TestEnv<RpcBackend>, longs: &[Trader], price: u64) -> bool {
    longs.iter().all(|t| {
        let a = env.margin_account(t.margin_account);
        let h = env.health(t.margin_account, &[(0, price)]);
        a.flags & (BANKRUPT | BEING_LIQUIDATED) == 0 && h.maintenance_health >= 0
    })
}
