//! Typed instruction builders. Every PDA and vault is derived here, so callers pass only what is
//! genuinely theirs to choose (signers, their token accounts, amounts).
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use margin_engine::state::{MarginAccount, OracleConfig, RiskParams};
use margin_engine::{accounts as acc, instruction as data, ID};

use crate::pda;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData, remaining: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction { program_id: ID, accounts: metas, data: data.data() }
}

pub fn initialize_exchange(payer: Pubkey, authority: Pubkey, collateral_mint: Pubkey, guardian: Pubkey) -> Instruction {
    build(
        acc::InitializeExchange {
            payer,
            authority,
            exchange: pda::exchange(),
            collateral_mint,
            collateral_vault: pda::collateral_vault(),
            insurance_vault: pda::insurance_vault(),
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        data::InitializeExchange { guardian },
        vec![],
    )
}

pub fn create_market(
    payer: Pubkey,
    authority: Pubkey,
    market_index: u16,
    name: [u8; 16],
    oracle: OracleConfig,
    risk: RiskParams,
) -> Instruction {
    build(
        acc::CreateMarket {
            payer,
            authority,
            exchange: pda::exchange(),
            market: pda::market(market_index),
            system_program: system_program::ID,
        },
        data::CreateMarket { name, oracle, risk },
        vec![],
    )
}

pub fn create_margin_account(payer: Pubkey, owner: Pubkey, sub_account_id: u16) -> Instruction {
    build(
        acc::CreateMarginAccount {
            payer,
            owner,
            exchange: pda::exchange(),
            margin_account: pda::margin_account(&owner, sub_account_id),
            system_program: system_program::ID,
        },
        data::CreateMarginAccount { sub_account_id },
        vec![],
    )
}

pub fn set_delegate(owner: Pubkey, margin_account: Pubkey, delegate: Pubkey) -> Instruction {
    build(acc::SetDelegate { owner, margin_account }, data::SetDelegate { delegate }, vec![])
}

pub fn deposit(depositor: Pubkey, margin_account: Pubkey, source: Pubkey, amount: u64) -> Instruction {
    build(
        acc::Deposit {
            depositor,
            exchange: pda::exchange(),
            margin_account,
            collateral_vault: pda::collateral_vault(),
            source,
            token_program: spl_token::ID,
        },
        data::Deposit { amount },
        vec![],
    )
}

/// `health_accounts`: see [`health_accounts`].
pub fn withdraw(
    owner: Pubkey,
    margin_account: Pubkey,
    destination: Pubkey,
    amount: u64,
    health_accounts: Vec<AccountMeta>,
) -> Instruction {
    build(
        acc::Withdraw {
            owner,
            exchange: pda::exchange(),
            margin_account,
            collateral_vault: pda::collateral_vault(),
            destination,
            token_program: spl_token::ID,
        },
        data::Withdraw { amount },
        health_accounts,
    )
}

pub fn close_margin_account(owner: Pubkey, margin_account: Pubkey) -> Instruction {
    build(acc::CloseMarginAccount { owner, margin_account }, data::CloseMarginAccount {}, vec![])
}

/// Oracle accounts of one market, as the client knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketOracles {
    pub pyth: Pubkey,
    pub switchboard: Option<Pubkey>,
}

/// Remaining accounts for a health check, in the order the program reads them: for each open
/// position in slot order, its market, Pyth update, and Switchboard feed when the market has one.
pub fn health_accounts(account: &MarginAccount, oracles: impl Fn(u16) -> MarketOracles) -> Vec<AccountMeta> {
    let mut metas = Vec::new();
    for position in account.active_positions() {
        let o = oracles(position.market_index);
        metas.push(AccountMeta::new_readonly(pda::market(position.market_index), false));
        metas.push(AccountMeta::new_readonly(o.pyth, false));
        if let Some(sb) = o.switchboard {
            metas.push(AccountMeta::new_readonly(sb, false));
        }
    }
    metas
}
