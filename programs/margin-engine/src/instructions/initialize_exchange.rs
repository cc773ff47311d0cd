use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::ExchangeInitialized;
use crate::state::Exchange;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeConfig {
    /// Can only make things safer: close instruction groups, set markets reduce-only.
    pub guardian: Pubkey,
    /// Slots between an insurance unstake request and the withdrawal.
    pub insurance_unstake_cooldown_slots: u64,
    /// Governance may take protocol revenue only while the fund stays above this.
    pub insurance_revenue_floor: u64,
    /// Slots a loosening risk change waits before it can execute.
    pub risk_timelock_slots: u64,
}

/// Only the program's upgrade authority can initialise the exchange (first-caller-wins would let
/// anyone who front-runs the deployer install their own governance). The payer must be it.
#[derive(Accounts)]
pub struct InitializeExchange<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The program's ProgramData (upgradeable loader): its upgrade authority must be the payer.
    #[account(
        seeds = [crate::ID.as_ref()], bump, seeds::program = bpf_loader_upgradeable::ID,
        constraint = program_data.upgrade_authority_address == Some(payer.key()) @ ErrorCode::NotUpgradeAuthority,
    )]
    pub program_data: Account<'info, ProgramData>,
    /// Becomes governance. Must sign, so a mistyped key can never be installed.
    pub authority: Signer<'info>,
    #[account(init, payer = payer, space = Exchange::SPACE, seeds = [EXCHANGE_SEED], bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Classic SPL Token mint (the `Account<Mint>` owner check rejects anything else).
    pub collateral_mint: Account<'info, Mint>,
    #[account(
        init, payer = payer, seeds = [COLLATERAL_VAULT_SEED], bump,
        token::mint = collateral_mint, token::authority = exchange, token::token_program = token_program,
    )]
    pub collateral_vault: Account<'info, TokenAccount>,
    #[account(
        init, payer = payer, seeds = [INSURANCE_VAULT_SEED], bump,
        token::mint = collateral_mint, token::authority = exchange, token::token_program = token_program,
    )]
    pub insurance_vault: Account<'info, TokenAccount>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handle_initialize_exchange(ctx: Context<InitializeExchange>, config: ExchangeConfig) -> Result<()> {
    require!(
        config.insurance_unstake_cooldown_slots > 0
            && config.risk_timelock_slots > 0
            && config.risk_timelock_slots <= MAX_RISK_TIMELOCK_SLOTS,
        ErrorCode::MarketParamOutOfBounds
    );
    let guardian = config.guardian;
    let mut exchange = ctx.accounts.exchange.load_init()?;
    exchange.insurance_unstake_cooldown_slots = config.insurance_unstake_cooldown_slots;
    exchange.insurance_revenue_floor = config.insurance_revenue_floor;
    exchange.risk_timelock_slots = config.risk_timelock_slots;
    exchange.authority = ctx.accounts.authority.key();
    exchange.guardian = guardian;
    exchange.collateral_mint = ctx.accounts.collateral_mint.key();
    exchange.collateral_vault = ctx.accounts.collateral_vault.key();
    exchange.insurance_vault = ctx.accounts.insurance_vault.key();
    exchange.collateral_decimals = ctx.accounts.collateral_mint.decimals;
    exchange.bump = ctx.bumps.exchange;
    exchange.collateral_vault_bump = ctx.bumps.collateral_vault;
    exchange.insurance_vault_bump = ctx.bumps.insurance_vault;
    emit!(ExchangeInitialized { authority: exchange.authority, guardian, collateral_mint: exchange.collateral_mint });
    Ok(())
}
