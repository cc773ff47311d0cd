//! Margin engine: cross-margined perpetual futures with a deterministic loss-mitigation waterfall.
//! `#[program]` below is one thin line per instruction; each lives in `instructions/`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod controller;
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

    pub fn place_order<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: PlaceOrderArgs) -> Result<()> {
        instructions::place_order::handle_place_order(ctx, args)
    }

    pub fn cancel_order(ctx: Context<CancelOrder>, order_id: u64) -> Result<()> {
        instructions::cancel_order::handle_cancel_order(ctx, order_id)
    }

    pub fn cancel_all_orders(ctx: Context<CancelOrder>, market_index: Option<u16>) -> Result<()> {
        instructions::cancel_all_orders::handle_cancel_all_orders(ctx, market_index)
    }

    pub fn prune_expired_orders(ctx: Context<PruneExpiredOrders>) -> Result<()> {
        instructions::prune_expired_orders::handle_prune_expired_orders(ctx)
    }

    pub fn fill_orders<'info>(
        ctx: Context<'info, FillOrders<'info>>,
        taker_order_id: u64,
        maker_order_id: u64,
        max_base_amount: u64,
    ) -> Result<()> {
        instructions::fill_orders::handle_fill_orders(ctx, taker_order_id, maker_order_id, max_base_amount)
    }

    pub fn liquidate<'info>(ctx: Context<'info, Liquidate<'info>>, max_base_amount: u64) -> Result<()> {
        instructions::liquidate::handle_liquidate(ctx, max_base_amount)
    }

    pub fn update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
        instructions::update_funding::handle_update_funding(ctx)
    }
}
