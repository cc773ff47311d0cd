use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::controller::vault::{is_token_account_of, transfer_from_vault};
use crate::error::ErrorCode;
use crate::events::ProtocolRevenueWithdrawn;
use crate::instructions::gates;
use crate::math::insurance::{shares_to_burn, value_of_shares};
use crate::state::Exchange;

/// Governance takes protocol-owned insurance revenue, never stakers' money and never below the
/// fund's floor.
#[derive(Accounts)]
pub struct WithdrawProtocolRevenue<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS, has_one = authority @ ErrorCode::NotGovernance)]
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

pub fn handle_withdraw_protocol_revenue(ctx: Context<WithdrawProtocolRevenue>, amount: u64) -> Result<()> {
    require!(amount > 0, ErrorCode::ZeroAmount);
    let balance = ctx.accounts.insurance_vault.amount;
    let bump = {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        exchange.require_open(gates::WITHDRAW_PROTOCOL_REVENUE)?;
        require!(exchange.bankrupt_accounts == 0, ErrorCode::InsuranceLossPending);
        require!(
            balance.saturating_sub(amount) >= exchange.insurance_revenue_floor && amount <= balance,
            ErrorCode::InsuranceRevenueFloor
        );
        if exchange.insurance_total_shares > 0 {
            let protocol_value =
                value_of_shares(exchange.insurance_protocol_shares, exchange.insurance_total_shares, balance)?;
            require!(amount <= protocol_value, ErrorCode::InsuranceRevenueFloor);
            let burn = shares_to_burn(amount, exchange.insurance_total_shares, balance)?
                .min(exchange.insurance_protocol_shares);
            exchange.insurance_protocol_shares -= burn;
            exchange.insurance_total_shares -= burn;
        }
        exchange.bump
    };
    transfer_from_vault(
        &ctx.accounts.token_program.to_account_info(),
        ctx.accounts.insurance_vault.to_account_info(),
        ctx.accounts.destination.to_account_info(),
        ctx.accounts.exchange.to_account_info(),
        bump,
        amount,
    )?;
    emit!(ProtocolRevenueWithdrawn { amount, fund_after: balance - amount });
    Ok(())
}
