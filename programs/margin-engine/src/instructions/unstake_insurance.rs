use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::controller::vault::{is_token_account_of, transfer_from_vault};
use crate::error::ErrorCode;
use crate::events::Unstaked;
use crate::instructions::gates;
use crate::instructions::request_unstake::request_expired;
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
    /// A token account of the collateral mint, read from its bytes by
    /// `controller::vault::is_token_account_of` (owner program, layout, mint).
    /// Neither the fund's own vault (Anchor refuses a duplicated mutable `Account`, and this one
    /// is unchecked, so the refusal is written out) nor the collateral vault, where the tokens
    /// would sit unaccounted.
    /// CHECK: as above.
    #[account(
        mut,
        constraint = is_token_account_of(&destination, &exchange.load()?.collateral_mint, None)? @ ErrorCode::WrongCollateralMint,
        constraint = destination.key() != insurance_vault.key() @ anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount,
        constraint = destination.key() != exchange.load()?.collateral_vault @ anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount,
    )]
    pub destination: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_unstake_insurance(ctx: Context<UnstakeInsurance>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let balance = ctx.accounts.insurance_vault.amount;
    let (amount, shares, bump) = {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        exchange.require_open(gates::UNSTAKE_INSURANCE)?;
        let mut stake = ctx.accounts.stake.load_mut()?;
        require!(stake.unstake_shares > 0, ErrorCode::NoUnstakeRequest);
        let cooldown = exchange.insurance_unstake_cooldown_slots;
        require!(slot >= stake.unstake_request_slot.saturating_add(cooldown), ErrorCode::UnstakeCooldown);
        require!(!request_expired(stake.unstake_request_slot, cooldown, slot), ErrorCode::UnstakeRequestExpired);
        // A bankrupt account is a loss the fund may be about to pay: nobody leaves ahead of it.
        require!(exchange.bankrupt_accounts == 0, ErrorCode::InsuranceLossPending);
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
