use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::Unstaked;
use crate::math::insurance::value_of_shares;
use crate::state::{Exchange, InsuranceStake};

#[derive(Accounts)]
pub struct UnstakeInsurance<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ ErrorCode::NotAccountOwner)]
    pub stake: AccountLoader<'info, InsuranceStake>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: Account<'info, TokenAccount>,
    #[account(mut, constraint = destination.mint == exchange.load()?.collateral_mint @ ErrorCode::WrongCollateralMint)]
    pub destination: Account<'info, TokenAccount>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_unstake_insurance(ctx: Context<UnstakeInsurance>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let balance = ctx.accounts.insurance_vault.amount;
    let (amount, shares, bump) = {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        let mut stake = ctx.accounts.stake.load_mut()?;
        require!(stake.unstake_shares > 0, ErrorCode::NoUnstakeRequest);
        require!(
            slot >= stake.unstake_request_slot.saturating_add(exchange.insurance_unstake_cooldown_slots),
            ErrorCode::UnstakeCooldown
        );
        let shares = stake.unstake_shares;
        let now_value = value_of_shares(shares, exchange.insurance_total_shares, balance)?;
        let amount = now_value.min(stake.unstake_value);
        stake.shares -= shares;
        stake.unstake_shares = 0;
        stake.unstake_value = 0;
        exchange.insurance_total_shares -= shares;
        (amount, shares, exchange.bump)
    };
    transfer_from_vault(
        &ctx.accounts.token_program.to_account_info(),
        ctx.accounts.insurance_vault.to_account_info(),
        ctx.accounts.destination.to_account_info(),
        ctx.accounts.exchange.to_account_info(),
        bump,
        amount,
    )?;
    emit!(Unstaked { owner: ctx.accounts.owner.key(), shares, amount });
    Ok(())
}
