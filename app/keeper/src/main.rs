//! keeper: permissionless liquidator, bankruptcy/ADL resolver, order filler and crank bot.
//!
//! Example: `keeper --config keeper.toml --modes liquidator,waterfall --json-logs`
use std::time::{Duration, Instant};

use clap::Parser;
use margin_engine_keeper::{Keeper, KeeperConfig};
use margin_engine_sdk::rpc::RpcChain;
use solana_sdk::signature::Keypair;
use tracing::{info, warn};

#[derive(Parser, Debug)]
#[command(about = "Margin-engine keeper: liquidations, bankruptcy waterfall, fills, cranks")]
struct Args {
    /// TOML configuration file (see app/keeper/keeper.example.toml).
    #[arg(long)]
    config: Option<String>,
    #[arg(long)]
    rpc_url: Option<String>,
    #[arg(long)]
    keypair: Option<String>,
    /// Comma-separated subset of: liquidator, waterfall, filler, cranks.
    #[arg(long, value_delimiter = ',')]
    modes: Option<Vec<String>>,
    /// One tick, then exit.
    #[arg(long)]
    once: bool,
    #[arg(long)]
    json_logs: bool,
}

fn main() {
    let args = Args::parse();
    if args.json_logs {
        tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
            .init();
    }
    let mut config = match &args.config {
        Some(path) => KeeperConfig::from_toml(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}")))
            .unwrap_or_else(|e| panic!("{path}: {e}")),
        None => KeeperConfig::default(),
    };
    if let Some(url) = args.rpc_url {
        config.rpc_url = url;
    }
    if let Some(path) = args.keypair {
        config.keypair_path = path;
    }
    if let Some(modes) = args.modes {
        let on = |m: &str| modes.iter().any(|x| x == m);
        config.modes.liquidator = on("liquidator");
        config.modes.waterfall = on("waterfall");
        config.modes.filler = on("filler");
        config.modes.cranks = on("cranks");
        config.modes.triggers = on("triggers");
    }
    let secret: Vec<u8> = serde_json_bytes(
        &std::fs::read_to_string(&config.keypair_path).unwrap_or_else(|e| panic!("{}: {e}", config.keypair_path)),
    );
    let signer = Keypair::try_from(&secret[..]).expect("keypair file holds 64 bytes");
    let payer = Keypair::try_from(&secret[..]).expect("keypair");
    let chain = RpcChain::new(&config.rpc_url, payer);
    let metrics_every = Duration::from_secs(config.metrics_interval_secs);
    let poll = Duration::from_millis(config.poll_interval_ms);
    let mut keeper = Keeper::new(chain, config, signer);
    if let Err(e) = keeper.ensure_account() {
        warn!(error = %e, "could not create the keeper margin account");
    }
    let mut backoff = poll;
    let mut last_report = Instant::now();
    loop {
        match keeper.tick() {
            Ok(()) => backoff = poll,
            Err(e) => {
                warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "tick failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
        if args.once {
            break;
        }
        if last_report.elapsed() >= metrics_every {
            let m = keeper.metrics;
            info!(
                ticks = m.ticks,
                accounts = m.accounts_tracked,
                liq_sent = m.liquidations_sent,
                liq_landed = m.liquidations_landed,
                liq_failed = m.liquidations_failed,
                resolved = m.bankruptcies_resolved,
                adl = m.adl_batches,
                socialized = m.losses_socialized,
                fills = m.fills,
                cranks = m.cranks,
                profit = m.profit,
                "metrics"
            );
            last_report = Instant::now();
        }
        std::thread::sleep(backoff);
    }
    info!(metrics = ?keeper.metrics, "done");
}

/// The solana CLI keypair format: a JSON array of 64 numbers.
fn serde_json_bytes(text: &str) -> Vec<u8> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|n| n.trim().parse::<u8>().expect("keypair byte"))
        .collect()
}
