//! The chain state behind the RPC: one agave 4.2.2 bank (through solana-program-test) whose
//! slot follows wall time, plus what RPC needs and the bank does not index (transaction records,
//! the set of addresses ever touched, for `getProgramAccounts`).
use std::collections::{BTreeSet, HashMap};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{json, Value};
use solana_account::{Account, AccountSharedData};
use solana_clock::Clock;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_program_test::{ProgramTest, ProgramTestContext};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use crate::Args;

/// BPF loader v2: what `--bpf-program` programs are owned by (not upgradeable).
const BPF_LOADER: Pubkey = Pubkey::from_str_const("BPFLoader2111111111111111111111111111111111");
const SYSTEM_PROGRAM: Pubkey = Pubkey::from_str_const("11111111111111111111111111111111");
/// Lamports per signature (the bank's default fee rate).
pub const FEE_PER_SIGNATURE: u64 = 5_000;

pub struct TxRecord {
    pub slot: u64,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub compute_units: u64,
    pub transaction: VersionedTransaction,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub block_time: i64,
}

/// A failed preflight: the validator's `-32002` error carries the simulation.
pub struct Preflight {
    pub err: TransactionError,
    pub logs: Vec<String>,
    pub compute_units: u64,
}

pub struct Ledger {
    ctx: ProgramTestContext,
    started: Instant,
    first_slot: u64,
    slot_ms: u64,
    /// Seconds added to wall time for the Clock (moved by `localnet_warp`).
    time_offset: i64,
    pub slot: u64,
    known: BTreeSet<Pubkey>,
    records: HashMap<Signature, TxRecord>,
    pub transaction_count: u64,
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// An account in `solana account --output json` form, as solana-test-validator's `--account` reads it.
pub fn account_from_json(text: &str) -> Result<Account, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let a = v.get("account").unwrap_or(&v);
    account_from_ui(a)
}

/// `{"lamports", "data": [base64, "base64"], "owner", "executable"}`.
pub fn account_from_ui(a: &Value) -> Result<Account, String> {
    let data = match &a["data"] {
        Value::Array(parts) if parts.get(1).and_then(Value::as_str).unwrap_or("base64") == "base64" => {
            base64::engine::general_purpose::STANDARD
                .decode(parts[0].as_str().ok_or("data[0] is not a string")?)
                .map_err(|e| format!("data: {e}"))?
        }
        Value::String(s) => base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| format!("data: {e}"))?,
        _ => return Err("data must be [base64, \"base64\"]".into()),
    };
    Ok(Account {
        lamports: a["lamports"].as_u64().ok_or("lamports")?,
        data,
        owner: a["owner"].as_str().ok_or("owner")?.parse().map_err(|_| "owner is not an address")?,
        executable: a["executable"].as_bool().unwrap_or(false),
        rent_epoch: a["rentEpoch"].as_u64().unwrap_or(0),
    })
}

impl Ledger {
    pub async fn start(args: &Args) -> Result<Self, String> {
        let mut program_test = ProgramTest::default();
        program_test.prefer_bpf(true);
        let mut known = BTreeSet::new();
        for (id, path) in &args.programs {
            let elf = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let lamports = 1_000_000_000; // rent-exempt for any program size up to ~140 MB
            program_test.add_account(*id, Account { lamports, data: elf, owner: BPF_LOADER, executable: true, rent_epoch: 0 });
        }
        for (id, path) in &args.accounts {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            program_test.add_account(*id, account_from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?);
            known.insert(*id);
        }
        let ctx = program_test.start_with_context().await;
        let clock: Clock = ctx.banks_client.get_sysvar().await.map_err(|e| e.to_string())?;
        let mut ledger = Ledger {
            ctx,
            started: Instant::now(),
            first_slot: clock.slot,
            slot_ms: args.slot_ms.max(1),
            time_offset: 0,
            slot: clock.slot,
            known,
            records: HashMap::new(),
            transaction_count: 0,
        };
        ledger.stamp_clock().await;
        Ok(ledger)
    }

