//! bootstrap: `bootstrap --config migrations/exchange.example.toml --rpc-url http://127.0.0.1:8899 --keypair gov.json`
use clap::Parser;
use margin_engine_migrations::{bootstrap, parse};
use margin_engine_sdk::rpc::RpcChain;
use solana_sdk::signature::Keypair;

#[derive(Parser, Debug)]
#[command(about = "Bring a cluster to the exchange and markets of a TOML file (idempotent)")]
struct Args {
    #[arg(long)]
    config: String,
    #[arg(long, default_value = "http://127.0.0.1:8899")]
    rpc_url: String,
    /// Governance keypair (JSON array of 64 bytes); also pays.
    #[arg(long)]
    keypair: String,
}

fn read_keypair(path: &str) -> Keypair {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let bytes: Vec<u8> = text
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|n| n.trim().parse().expect("keypair byte"))
        .collect();
    Keypair::try_from(&bytes[..]).expect("64-byte keypair")
}

fn main() {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.config).unwrap_or_else(|e| panic!("{}: {e}", args.config));
    let config = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", args.config));
    let mut chain = RpcChain::new(&args.rpc_url, read_keypair(&args.keypair));
    let governance = read_keypair(&args.keypair);
    match bootstrap(&mut chain, &config, &governance) {
        Ok(actions) if actions.is_empty() => println!("nothing to do: the cluster matches {}", args.config),
        Ok(actions) => actions.iter().for_each(|a| println!("{a}")),
        Err(e) => {
            eprintln!("bootstrap failed: {e}");
            std::process::exit(1);
        }
    }
}
