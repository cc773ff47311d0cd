//! The boundary between test scenarios and a runtime. It speaks raw bytes only, because the
//! runtime that runs the SBF .so uses solana 4.x types while the program uses 3.x: typed structs
//! cannot cross, bytes can.
pub type Key = [u8; 32];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMeta {
    pub pubkey: Key,
    pub is_signer: bool,
    pub is_writable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawInstruction {
    pub program_id: Key,
    pub accounts: Vec<RawMeta>,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAccount {
    pub lamports: u64,
    pub data: Vec<u8>,
    pub owner: Key,
    pub executable: bool,
}

/// ed25519 keypair bytes (secret ‖ public), as `Keypair::to_bytes` gives them.
#[derive(Clone)]
pub struct RawKeypair(pub [u8; 64]);

impl RawKeypair {
    pub fn pubkey(&self) -> Key {
        self.0[32..].try_into().unwrap()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    /// A program returned `Custom(code)` from instruction `index`.
    Custom { index: u8, code: u32 },
    /// Anything else (runtime, account, signature errors), as text.
    Other(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxOutcome {
    pub logs: Vec<String>,
    /// Compute units consumed, where the runtime meters them (not natively).
    pub compute_units: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawClock {
    pub slot: u64,
    pub unix_timestamp: i64,
}

pub trait Backend {
    /// Signs with `payer` plus `signers` and processes the instructions atomically.
    fn send(
        &mut self,
        ixs: &[RawInstruction],
        payer: &RawKeypair,
        signers: &[&RawKeypair],
    ) -> Result<TxOutcome, TxError>;
    fn account(&mut self, key: &Key) -> Option<RawAccount>;
    fn set_account(&mut self, key: &Key, account: RawAccount);
    fn clock(&mut self) -> RawClock;
    /// Moves to a later slot and sets the clock's unix time.
    fn warp(&mut self, slot: u64, unix_timestamp: i64);
    /// A funded fee payer for this runtime.
    fn payer(&self) -> RawKeypair;
}

/// Keeps repeated transactions distinct: a bank drops a transaction identical to one already
/// processed under the same blockhash, so each backend asks this guard whether to append a unique
/// compute-unit-price instruction to a message it is about to sign.
#[derive(Default)]
pub struct RepeatGuard {
    sent: std::collections::HashSet<Vec<u8>>,
    blockhash: [u8; 32],
    nonce: u64,
}

impl RepeatGuard {
    /// The compute-unit price to append when `message` repeats one sent under `blockhash`.
    pub fn price_for(&mut self, blockhash: [u8; 32], message: Vec<u8>) -> Option<u64> {
        if blockhash != self.blockhash {
            self.sent.clear();
            self.blockhash = blockhash;
        }
        if self.sent.insert(message) {
            None
        } else {
            self.nonce += 1;
            Some(self.nonce)
        }
    }
}
