use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::events::ExchangeInitialized;
use crate::state::Exchange;

#[derive(Accounts)]
pub struct InitializeExchange<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
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

pub fn handle_initialize_exchange(ctx: Context<InitializeExchange>, guardian: Pubkey) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_init()?;
    exchange.authority = ctx.accounts.authority.key();
    exchange.guardian = guardian;
    exchange.collateral_mint = ctx.accounts.collateral_mint.key();
    exchange.collateral_vault = ctx.accounts.collateral_vault.key();
    exchange.insurance_vault = ctx.accounts.insurance_vault.key();
    exchange.collateral_decimals = ctx.accounts.collateral_mint.decimals;
    exchange.bump = ctx.bumps.exchange;
    exchange.collateral_vault_bump = ctx.bumps.collateral_vault;
    exchange.insurance_vault_bump = ctx.bumps.insurance_vault;
    emit!(ExchangeInitialized {
        authority: exchange.authority,
        guardian,
        collateral_mint: exchange.collateral_mint,
    });
    Ok(())
}
