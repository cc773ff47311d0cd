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

/// The body of a solana-program-test backend, written once and expanded in each crate that has
/// one: natively here (program-test 3.1.12, solana 3.x types) and for the .so in
/// `tests/sbf-runner` (program-test 4.2.2, solana 4.x types). The two type lines cannot meet in
/// one crate, so the code is shared as text: every name below resolves at the expansion site,
/// which must have in scope `Account`, `AccountMeta`, `AccountSharedData`, `BanksClientError`,
/// `Clock`, `ComputeBudgetInstruction`, `Instruction`, `InstructionError`, `Keypair`, `Pubkey`,
/// `Signer`, `Transaction` and `TransactionError`. The backend type needs fields `runtime`,
/// `context` (a `ProgramTestContext`) and `repeats` (a `RepeatGuard`), and a method
/// `record(&mut self, compute_units: Option<u64>, logs: &[String], outcome: &mut Result<(), TxError>)`
/// that returns the compute units it reports (and may restate the outcome as the real runtime
/// would report it).
#[macro_export]
macro_rules! program_test_backend {
    ($backend:ty) => {
        /// A raw instruction as this crate's `Instruction`.
        pub fn to_instruction(ix: &$crate::RawInstruction) -> Instruction {
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

        pub fn keypair(raw: &$crate::RawKeypair) -> Keypair {
            Keypair::try_from(&raw.0[..]).expect("valid keypair bytes")
        }

        fn map_tx_error(err: TransactionError) -> $crate::TxError {
            match err {
                TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
                    $crate::TxError::Custom { index, code }
                }
                other => $crate::TxError::Other(format!("{other:?}")),
            }
        }

        fn map_error(err: BanksClientError) -> $crate::TxError {
            match err {
                BanksClientError::TransactionError(e) | BanksClientError::SimulationError { err: e, .. } => {
                    map_tx_error(e)
                }
                other => $crate::TxError::Other(format!("{other:?}")),
            }
        }

        impl $backend {
            fn send_once(
                &mut self,
                mut instructions: Vec<Instruction>,
                kps: &[Keypair],
            ) -> Result<$crate::TxOutcome, $crate::TxError> {
                let payer = &kps[0];
                let blockhash = self.context.last_blockhash;
                let message = Transaction::new_with_payer(&instructions, Some(&payer.pubkey())).message_data();
                if let Some(price) = self.repeats.price_for(blockhash.to_bytes(), message) {
                    instructions.push(ComputeBudgetInstruction::set_compute_unit_price(price));
                }
                let signers: Vec<&Keypair> = kps.iter().collect();
                let tx = Transaction::new_signed_with_payer(&instructions, Some(&payer.pubkey()), &signers, blockhash);
                let result =
                    match self.runtime.block_on(self.context.banks_client.process_transaction_with_metadata(tx)) {
                        Ok(r) => r,
                        Err(e) => {
                            let mut outcome = Err(map_error(e));
                            self.record(None, &[], &mut outcome);
                            return outcome.map(|()| $crate::TxOutcome::default());
                        }
                    };
                let (logs, compute_units) = match &result.metadata {
                    Some(meta) => (meta.log_messages.clone(), Some(meta.compute_units_consumed)),
                    None => (vec![], None),
                };
                let mut outcome = result.result.map_err(map_tx_error);
                let compute_units = self.record(compute_units, &logs, &mut outcome);
                outcome.map(|()| $crate::TxOutcome { logs, compute_units })
            }
        }

        impl $crate::Backend for $backend {
            fn send(
                &mut self,
                ixs: &[$crate::RawInstruction],
                payer: &$crate::RawKeypair,
                signers: &[&$crate::RawKeypair],
            ) -> Result<$crate::TxOutcome, $crate::TxError> {
                let mut kps: Vec<Keypair> = vec![keypair(payer)];
                kps.extend(signers.iter().map(|s| keypair(s)));
                let instructions: Vec<Instruction> = ixs.iter().map(to_instruction).collect();
                match self.send_once(instructions.clone(), &kps) {
                    // The bank keeps a bounded queue of recent blockhashes: a long test can
                    // outlive the one it started with. Take the newest and send again.
                    Err($crate::TxError::Other(e)) if e.contains("BlockhashNotFound") => {
                        self.runtime.block_on(self.context.get_new_latest_blockhash()).expect("new blockhash");
                        self.send_once(instructions, &kps)
                    }
                    other => other,
                }
            }

            fn account(&mut self, key: &$crate::Key) -> Option<$crate::RawAccount> {
                let account = self
                    .runtime
                    .block_on(self.context.banks_client.get_account(Pubkey::new_from_array(*key)))
                    .unwrap()?;
                Some($crate::RawAccount {
                    lamports: account.lamports,
                    data: account.data,
                    owner: account.owner.to_bytes(),
                    executable: account.executable,
                })
            }

            fn set_account(&mut self, key: &$crate::Key, account: $crate::RawAccount) {
                let shared = AccountSharedData::from(Account {
                    lamports: account.lamports,
                    data: account.data,
                    owner: Pubkey::new_from_array(account.owner),
                    executable: account.executable,
                    rent_epoch: u64::MAX,
                });
                self.context.set_account(&Pubkey::new_from_array(*key), &shared);
            }

            fn clock(&mut self) -> $crate::RawClock {
                let clock: Clock = self.runtime.block_on(self.context.banks_client.get_sysvar()).unwrap();
                $crate::RawClock { slot: clock.slot, unix_timestamp: clock.unix_timestamp }
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

            fn payer(&self) -> $crate::RawKeypair {
                $crate::RawKeypair(self.context.payer.to_bytes())
            }
        }
    };
}
