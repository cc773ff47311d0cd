//! Margin engine: cross-margined perpetual futures with a deterministic loss-mitigation waterfall.
//! `#[program]` below is one thin line per instruction; each lives in `instructions/`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod health;
pub mod instructions;
pub mod math;
pub mod oracle;
pub mod state;

pub use instructions::*;
use state::{OracleConfig, RiskParams};

declare_id!("MeZJ6Hft6cGFwoGzrTSfXzTNhQvLJTvTbmY8AATWPSF");

#[program]
pub mod margin_engine {
    use super::*;

    pub fn initialize_exchange(ctx: Context<InitializeExchange>, guardian: Pubkey) -> Result<()> {
        instructions::initialize_exchange::handle_initialize_exchange(ctx, guardian)
    }

    pub fn create_market(ctx: Context<CreateMarket>, name: [u8; 16], oracle: OracleConfig, risk: RiskParams) -> Result<()> {
        instructions::create_market::handle_create_market(ctx, name, oracle, risk)
    }

    pub fn create_margin_account(ctx: Context<CreateMarginAccount>, sub_account_id: u16) -> Result<()> {
        instructions::create_margin_account::handle_create_margin_account(ctx, sub_account_id)
    }

    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        instructions::set_delegate::handle_set_delegate(ctx, delegate)
    }

    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::deposit::handle_deposit(ctx, amount)
    }

    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
        instructions::withdraw::handle_withdraw(ctx, amount)
    }

    pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
        instructions::close_margin_account::handle_close_margin_account(ctx)
    }
}
