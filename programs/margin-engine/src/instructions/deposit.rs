use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, Transfer};

use crate::constants::*;
use crate::controller::vault::is_token_account_of;
use crate::error::ErrorCode;
use crate::events::CollateralDeposited;
use crate::instructions::gates;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{Exchange, MarginAccount};

/// Anyone may top up any margin account (it can only make the account safer); the tokens must
/// come from the signer's own token account.
#[derive(Accounts)]
pub struct Deposit<'info> {
    pub depositor: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// CHECK: the exchange's own vault PDA, by address; a transfer endpoint only, so not
    /// unpacked (1,500 CU): the token program checks it in the transfer.
    #[account(mut, address = exchange.load()?.collateral_vault @ ErrorCode::WrongVault)]
    pub collateral_vault: UncheckedAccount<'info>,
    /// A token account of the collateral mint owned by the signer, read from its bytes by
    /// `controller::vault::is_token_account_of` (owner program, layout, mint, owner).
    /// CHECK: as above.
    #[account(
        mut,
        constraint = is_token_account_of(&source, &exchange.load()?.collateral_mint, Some(&depositor.key()))?
            @ ErrorCode::WrongCollateralMint,
    )]
    pub source: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
    require!(amount > 0, ErrorCode::ZeroAmount);
    let delta = amount.safe_i64()?;
    {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        exchange.require_open(gates::DEPOSIT)?;
        exchange.total_collateral = exchange.total_collateral.safe_add(delta)?;
    }
    let collateral_after = {
        let mut account = ctx.accounts.margin_account.load_mut()?;
        account.collateral = account.collateral.safe_add(delta)?;
        account.last_active_slot = Clock::get()?.slot;
        account.collateral
    };
    token::transfer(
        CpiContext::new(
            ctx.accounts.token_program.key(),
            Transfer {
                from: ctx.accounts.source.to_account_info(),
                to: ctx.accounts.collateral_vault.to_account_info(),
                authority: ctx.accounts.depositor.to_account_info(),
            },
        ),
        amount,
    )?;
    emit!(CollateralDeposited {
        margin_account: ctx.accounts.margin_account.key(),
        depositor: ctx.accounts.depositor.key(),
        amount,
        collateral_after,
    });
    Ok(())
}
