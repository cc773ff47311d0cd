//! First backend: solana-program-test 3.1.12 running the program as host code (no CU metering).
#![allow(deprecated)]

use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::account::{Account, AccountSharedData};
use solana_sdk::clock::Clock;
use solana_sdk::instruction::{AccountMeta, Instruction, InstructionError};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

use crate::backend::*;

/// Anchor's `entry` ties all three arguments to one lifetime; the runtime's do not. Leaked owned
/// copies (the `AccountInfo` clones share the runtime's `Rc<RefCell>` data) bridge the two.
fn process_instruction<'a, 'b, 'c, 'd>(
    program_id: &'a anchor_lang::prelude::Pubkey,
    accounts: &'b [anchor_lang::prelude::AccountInfo<'c>],
    data: &'d [u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    let program_id: &'c anchor_lang::prelude::Pubkey = Box::leak(Box::new(*program_id));
    let accounts: &'c [anchor_lang::prelude::AccountInfo<'c>] = Box::leak(accounts.to_vec().into_boxed_slice());
    let data: &'c [u8] = Box::leak(data.to_vec().into_boxed_slice());
    margin_engine::entry(program_id, accounts, data)
}

pub struct NativeBackend {
    runtime: tokio::runtime::Runtime,
    context: ProgramTestContext,
    /// Messages already sent under the current blockhash: the bank would drop a repeat as
    /// "already processed", so a repeat gets a unique compute-unit-price instruction appended (instruction indexes
    /// of errors stay as the caller numbered them).
    repeats: RepeatGuard,
}

impl NativeBackend {
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut program_test = ProgramTest::new("margin_engine", margin_engine::ID, processor!(process_instruction));
        program_test.prefer_bpf(false);
        let context = runtime.block_on(program_test.start_with_context());
        Self { runtime, context, repeats: RepeatGuard::default() }
    }
}

impl Default for NativeBackend {
    fn default() -> Self {
        Self::new()
    }
}

/// A raw instruction as a solana-sdk 3.x `Instruction` (also used by the RPC backend).
pub(crate) fn to_instruction(ix: &RawInstruction) -> Instruction {
    Instruction {
        program_id: Pubkey::new_from_array(ix.program_id),
        accounts: ix
            .accounts
            .iter()
            .map(|m| AccountMeta {
                pubkey: Pubkey::new_from_array(m.pubkey),
                is_signer: m.is_signer,
                is_writable: m.is_writable,
            })
            .collect(),
        data: ix.data.clone(),
    }
}

pub(crate) fn keypair(raw: &RawKeypair) -> Keypair {
    Keypair::try_from(&raw.0[..]).expect("valid keypair bytes")
}

fn map_error(err: BanksClientError) -> TxError {
    match err {
        BanksClientError::TransactionError(TransactionError::InstructionError(
            index,
            InstructionError::Custom(code),
        ))
        | BanksClientError::SimulationError {
            err: TransactionError::InstructionError(index, InstructionError::Custom(code)),
            ..
        } => TxError::Custom { index, code },
        other => TxError::Other(format!("{other:?}")),
    }
}

impl NativeBackend {
    fn send_once(&mut self, mut instructions: Vec<Instruction>, kps: &[Keypair]) -> Result<TxOutcome, TxError> {
        let payer_kp = &kps[0];
        let blockhash = self.context.last_blockhash;
        let message = Transaction::new_with_payer(&instructions, Some(&payer_kp.pubkey())).message_data();
        if let Some(price) = self.repeats.price_for(blockhash.to_bytes(), message) {
            instructions.push(ComputeBudgetInstruction::set_compute_unit_price(price));
        }
        let signer_refs: Vec<&Keypair> = kps.iter().collect();
        let tx = Transaction::new_signed_with_payer(&instructions, Some(&payer_kp.pubkey()), &signer_refs, blockhash);
        let result = self
            .runtime
            .block_on(self.context.banks_client.process_transaction_with_metadata(tx))
            .map_err(map_error)?;
        // The program runs as host code here: its compute units are not metered, so none are
        // reported (the SBF runner reports them).
        let logs = result.metadata.as_ref().map(|m| m.log_messages.clone()).unwrap_or_default();
        match result.result {
            Ok(()) => Ok(TxOutcome { logs, compute_units: None }),
            Err(e) => Err(map_error(BanksClientError::TransactionError(e))),
        }
    }
}

impl Backend for NativeBackend {
    fn send(
        &mut self,
        ixs: &[RawInstruction],
        payer: &RawKeypair,
        signers: &[&RawKeypair],
    ) -> Result<TxOutcome, TxError> {
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
        let account =
            self.runtime.block_on(self.context.banks_client.get_account(Pubkey::new_from_array(*key))).unwrap()?;
        Some(RawAccount {
            lamports: account.lamports,
            data: account.data,
            owner: account.owner.to_bytes(),
            executable: account.executable,
        })
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
