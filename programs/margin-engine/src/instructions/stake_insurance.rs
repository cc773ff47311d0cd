use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::constants::*;
use crate::controller::vault::is_token_account_of;
use crate::error::ErrorCode;
use crate::events::InsuranceStaked;
use crate::instructions::gates;
use crate::math::insurance::shares_for_deposit;
use crate::safe_math::SafeMath;
use crate::state::{Exchange, InsuranceStake};

/// Anyone may underwrite the insurance fund for a share of its fee revenue (and of its losses).
#[derive(Accounts)]
pub struct StakeInsurance<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ ErrorCode::NotAccountOwner)]
    pub stake: AccountLoader<'info, InsuranceStake>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: Account<'info, TokenAccount>,
    /// A token account of the collateral mint owned by the signer, read from its bytes by
    /// `controller::vault::is_token_account_of` (owner program, layout, mint, owner).
    /// CHECK: as above.
    #[account(
        mut,
        constraint = is_token_account_of(&source, &exchange.load()?.collateral_mint, Some(&owner.key()))?
            @ ErrorCode::WrongCollateralMint,
    )]
    pub source: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_stake_insurance(ctx: Context<StakeInsurance>, amount: u64) -> Result<()> {
    require!(amount > 0, ErrorCode::ZeroAmount);
    let balance = ctx.accounts.insurance_vault.amount;
    let shares = {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        // Revenue that arrived before anyone staked belongs to the protocol: give it shares first.
        if exchange.insurance_total_shares == 0 && balance > 0 {
            exchange.insurance_total_shares = balance;
            exchange.insurance_protocol_shares = balance;
        }
        let shares = shares_for_deposit(amount, exchange.insurance_total_shares, balance)?;
        require!(shares > 0, ErrorCode::ZeroAmount);
        exchange.insurance_total_shares = exchange.insurance_total_shares.safe_add(shares)?;
        exchange.require_open(gates::STAKE_INSURANCE)?;
        let mut stake = ctx.accounts.stake.load_mut()?;
        stake.shares = stake.shares.safe_add(shares)?;
        stake.last_stake_slot = Clock::get()?.slot;
        shares
    };
    token::transfer(
        CpiContext::new(
            ctx.accounts.token_program.key(),
            Transfer {
                from: ctx.accounts.source.to_account_info(),
                to: ctx.accounts.insurance_vault.to_account_info(),
                authority: ctx.accounts.owner.to_account_info(),
            },
        ),
        amount,
    )?;
    emit!(InsuranceStaked { owner: ctx.accounts.owner.key(), amount, shares });
    Ok(())
}
