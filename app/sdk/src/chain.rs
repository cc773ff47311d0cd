//! `Chain`: what a client needs from a cluster: the clock, accounts (one, or all of a kind), and
//! sending instructions. Two implementations: JSON-RPC (`rpc::RpcChain`, feature `rpc`) and the
//! in-process test bank (in `margin-engine-tests`). Synchronous on purpose: bots poll, act, sleep.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_sdk::signature::Keypair;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainClock {
    pub slot: u64,
    pub unix_timestamp: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// A program returned `Custom(code)` from instruction `index`.
    Program { index: u8, code: u32 },
    /// The transaction failed for another reason (signature, account, runtime).
    Transaction(String),
    /// The cluster could not be reached or answered garbage: worth a retry with backoff.
    Transport(String),
}

impl ChainError {
    /// Is this the program's error `code`?
    pub fn is(&self, code: margin_engine::error::ErrorCode) -> bool {
        matches!(self, ChainError::Program { code: c, .. } if *c == anchor_lang::error::ERROR_CODE_OFFSET + code as u32)
    }

    pub fn is_transport(&self) -> bool {
        matches!(self, ChainError::Transport(_))
    }
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::Program { index, code } => write!(f, "instruction {index} failed with program error {code}"),
            ChainError::Transaction(e) => write!(f, "transaction failed: {e}"),
            ChainError::Transport(e) => write!(f, "transport: {e}"),
        }
    }
}

impl std::error::Error for ChainError {}

/// The keypairs among `signers` that some instruction actually needs (a transaction signed by an
/// unneeded key is rejected), so callers may pass their signer unconditionally.
pub fn required_signers<'a>(ixs: &[Instruction], signers: &[&'a Keypair]) -> Vec<&'a Keypair> {
    use solana_sdk::signature::Signer;
    signers
        .iter()
        .copied()
        .filter(|k| ixs.iter().any(|ix| ix.accounts.iter().any(|m| m.is_signer && m.pubkey == k.pubkey())))
        .collect()
}

pub trait Chain {
    fn clock(&mut self) -> Result<ChainClock, ChainError>;
    fn account(&mut self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError>;
    /// Every account of the program whose data starts with `discriminator`.
    fn program_accounts(&mut self, discriminator: &[u8]) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError>;
    /// Signs with the chain's fee payer plus `signers`; atomic.
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), ChainError>;
    fn payer(&self) -> Pubkey;
}
