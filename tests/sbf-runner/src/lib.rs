//! Second backend of `margin_engine_tests::Backend`: solana-program-test 4.2.2 running the real
//! SBPF build of the program (`margin_engine.so`), with compute units metered.
//!
//! The scenario side speaks raw bytes; this side converts them to the solana 4.x types that
//! program-test 4.2.2 uses (the program itself is built against the 3.x line).
use std::path::{Path, PathBuf};

use margin_engine_tests::{Backend, Key, RawAccount, RawClock, RawInstruction, RawKeypair, RepeatGuard, TxError, TxOutcome};
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

fn to_instruction(ix: &RawInstruction) -> Instruction {
    Instruction {
        program_id: Pubkey::new_from_array(ix.program_id),
        accounts: ix
            .accounts
            .iter()
            .map(|m| AccountMeta { pubkey: Pubkey::new_from_array(m.pubkey), is_signer: m.is_signer, is_writable: m.is_writable })
            .collect(),
        data: ix.data.clone(),
    }
}

fn keypair(raw: &RawKeypair) -> Keypair {
    Keypair::try_from(&raw.0[..]).expect("valid keypair bytes")
}

fn map_tx_error(err: TransactionError) -> TxError {
    match err {
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => TxError::Custom { index, code },
        other => TxError::Other(format!("{other:?}")),
    }
}

fn map_error(err: BanksClientError) -> TxError {
    match err {
        BanksClientError::TransactionError(e) | BanksClientError::SimulationError { err: e, .. } => map_tx_error(e),
        other => TxError::Other(format!("{other:?}")),
    }
}

impl SbfBackend {
    fn send_once(&mut self, mut instructions: Vec<Instruction>, kps: &[Keypair]) -> Result<TxOutcome, TxError> {
        let payer_kp = &kps[0];
        let blockhash = self.context.last_blockhash;
        let message = Transaction::new_with_payer(&instructions, Some(&payer_kp.pubkey())).message_data();
        if let Some(price) = self.repeats.price_for(blockhash.to_bytes(), message) {
            instructions.push(ComputeBudgetInstruction::set_compute_unit_price(price));
        }
        let signer_refs: Vec<&Keypair> = kps.iter().collect();
        let tx = Transaction::new_signed_with_payer(&instructions, Some(&payer_kp.pubkey()), &signer_refs, blockhash);
        let result = self.runtime.block_on(self.context.banks_client.process_transaction_with_metadata(tx));
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                let e = map_error(e);
                self.last = LastTx { ok: false, compute_units: None, logs: vec![], error: Some(e.clone()) };
                return Err(e);
            }
        };
        let (logs, compute_units) = match &result.metadata {
            Some(meta) => (meta.log_messages.clone(), Some(meta.compute_units_consumed)),
            None => (vec![], None),
        };
        let outcome = result.result.map_err(map_tx_error);
        self.last = LastTx { ok: outcome.is_ok(), compute_units, logs: logs.clone(), error: outcome.clone().err() };
        outcome.map(|()| TxOutcome { logs, compute_units })
    }
}

impl Backend for SbfBackend {
    fn send(&mut self, ixs: &[RawInstruction], payer: &RawKeypair, signers: &[&RawKeypair]) -> Result<TxOutcome, TxError> {
        let mut kps: Vec<Keypair> = vec![keypair(payer)];
        kps.extend(signers.iter().map(|s| keypair(s)));
        let instructions: Vec<Instruction> = ixs.iter().map(to_instruction).collect();
        match self.send_once(instructions.clone(), &kps) {
            // The bank keeps a bounded queue of recent blockhashes: a long test can outlive the
            // one it started with. Take the newest and send again.
            Err(TxError::Other(e)) if e.contains("BlockhashNotFound") => {
                self.runtime.block_on(self.context.get_new_latest_blockhash()).expect("new blockhash");
                self.send_once(instructions, &kps)
            }
            other => other,
        }
    }

    fn account(&mut self, key: &Key) -> Option<RawAccount> {
        let account = self.runtime.block_on(self.context.banks_client.get_account(Pubkey::new_from_array(*key))).unwrap()?;
        Some(RawAccount { lamports: account.lamports, data: account.data, owner: account.owner.to_bytes(), executable: account.executable })
    }

    fn set_account(&mut self, key: &Key, account: RawAccount) {
        let shared = AccountSharedData::from(Account {
            lamports: account.lamports,
            data: account.data,
            owner: Pubkey::new_from_array(account.owner),
            executable: account.executable,
            rent_epoch: u64::MAX,
        });
        self.context.set_account(&Pubkey::new_from_array(*key), &shared);
    }

    fn clock(&mut self) -> RawClock {
        let clock: Clock = self.runtime.block_on(self.context.banks_client.get_sysvar()).unwrap();
        RawClock { slot: clock.slot, unix_timestamp: clock.unix_timestamp }
    }

    fn warp(&mut self, slot: u64, unix_timestamp: i64) {
        let current: Clock = self.runtime.block_on(self.context.banks_client.get_sysvar()).unwrap();
        if slot > current.slot {
            self.context.warp_to_slot(slot).unwrap();
        }
        let mut clock: Clock = self.runtime.block_on(self.context.banks_client.get_sysvar()).unwrap();
        clock.unix_timestamp = unix_timestamp;
        self.context.set_sysvar(&clock);
    }

    fn payer(&self) -> RawKeypair {
        RawKeypair(self.context.payer.to_bytes())
    }
}
