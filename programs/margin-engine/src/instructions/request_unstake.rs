use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::UnstakeRequested;
use crate::math::insurance::value_of_shares;
use crate::state::{Exchange, InsuranceStake};

/// Starts the cooldown. The value is frozen now: at withdrawal the staker gets the lesser of this
/// and the then-current value, so nobody can run ahead of a loss the fund is about to take.
#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ ErrorCode::NotAccountOwner)]
    pub stake: AccountLoader<'info, InsuranceStake>,
    #[account(address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: Account<'info, TokenAccount>,
}

pub fn handle_request_unstake(ctx: Context<RequestUnstake>, shares: u64) -> Result<()> {
    require!(shares > 0, ErrorCode::ZeroAmount);
    let exchange = ctx.accounts.exchange.load()?;
    let mut stake = ctx.accounts.stake.load_mut()?;
    require!(stake.unstake_shares == 0, ErrorCode::UnstakeAlreadyRequested);
    require!(shares <= stake.shares, ErrorCode::InsufficientShares);
    let value = value_of_shares(shares, exchange.insurance_total_shares, ctx.accounts.insurance_vault.amount)?;
    let slot = Clock::get()?.slot;
    stake.unstake_shares = shares;
    stake.unstake_value = value;
    stake.unstake_request_slot = slot;
    emit!(UnstakeRequested { owner: stake.owner, shares, value, slot });
    Ok(())
}
