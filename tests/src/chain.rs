//! The in-process test bank as a `margin_engine_sdk::chain::Chain`, so the SDK, the keeper and the
//! stress harness run unchanged against it. Program-test has no account index by owner, so
//! `program_accounts` scans the accounts this environment created (exchange, markets, margin
//! accounts).
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use margin_engine_sdk::chain::{required_signers, Chain, ChainClock, ChainError};
use margin_engine_sdk::pda;
use solana_sdk::signature::Keypair;

use crate::backend::{Backend, RawKeypair, TxError};
use crate::env::{raw, TestEnv};

impl<B: Backend> Chain for TestEnv<B> {
    fn clock(&mut self) -> Result<ChainClock, ChainError> {
        let c = self.backend.clock();
        Ok(ChainClock { slot: c.slot, unix_timestamp: c.unix_timestamp })
    }

    fn account(&mut self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.backend.account(&key.to_bytes()).filter(|a| a.lamports > 0).map(|a| a.data))
    }

    fn program_accounts(&mut self, discriminator: &[u8]) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        let mut keys = vec![pda::exchange()];
        keys.extend(self.markets.iter().map(|m| m.address));
        keys.extend(self.margin_accounts.iter().copied());
        let mut out = vec![];
        for key in keys {
            if let Some(account) = self.backend.account(&key.to_bytes()) {
                if account.lamports > 0
                    && account.owner == margin_engine::ID.to_bytes()
                    && account.data.starts_with(discriminator)
                {
                    out.push((key, account.data));
                }
            }
        }
        Ok(out)
    }

    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), ChainError> {
        self.note_writes(ixs);
        let raws: Vec<_> = ixs.iter().cloned().map(raw).collect();
        let signers: Vec<RawKeypair> =
            required_signers(ixs, signers).iter().map(|k| RawKeypair(k.to_bytes())).collect();
        let refs: Vec<&RawKeypair> = signers.iter().collect();
        let payer = self.payer.clone();
        self.backend.send(&raws, &payer, &refs).map(|_| ()).map_err(|e| match e {
            TxError::Custom { index, code } => ChainError::Program { index, code },
            TxError::Other(text) => ChainError::Transaction(text),
        })
    }

    fn payer(&self) -> Pubkey {
        Pubkey::new_from_array(self.payer.pubkey())
    }
}