    /// Moves the bank to the slot wall time says it should be at (one per `slot_ms`), and keeps
    /// the Clock's unix_timestamp on wall time, as a validator's stake-weighted clock would be.
    pub async fn catch_up(&mut self) {
        let target = self.first_slot + self.started.elapsed().as_millis() as u64 / self.slot_ms;
        if target > self.slot && self.ctx.warp_to_slot(target).is_ok() {
            self.slot = target;
            self.stamp_clock().await;
        }
    }

    /// Jumps to a later `slot` and sets the Clock's unix time (tests that need hours to pass);
    /// from there both follow wall time again.
    pub async fn warp(&mut self, slot: u64, unix_timestamp: i64) -> Result<(), String> {
        if slot <= self.slot {
            return Err(format!("cannot warp back: at slot {}, asked for {slot}", self.slot));
        }
        let elapsed_slots = self.started.elapsed().as_millis() as u64 / self.slot_ms;
        self.first_slot = slot - elapsed_slots.min(slot);
        self.time_offset = unix_timestamp - now_unix();
        self.ctx.warp_to_slot(slot).map_err(|e| format!("{e:?}"))?;
        self.slot = slot;
        self.stamp_clock().await;
        Ok(())
    }

    async fn stamp_clock(&mut self) {
        if let Ok(mut clock) = self.ctx.banks_client.get_sysvar::<Clock>().await {
            clock.unix_timestamp = now_unix() + self.time_offset;
            self.ctx.set_sysvar(&clock);
        }
    }

    pub async fn clock(&self) -> Result<Clock, String> {
        self.ctx.banks_client.get_sysvar::<Clock>().await.map_err(|e| e.to_string())
    }

    pub fn genesis_hash(&self) -> Hash {
        self.ctx.genesis_config().hash()
    }

    pub fn slots_in_epoch(&self, epoch: u64) -> u64 {
        self.ctx.genesis_config().epoch_schedule.get_slots_in_epoch(epoch)
    }

    pub async fn latest_blockhash(&self) -> Result<Hash, String> {
        self.ctx.banks_client.get_latest_blockhash().await.map_err(|e| e.to_string())
    }

    /// The bank's fee for `message`, or None when its blockhash has expired or is unknown.
    pub async fn fee_for_message(&self, message: solana_message::Message) -> Result<Option<u64>, String> {
        self.ctx.banks_client.get_fee_for_message(message).await.map_err(|e| e.to_string())
    }

    /// Whether the bank still accepts transactions with this blockhash.
    pub async fn blockhash_is_valid(&self, hash: &Hash) -> Result<bool, String> {
        let probe = solana_message::Message::new_with_blockhash(&[], Some(&self.ctx.payer.pubkey()), hash);
        Ok(self.fee_for_message(probe).await?.is_some())
    }

    pub async fn account(&self, key: &Pubkey) -> Result<Option<Account>, String> {
        self.ctx.banks_client.get_account(*key).await.map_err(|e| e.to_string())
    }

    pub async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, String> {
        Ok(self.ctx.banks_client.get_rent().await.map_err(|e| e.to_string())?.minimum_balance(len))
    }

    /// Every address a transaction, airdrop or `--account` ever named: `getProgramAccounts`
    /// searches these (the bank has no owner index we can reach through program-test).
    pub fn known_addresses(&self) -> impl Iterator<Item = &Pubkey> {
        self.known.iter()
    }

    pub fn set_account(&mut self, key: Pubkey, account: Account) {
        self.ctx.set_account(&key, &AccountSharedData::from(account));
        self.known.insert(key);
    }

    pub fn status_of(&self, signature: &str) -> Option<(u64, Value)> {
        let sig: Signature = signature.parse().ok()?;
        self.records.get(&sig).map(|r| (r.slot, json!(r.err)))
    }

    pub fn record(&self, sig: &Signature) -> Option<&TxRecord> {
        self.records.get(sig)
    }

