//! A read cache in front of any backend: account reads are served from memory until a
//! transaction lists the account as writable (only those can change) or it is written directly.
//! Checking every invariant after every step reads dozens of accounts; through the bank each read
//! is a round trip, from here most are a map lookup.
use std::collections::HashMap;

use crate::backend::*;

pub struct Cached<B: Backend> {
    pub inner: B,
    accounts: HashMap<Key, Option<RawAccount>>,
}

impl<B: Backend> Cached<B> {
    pub fn new(inner: B) -> Self {
        Self { inner, accounts: HashMap::new() }
    }
}

impl<B: Backend> Backend for Cached<B> {
    fn send(
        &mut self,
        ixs: &[RawInstruction],
        payer: &RawKeypair,
        signers: &[&RawKeypair],
    ) -> Result<TxOutcome, TxError> {
        for meta in ixs.iter().flat_map(|ix| &ix.accounts).filter(|m| m.is_writable) {
            self.accounts.remove(&meta.pubkey);
        }
        // The fee payer is charged whatever happens.
        self.accounts.remove(&payer.pubkey());
        self.inner.send(ixs, payer, signers)
    }

    fn account(&mut self, key: &Key) -> Option<RawAccount> {
        if let Some(cached) = self.accounts.get(key) {
            return cached.clone();
        }
        let account = self.inner.account(key);
        self.accounts.insert(*key, account.clone());
        account
    }

    fn set_account(&mut self, key: &Key, account: RawAccount) {
        self.accounts.remove(key);
        self.inner.set_account(key, account);
    }

    fn clock(&mut self) -> RawClock {
        self.inner.clock()
    }

    fn warp(&mut self, slot: u64, unix_timestamp: i64) {
        self.inner.warp(slot, unix_timestamp)
    }

    fn payer(&self) -> RawKeypair {
        self.inner.payer()
    }
}
