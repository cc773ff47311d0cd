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
pub mod safe_math;
pub mod state;

pub use instructions::*;
use state::{OracleConfig, RiskParams};

declare_id!("MeZJ6Hft6cGFwoGzrTSfXzTNhQvLJTvTbmY8AATWPSF");

#[program]
pub mod margin_engine {
    use super::*;

    pub fn initialize_exchange(ctx: Context<InitializeExchange>, config: ExchangeConfig) -> Result<()> {
        instructions::initialize_exchange::handle_initialize_exchange(ctx, config)
    }

    pub fn create_market(
        ctx: Context<CreateMarket>,
        market_index: u16,
        name: [u8; 16],
        oracle: OracleConfig,
        risk: RiskParams,
    ) -> Result<()> {
        instructions::create_market::handle_create_market(ctx, market_index, name, oracle, risk)
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

    pub fn place_and_take<'info>(ctx: Context<'info, PlaceAndTake<'info>>, args: PlaceAndTakeArgs) -> Result<()> {
        instructions::place_and_take::handle_place_and_take(ctx, args)
    }

    pub fn trigger_order(ctx: Context<TriggerOrder>, order_id: u64) -> Result<()> {
        instructions::trigger_order::handle_trigger_order(ctx, order_id)
    }

    pub fn liquidate<'info>(ctx: Context<'info, Liquidate<'info>>, max_base_amount: u64) -> Result<()> {
        instructions::liquidate::handle_liquidate(ctx, max_base_amount)
    }

    pub fn open_insurance_stake(ctx: Context<OpenInsuranceStake>) -> Result<()> {
        instructions::open_insurance_stake::handle_open_insurance_stake(ctx)
    }

    pub fn stake_insurance(ctx: Context<StakeInsurance>, amount: u64) -> Result<()> {
        instructions::stake_insurance::handle_stake_insurance(ctx, amount)
    }

    pub fn request_unstake(ctx: Context<RequestUnstake>, shares: u64) -> Result<()> {
        instructions::request_unstake::handle_request_unstake(ctx, shares)
    }

    pub fn unstake_insurance(ctx: Context<UnstakeInsurance>) -> Result<()> {
        instructions::unstake_insurance::handle_unstake_insurance(ctx)
    }

    pub fn withdraw_protocol_revenue(ctx: Context<WithdrawProtocolRevenue>, amount: u64) -> Result<()> {
        instructions::withdraw_protocol_revenue::handle_withdraw_protocol_revenue(ctx, amount)
    }

    pub fn resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
        instructions::resolve_bankruptcy::handle_resolve_bankruptcy(ctx)
    }

    pub fn auto_deleverage<'info>(ctx: Context<'info, AutoDeleverage<'info>>, candidate_count: u8) -> Result<()> {
        instructions::auto_deleverage::handle_auto_deleverage(ctx, candidate_count)
    }

    pub fn socialize_loss(ctx: Context<SocializeLoss>) -> Result<()> {
        instructions::socialize_loss::handle_socialize_loss(ctx)
    }

    pub fn refresh_market(ctx: Context<RefreshMarket>) -> Result<()> {
        instructions::refresh_market::handle_refresh_market(ctx)
    }

    pub fn pause_operations(ctx: Context<PauseOperations>, operations: u16) -> Result<()> {
        instructions::pause_operations::handle_pause_operations(ctx, operations)
    }

    pub fn resume_operations(ctx: Context<ResumeOperations>, operations: u16) -> Result<()> {
        instructions::resume_operations::handle_resume_operations(ctx, operations)
    }

    pub fn set_market_reduce_only(ctx: Context<SetMarketReduceOnly>, reduce_only: bool) -> Result<()> {
        instructions::set_market_reduce_only::handle_set_market_reduce_only(ctx, reduce_only)
    }

    pub fn propose_authority(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
        instructions::propose_authority::handle_propose_authority(ctx, new_authority)
    }

    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        instructions::accept_authority::handle_accept_authority(ctx)
    }

    pub fn set_guardian(ctx: Context<SetGuardian>, guardian: Pubkey) -> Result<()> {
        instructions::set_guardian::handle_set_guardian(ctx, guardian)
    }

    pub fn update_risk_params(ctx: Context<UpdateRiskParams>, params: RiskParams) -> Result<()> {
        instructions::update_risk_params::handle_update_risk_params(ctx, params)
    }

    pub fn execute_risk_update(ctx: Context<ExecuteRiskUpdate>) -> Result<()> {
        instructions::execute_risk_update::handle_execute_risk_update(ctx)
    }

    pub fn cancel_risk_update(ctx: Context<CancelRiskUpdate>) -> Result<()> {
        instructions::cancel_risk_update::handle_cancel_risk_update(ctx)
    }

    pub fn update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
        instructions::update_funding::handle_update_funding(ctx)
    }
}
