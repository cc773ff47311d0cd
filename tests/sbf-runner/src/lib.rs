//! Second backend of `margin_engine_tests::Backend`: solana-program-test 4.2.2 running the real
//! SBPF build of the program (`margin_engine.so`), with compute units metered.
//!
//! The scenario side speaks raw bytes; this side converts them to the solana 4.x types that
//! program-test 4.2.2 uses (the program itself is built against the 3.x line).
use std::path::{Path, PathBuf};

use margin_engine_tests::{RepeatGuard, TxError};
use solana_account::{Account, AccountSharedData};
use solana_clock::Clock;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::error::InstructionError;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

/// What the last `send` did, success or not (a failed transaction's compute units are not in
/// `TxError`, so they are kept here).
#[derive(Clone, Debug, Default)]
pub struct LastTx {
    pub ok: bool,
    pub compute_units: Option<u64>,
    pub logs: Vec<String>,
    pub error: Option<TxError>,
}

pub struct SbfBackend {
    runtime: tokio::runtime::Runtime,
    context: ProgramTestContext,
    /// Messages already sent under the current blockhash: the bank would drop a repeat as
    /// "already processed", so a repeat gets a unique compute-unit-price instruction appended.
    repeats: RepeatGuard,
    pub last: LastTx,
}

/// The folder holding `margin_engine.so`: `SBF_OUT_DIR` if set, else the repository's
/// `target/deploy`.
pub fn default_so_dir() -> PathBuf {
    match std::env::var_os("SBF_OUT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy"),
    }
}

impl SbfBackend {
    /// Loads `margin_engine.so` from [`default_so_dir`].
    pub fn new() -> Self {
        Self::with_so_dir(&default_so_dir())
    }

    pub fn with_so_dir(dir: &Path) -> Self {
        let dir = dir.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert!(dir.join("margin_engine.so").is_file(), "no margin_engine.so in {} (run programs/sbf/build.sh)", dir.display());
        // program-test decides between builtin and .so from SBF_OUT_DIR, and searches it for
        // `<name>.so`: set it before `ProgramTest::default()`.
        std::env::set_var("SBF_OUT_DIR", &dir);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut program_test = ProgramTest::default();
        program_test.prefer_bpf(true);
        program_test.add_program("margin_engine", Pubkey::new_from_array(margin_engine::ID.to_bytes()), None);
        let context = runtime.block_on(program_test.start_with_context());
        Self { runtime, context, repeats: RepeatGuard::default(), last: LastTx::default() }
    }
}

impl Default for SbfBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl SbfBackend {
    /// Keeps what the last transaction did (a failed one's compute units are not in `TxError`).
    fn record(&mut self, compute_units: Option<u64>, logs: &[String], outcome: &mut Result<(), TxError>) -> Option<u64> {
        self.last =
            LastTx { ok: outcome.is_ok(), compute_units, logs: logs.to_vec(), error: outcome.clone().err() };
        compute_units
    }
}

// `to_instruction`, `keypair`, `send`, `account`, `set_account`, `clock`, `warp` and `payer`: the
// shared program-test backend body (`margin_engine_tests::program_test_backend!`), over solana 4.x.
margin_engine_tests::program_test_backend!(SbfBackend);
