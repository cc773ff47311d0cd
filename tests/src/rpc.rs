//! A third [`Backend`]: JSON-RPC to a local network process (`tests/localnet`, started by
//! [`Localnet::start`]), the way wallets, bots and the SDK reach a validator. Instructions go as
//! real signed transactions through `sendTransaction` (preflight included); fixtures (mints,
//! token accounts, oracle prices) are written with the localnet's `localnet_setAccount`, and
//! time jumps with `localnet_warp`, as solana-test-validator's `--account` and `--warp-slot` do.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine;
use serde_json::{json, Value};
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

use crate::backend::*;
use crate::native::{keypair, to_instruction};

const CLOCK_SYSVAR: Pubkey = Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running `localnet` process on a free loopback port; killed on drop.
pub struct Localnet {
    child: Child,
    pub url: String,
}

impl Localnet {
    /// `LOCALNET_BIN` (default `target/sbf-suite/debug/localnet`, built by
    /// `tests/localnet/build.sh`) serving `margin_engine.so` from `SBF_OUT_DIR` (default
    /// `target/deploy`), plus `accounts` preloaded as `--account <key> <json>` files.
    pub fn start(accounts: &[(Pubkey, PathBuf)]) -> Self {
        let bin = std::env::var_os("LOCALNET_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/sbf-suite/debug/localnet"));
        let so_dir =
            std::env::var_os("SBF_OUT_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/deploy"));
        let so = so_dir.join("margin_engine.so");
        assert!(bin.is_file(), "{} missing: run tests/localnet/build.sh", bin.display());
        assert!(so.is_file(), "{} missing: run programs/sbf/build.sh", so.display());
        for _attempt in 0..5 {
            let port = free_port_pair();
            let mut cmd = Command::new(&bin);
            cmd.args(["--rpc-port", &port.to_string(), "--bpf-program", &margin_engine::ID.to_string()])
                .arg(&so)
                .stdout(Stdio::piped())
                .stderr(log_file(port));
            for (key, file) in accounts {
                cmd.arg("--account").arg(key.to_string()).arg(file);
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if line.starts_with("localnet ready") {
                return Localnet { child, url: format!("http://127.0.0.1:{port}") };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("localnet did not start");
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The network's stderr goes to `$TMPDIR/localnet-<port>.log` (kept for a failing test).
fn log_file(port: u16) -> Stdio {
    let path = std::env::temp_dir().join(format!("localnet-{port}.log"));
    std::fs::File::create(&path).map(Stdio::from).unwrap_or_else(|_| Stdio::null())
}

/// A port whose successor is free too (the websocket listens on port + 1).
fn free_port_pair() -> u16 {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

pub struct RpcBackend {
    pub client: RpcClient,
    payer: RawKeypair,
    repeats: RepeatGuard,
    /// Keeps the process alive as long as the backend.
    pub localnet: Localnet,
}

impl RpcBackend {
    /// Starts a fresh localnet and funds a fee payer with an airdrop.
    pub fn start() -> Self {
        Self::with_localnet(Localnet::start(&[]))
    }

    pub fn with_localnet(localnet: Localnet) -> Self {
        let client = RpcClient::new_with_commitment(localnet.url.clone(), CommitmentConfig::confirmed());
        let payer = Keypair::new();
        let backend = Self { client, payer: RawKeypair(payer.to_bytes()), repeats: RepeatGuard::default(), localnet };
        backend.airdrop(&payer.pubkey(), 10_000 * 1_000_000_000);
        assert!(backend.client.get_balance(&payer.pubkey()).expect("getBalance") > 0, "airdrop failed");
        backend
    }

    /// Sends `lamports` of SOL to `to` (a keeper's wallet pays its own fees) and waits for it.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) {
        let sig = self.client.request_airdrop(to, lamports).expect("requestAirdrop");
        self.client.poll_for_signature_with_commitment(&sig, CommitmentConfig::confirmed()).expect("airdrop lands");
    }

    pub fn url(&self) -> &str {
        &self.localnet.url
    }

    fn admin(&self, method: &'static str, params: Value) {
        self.client.send::<Value>(RpcRequest::Custom { method }, params).unwrap_or_else(|e| panic!("{method}: {e}"));
    }

    /// Logs and compute units of a landed transaction, from `getTransaction`.
    fn outcome(&self, signature: &solana_sdk::signature::Signature) -> TxOutcome {
        let tx: Value = self
            .client
            .send(
                RpcRequest::GetTransaction,
                json!([signature.to_string(), {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
            )
            .unwrap_or(Value::Null);
        let logs = tx["meta"]["logMessages"]
            .as_array()
            .map(|l| l.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default();
        TxOutcome { logs, compute_units: tx["meta"]["computeUnitsConsumed"].as_u64() }
    }
}

fn custom(e: &TransactionError) -> Option<TxError> {
    match e {
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
            Some(TxError::Custom { index: *index, code: *code })
        }
        _ => None,
    }
}

fn map_error(err: solana_rpc_client_api::client_error::Error) -> TxError {
    match err.kind() {
        ErrorKind::TransactionError(e) => custom(e).unwrap_or_else(|| TxError::Other(e.to_string())),
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
            message,
            ..
        }) => {
            sim.err.as_ref().and_then(|e| custom(&e.clone().into())).unwrap_or_else(|| TxError::Other(message.clone()))
        }
        _ => TxError::Other(err.to_string()),
    }
}

impl Backend for RpcBackend {
    fn send(
        &mut self,
        ixs: &[RawInstruction],
        payer: &RawKeypair,
        signers: &[&RawKeypair],
    ) -> Result<TxOutcome, TxError> {
        let payer_kp = keypair(payer);
        let mut kps = vec![keypair(payer)];
        kps.extend(signers.iter().map(|s| keypair(s)));
        let mut instructions: Vec<Instruction> = ixs.iter().map(to_instruction).collect();
        let blockhash = self.client.get_latest_blockhash().map_err(|e| TxError::Other(e.to_string()))?;
        let message = Transaction::new_with_payer(&instructions, Some(&payer_kp.pubkey())).message_data();
        if let Some(price) = self.repeats.price_for(blockhash.to_bytes(), message) {
            instructions.push(ComputeBudgetInstruction::set_compute_unit_price(price));
        }
        let refs: Vec<&Keypair> = kps.iter().collect();
        let tx = Transaction::new_signed_with_payer(&instructions, Some(&payer_kp.pubkey()), &refs, blockhash);
        let signature = self.client.send_and_confirm_transaction(&tx).map_err(map_error)?;
        Ok(self.outcome(&signature))
    }

    fn account(&mut self, key: &Key) -> Option<RawAccount> {
        let response = self
            .client
            .get_account_with_commitment(&Pubkey::new_from_array(*key), CommitmentConfig::confirmed())
            .expect("getAccountInfo");
        response.value.map(|a| RawAccount {
            lamports: a.lamports,
            data: a.data,
            owner: a.owner.to_bytes(),
            executable: a.executable,
        })
    }

    fn set_account(&mut self, key: &Key, account: RawAccount) {
        let data = base64::engine::general_purpose::STANDARD.encode(&account.data);
        self.admin(
            "localnet_setAccount",
            json!([Pubkey::new_from_array(*key).to_string(), {"lamports": account.lamports, "data": [data, "base64"],
                "owner": Pubkey::new_from_array(account.owner).to_string(), "executable": account.executable}]),
        );
    }

    fn clock(&mut self) -> RawClock {
        let data = self.client.get_account_data(&CLOCK_SYSVAR).expect("clock sysvar");
        let word = |i: usize| u64::from_le_bytes(data[i * 8..i * 8 + 8].try_into().unwrap());
        RawClock { slot: word(0), unix_timestamp: word(4) as i64 }
    }

    fn warp(&mut self, slot: u64, unix_timestamp: i64) {
        self.admin("localnet_warp", json!([slot, unix_timestamp]));
    }

    fn payer(&self) -> RawKeypair {
        self.payer.clone()
    }
}
