//! `localnet`: a local Solana network for end-to-end tests, speaking solana-test-validator's
//! JSON-RPC (HTTP on `--rpc-port`, signature websocket on the port above) over agave 4.2.2's bank,
//! which loads current SBPF V3 programs. Flags follow solana-test-validator's:
//!
//! `localnet --rpc-port 8899 --bpf-program <ID> <SO> [--account <PUBKEY> <JSON>]...`
//!
//! Why not solana-test-validator itself: see README.md in this folder (the bank, runtime and
//! program loader are the same crates; gossip, TPU, consensus and the ledger are what is left out,
//! and building them costs about 45 minutes on 2 cores).
mod ledger;
mod rpc;
mod server;

use std::path::PathBuf;
use std::sync::Arc;

use solana_pubkey::Pubkey;

pub struct Args {
    pub rpc_port: u16,
    pub programs: Vec<(Pubkey, PathBuf)>,
    pub accounts: Vec<(Pubkey, PathBuf)>,
    pub slot_ms: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { rpc_port: 8899, programs: vec![], accounts: vec![], slot_ms: 400 };
    let mut it = std::env::args().skip(1);
    let key = |s: Option<String>| -> Result<Pubkey, String> {
        let s = s.ok_or("missing address")?;
        s.parse().map_err(|_| format!("not a base58 address: {s}"))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--rpc-port" => args.rpc_port = it.next().and_then(|p| p.parse().ok()).ok_or("--rpc-port <PORT>")?,
            "--slot-ms" => args.slot_ms = it.next().and_then(|p| p.parse().ok()).ok_or("--slot-ms <MS>")?,
            "--bpf-program" => {
                let id = key(it.next())?;
                args.programs.push((id, PathBuf::from(it.next().ok_or("--bpf-program <ID> <SO>")?)));
            }
            "--account" => {
                let id = key(it.next())?;
                args.accounts.push((id, PathBuf::from(it.next().ok_or("--account <PUBKEY> <JSON>")?)));
            }
            "-h" | "--help" => {
                println!("localnet --rpc-port <PORT> [--slot-ms 400] [--bpf-program <ID> <SO>]... [--account <PUBKEY> <JSON>]...");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("localnet: {e}");
        std::process::exit(2);
    });
    // One thread: program-test's background task registers blockhashes on the working bank, and
    // a warp freezes that bank; on one thread the two cannot interleave mid-operation (a
    // multi-threaded runtime let the task write into a bank the warp had just frozen).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let ledger = ledger::Ledger::start(&args).await.unwrap_or_else(|e| {
            eprintln!("localnet: {e}");
            std::process::exit(1);
        });
        let ledger = Arc::new(tokio::sync::Mutex::new(ledger));
        let http = tokio::net::TcpListener::bind(("127.0.0.1", args.rpc_port)).await.expect("bind RPC port");
        let ws = tokio::net::TcpListener::bind(("127.0.0.1", args.rpc_port + 1)).await.expect("bind websocket port");
        println!("localnet ready http://127.0.0.1:{}", args.rpc_port);
        tokio::join!(server::serve_http(http, ledger.clone()), server::serve_websocket(ws, ledger));
    });
}
