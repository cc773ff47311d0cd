//! `Chain` over JSON-RPC with the nonblocking `solana-rpc-client`, driven by an owned runtime.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcError;
use solana_sdk::instruction::InstructionError;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

use crate::chain::{required_signers, Chain, ChainClock, ChainError};

const CLOCK_SYSVAR: Pubkey = Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");

pub struct RpcChain {
    runtime: tokio::runtime::Runtime,
    client: RpcClient,
    payer: Keypair,
}

impl RpcChain {
    /// `processed` commitment: keepers act on the freshest state (a local validator's finalized
    /// slot lags by ~15 s at start).
    pub fn new(url: &str, payer: Keypair) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let client = RpcClient::new_with_commitment(url.to_string(), CommitmentConfig::processed());
        Self { runtime, client, payer }
    }
}

fn map_client_error(err: solana_rpc_client_api::client_error::Error) -> ChainError {
    let custom = |e: &TransactionError| match e {
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => Some((*index, *code)),
        _ => None,
    };
    match err.kind() {
        ErrorKind::TransactionError(e) => match custom(e) {
            Some((index, code)) => ChainError::Program { index, code },
            None => ChainError::Transaction(e.to_string()),
        },
        ErrorKind::RpcError(RpcError::RpcResponseError { data, message, .. }) => {
            if let solana_rpc_client_api::request::RpcResponseErrorData::SendTransactionPreflightFailure(sim) = data {
                if let Some((index, code)) = sim.err.as_ref().and_then(|e| custom(&e.clone().into())) {
                    return ChainError::Program { index, code };
                }
            }
            ChainError::Transaction(message.clone())
        }
        _ => ChainError::Transport(err.to_string()),
    }
}

impl Chain for RpcChain {
    fn clock(&mut self) -> Result<ChainClock, ChainError> {
        let data = self.runtime.block_on(self.client.get_account_data(&CLOCK_SYSVAR)).map_err(map_client_error)?;
        // Clock sysvar layout: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        let word = |i: usize| u64::from_le_bytes(data[i * 8..i * 8 + 8].try_into().unwrap());
        Ok(ChainClock { slot: word(0), unix_timestamp: word(4) as i64 })
    }

    fn account(&mut self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        let response = self
            .runtime
            .block_on(self.client.get_account_with_commitment(key, CommitmentConfig::processed()))
            .map_err(map_client_error)?;
        Ok(response.value.map(|a| a.data))
    }

    fn program_accounts(&mut self, discriminator: &[u8]) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, discriminator))]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::processed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .runtime
            .block_on(self.client.get_program_ui_accounts_with_config(&margin_engine::ID, config))
            .map_err(map_client_error)?;
        Ok(accounts.into_iter().filter_map(|(key, ui)| ui.data.decode().map(|data| (key, data))).collect())
    }

    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), ChainError> {
        let blockhash = self.runtime.block_on(self.client.get_latest_blockhash()).map_err(map_client_error)?;
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(required_signers(ixs, signers).into_iter().filter(|k| k.pubkey() != self.payer.pubkey()));
        let tx = Transaction::new_signed_with_payer(ixs, Some(&self.payer.pubkey()), &all, blockhash);
        self.runtime.block_on(self.client.send_and_confirm_transaction(&tx)).map_err(map_client_error)?;
        Ok(())
    }

    fn payer(&self) -> Pubkey {
        self.payer.pubkey()
    }
}