    pub async fn simulate(&self, tx: &VersionedTransaction) -> Result<(Option<TransactionError>, Vec<String>, u64), String> {
        let sim = self.ctx.banks_client.simulate_transaction(tx.clone()).await.map_err(|e| e.to_string())?;
        let (logs, units) = sim.simulation_details.map(|d| (d.logs, d.units_consumed)).unwrap_or_default();
        let err = match sim.result {
            Some(Err(e)) => Some(e),
            _ => None,
        };
        Ok((err, logs, units))
    }

    /// `sendTransaction`: with preflight, a transaction that would fail is refused before it
    /// lands (as a validator's RPC does); otherwise it executes and its result is recorded.
    pub async fn send(&mut self, tx: VersionedTransaction, preflight: bool) -> Result<Signature, Result<Preflight, String>> {
        tx.sanitize().map_err(|e| Err(format!("invalid transaction: {e}")))?;
        let sig = *tx.signatures.first().ok_or_else(|| Err("transaction has no signature".to_string()))?;
        if let Some(r) = self.records.get(&sig) {
            if r.err.is_none() {
                return Err(Ok(Preflight { err: TransactionError::AlreadyProcessed, logs: vec![], compute_units: 0 }));
            }
        }
        if preflight {
            let (err, logs, compute_units) = self.simulate(&tx).await.map_err(Err)?;
            if let Some(err) = err {
                return Err(Ok(Preflight { err, logs, compute_units }));
            }
        }
        let keys: Vec<Pubkey> = tx.message.static_account_keys().to_vec();
        let pre_balances = self.balances(&keys).await;
        let outcome =
            self.ctx.banks_client.process_transaction_with_metadata(tx.clone()).await.map_err(|e| Err(e.to_string()))?;
        let (logs, compute_units) =
            outcome.metadata.map(|m| (m.log_messages, m.compute_units_consumed)).unwrap_or_default();
        let err = outcome.result.err();
        // Sanitize or signature failures never reach a block: the RPC returns them as errors.
        if matches!(
            err,
            Some(TransactionError::SignatureFailure)
                | Some(TransactionError::BlockhashNotFound)
                | Some(TransactionError::AlreadyProcessed)
                | Some(TransactionError::AccountNotFound)
                | Some(TransactionError::InsufficientFundsForFee)
        ) {
            return Err(Ok(Preflight { err: err.unwrap(), logs, compute_units }));
        }
        let post_balances = self.balances(&keys).await;
        self.known.extend(keys.iter().copied());
        self.transaction_count += 1;
        let block_time = self.clock().await.map(|c| c.unix_timestamp).unwrap_or_else(|_| now_unix());
        self.records.insert(
            sig,
            TxRecord { slot: self.slot, err, logs, compute_units, transaction: tx, pre_balances, post_balances, block_time },
        );
        Ok(sig)
    }

    async fn balances(&self, keys: &[Pubkey]) -> Vec<u64> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.account(k).await.ok().flatten().map(|a| a.lamports).unwrap_or(0));
        }
        out
    }

    /// `requestAirdrop`: a system transfer from the genesis mint keypair.
    pub async fn airdrop(&mut self, to: Pubkey, lamports: u64) -> Result<Signature, String> {
        let mut data = vec![2, 0, 0, 0];
        data.extend_from_slice(&lamports.to_le_bytes());
        let payer = self.ctx.payer.insecure_clone();
        let ix = solana_instruction::Instruction {
            program_id: SYSTEM_PROGRAM,
            accounts: vec![
                solana_instruction::AccountMeta::new(payer.pubkey(), true),
                solana_instruction::AccountMeta::new(to, false),
            ],
            data,
        };
        // A fresh blockhash per airdrop keeps two equal airdrops distinct.
        let blockhash = self.latest_blockhash().await?;
        let signers: [&Keypair; 1] = [&payer];
        let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &signers, blockhash);
        match self.send(VersionedTransaction::from(tx), false).await {
            Ok(sig) => Ok(sig),
            Err(Ok(p)) => Err(format!("airdrop failed: {}", p.err)),
            Err(Err(e)) => Err(e),
        }
    }
}
