use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::UnstakeRequested;
use crate::instructions::gates;
use crate::math::insurance::value_of_shares;
use crate::state::{Exchange, InsuranceStake};

/// Starts the cooldown. The value is frozen now: at withdrawal the staker gets the lesser of this
/// and the then-current value, so nobody can run ahead of a loss the fund is about to take. The
/// request must be used within `INSURANCE_UNSTAKE_WINDOW_SLOTS` after the cooldown or it lapses;
/// shares staked within the last cooldown cannot be requested yet.
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
    exchange.require_open(gates::REQUEST_UNSTAKE)?;
    let mut stake = ctx.accounts.stake.load_mut()?;
    let slot = Clock::get()?.slot;
    let cooldown = exchange.insurance_unstake_cooldown_slots;
    // A pending request blocks a new one until it has expired unused.
    require!(
        stake.unstake_shares == 0 || request_expired(stake.unstake_request_slot, cooldown, slot),
        ErrorCode::UnstakeAlreadyRequested
    );
    require!(shares <= stake.shares, ErrorCode::InsufficientShares);
    require!(slot >= stake.last_stake_slot.saturating_add(cooldown), ErrorCode::StakeStillWarmingUp);
    let value = value_of_shares(shares, exchange.insurance_total_shares, ctx.accounts.insurance_vault.amount)?;
    stake.unstake_shares = shares;
    stake.unstake_value = value;
    stake.unstake_request_slot = slot;
    emit!(UnstakeRequested { owner: stake.owner, shares, value, slot });
    Ok(())
}

/// Whether a request made at `request_slot` has passed its cooldown and its withdrawal window.
pub fn request_expired(request_slot: u64, cooldown: u64, slot: u64) -> bool {
    slot >= request_slot.saturating_add(cooldown).saturating_add(INSURANCE_UNSTAKE_WINDOW_SLOTS)
}
