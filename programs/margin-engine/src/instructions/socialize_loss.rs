use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::*;
use crate::controller::bankruptcy::clear_bankrupt;
use crate::controller::insurance::require_fund_exhausted;
use crate::controller::orders::cancel_orders;
use crate::controller::position::adjust_collateral;
use crate::error::ErrorCode;
use crate::events::LossSocialized;
use crate::instructions::gates;
use crate::math::adl::socialized_loss_index_delta;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{margin_account_flags, Exchange, MarginAccount, Market};

/// Permissionless, last rung: a bankrupt account with no position left and negative collateral,
/// which the fund cannot cover, has its loss spread over the open interest of `market` (the
/// market the loss is attributed to) through the cumulative funding indexes (Drift's method):
/// longs and shorts each pay the same amount per base, settled lazily. An account with no open
/// position never absorbs any of it.
#[derive(Accounts)]
pub struct SocializeLoss<'info> {
    pub keeper: Signer<'info>,
    #[account(mut)]
    pub target: AccountLoader<'info, MarginAccount>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: Account<'info, TokenAccount>,
}

pub fn handle_socialize_loss(ctx: Context<SocializeLoss>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    exchange.require_open(gates::SOCIALIZE_LOSS)?;
    let mut market = ctx.accounts.market.load_mut()?;
    let mut target = ctx.accounts.target.load_mut()?;
    require!(target.has_flag(margin_account_flags::BANKRUPT), ErrorCode::NotBankrupt);
    // Only over the open interest of the market the loss came from.
    require!(target.loss_market_index == market.market_index, ErrorCode::NotLossMarket);
    cancel_orders(&mut target, |_| true)?;
    require!(target.is_flat(), ErrorCode::AccountStillHasPositions);
    require!(target.collateral < 0, ErrorCode::NotBankrupt);
    require_fund_exhausted(&mut market, ctx.accounts.insurance_vault.amount, slot)?;

    let loss = target.collateral.unsigned_abs();
    let loss_signed = loss.safe_i64()?;
    let delta = if market.open_interest_long == 0 && market.open_interest_short == 0 {
        // Nobody is left to share it: the protocol's fee pool absorbs what it can and the rest
        // stays on the books as the market's negative funding pool, so the account leaves the
        // waterfall (and no stake stays locked behind it) with conservation exact.
        let from_fees = loss.min(exchange.fee_pool);
        exchange.fee_pool -= from_fees;
        let unabsorbed = (loss - from_fees).safe_i64()?;
        market.funding_pool = market.funding_pool.safe_sub(unabsorbed)?;
        0
    } else {
        let delta = socialized_loss_index_delta(loss, market.open_interest_long, market.open_interest_short)?;
        market.cumulative_funding_long = market.cumulative_funding_long.safe_add(delta)?;
        market.cumulative_funding_short = market.cumulative_funding_short.safe_sub(delta)?;
        // The pool pays the loss now and is refilled as every position settles its share.
        market.funding_pool = market.funding_pool.safe_sub(loss_signed)?;
        delta
    };
    market.socialized_loss_total = market.socialized_loss_total.safe_add(loss)?;
    market.last_bad_debt_slot = slot;
    adjust_collateral(&mut target, &mut exchange, loss_signed)?;
    clear_bankrupt(&mut target, &mut exchange);
    emit!(LossSocialized {
        target: ctx.accounts.target.key(),
        market_index: market.market_index,
        loss,
        index_delta: delta
    });
    Ok(())
}
