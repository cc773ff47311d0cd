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
    /// Shut down in the background on drop: a blocking shutdown waits tens of milliseconds for
    /// the bank's worker threads, which dominates short runs (the invariants runner makes one
    /// bank per sequence).
    runtime: std::mem::ManuallyDrop<tokio::runtime::Runtime>,
    context: ProgramTestContext,
    /// Messages already sent under the current blockhash: the bank would drop a repeat as
    /// "already processed", so a repeat gets a unique compute-unit-price instruction appended (instruction indexes
    /// of errors stay as the caller numbered them).
    repeats: RepeatGuard,
}

impl NativeBackend {
    pub fn new() -> Self {
        install_stub_panic_hook();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut program_test = ProgramTest::new("margin_engine", margin_engine::ID, processor!(process_instruction));
        program_test.prefer_bpf(false);
        let context = runtime.block_on(program_test.start_with_context());
        Self { runtime: std::mem::ManuallyDrop::new(runtime), context, repeats: RepeatGuard::default() }
    }
}

impl Drop for NativeBackend {
    fn drop(&mut self) {
        // SAFETY: taken once, here; the field is never used again.
        let runtime = unsafe { std::mem::ManuallyDrop::take(&mut self.runtime) };
        runtime.shutdown_background();
    }
}

impl Default for NativeBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl NativeBackend {
    /// The program runs as host code here: its compute units are not metered, so none are
    /// reported (the SBF runner reports them). A cross-program call asking for a privilege the
    /// caller did not grant is refused by the real runtime with `PrivilegeEscalation`; program-test's
    /// host-code call stub unwraps that refusal instead, so it surfaces as a panic
    /// (`ProgramFailedToComplete`). Restated here as the runtime reports it, so a panic of the
    /// program itself stays distinguishable.
    fn record(
        &mut self,
        _compute_units: Option<u64>,
        _logs: &[String],
        outcome: &mut Result<(), TxError>,
    ) -> Option<u64> {
        let stub_refusal = STUB_REFUSAL.with(|r| r.borrow_mut().take());
        if let (Err(TxError::Other(text)), Some(name)) = (&*outcome, stub_refusal) {
            if text.contains("ProgramFailedToComplete") {
                *outcome = Err(TxError::Other(format!("InstructionError(0, {name})")));
            }
        }
        None
    }
}

/// Instruction errors program-test's call stub unwraps (`sol_invoke_signed`), by the name the
/// panic message carries.
const STUB_UNWRAPPED: [&str; 2] = ["PrivilegeEscalation", "MissingRequiredSignature"];

std::thread_local! {
    /// The refusal the call stub panicked on in this thread's latest transaction, if any.
    static STUB_REFUSAL: std::cell::RefCell<Option<&'static str>> = const { std::cell::RefCell::new(None) };
}

/// Records the call stub's unwrap panics (and keeps them off stderr); every other panic goes to
/// the previous hook.
fn install_stub_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            let from_stub = info.location().is_some_and(|l| l.file().contains("solana-program-test"));
            let name = STUB_UNWRAPPED.iter().find(|n| message.ends_with(*n));
            match name {
                Some(name) if from_stub => STUB_REFUSAL.with(|r| *r.borrow_mut() = Some(name)),
                _ => previous(info),
            }
        }));
    });
}

// `to_instruction`, `keypair` (also used by the RPC backend), `send`, `account`, `set_account`,
// `clock`, `warp` and `payer`: the shared program-test backend body, over solana 3.x here.
crate::program_test_backend!(NativeBackend);
