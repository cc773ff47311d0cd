use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::controller::bankruptcy::{clear_bankrupt, loss_market};
use crate::controller::insurance::{
    available_for, closing_fees, record_draw, resolve_bounty, trip_drawdown_if_exceeded,
};
use crate::controller::market::accept_price;
use crate::controller::position::adjust_collateral;
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::BankruptcyResolved;
use crate::health::{account_health, PriceCache};
use crate::instructions::gates;
use crate::math::fixed::u128_to_u64;
use crate::oracle::OracleAction;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{margin_account_flags, Exchange, MarginAccount, Market};

/// Permissionless, first rung of the waterfall after the liquidator: the insurance fund pays a
/// bankrupt account's deficit plus the liquidator fees of closing what it holds (so liquidators
/// are paid to finish the job), within `market`'s per-period cap, where `market` must be the one
/// the loss is attributed to (`controller::bankruptcy::loss_market`). The caller earns a bounty
/// of a tenth of the deficit, at most $1.
/// Fully covered: the account leaves BANKRUPT and is liquidated normally. Partly covered: it stays
/// bankrupt with a smaller deficit, for ADL. Remaining accounts: market groups of every other
/// market the target holds.
#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    pub keeper: Signer<'info>,
    #[account(mut, constraint = keeper_account.load()?.owner == keeper.key() @ ErrorCode::NotAccountOwner)]
    pub keeper_account: AccountLoader<'info, MarginAccount>,
    #[account(mut)]
    pub target: AccountLoader<'info, MarginAccount>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ ErrorCode::WrongVault)]
    pub collateral_vault: Account<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: Account<'info, TokenAccount>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    require_keys_neq!(accounts.target.key(), accounts.keeper_account.key(), ErrorCode::CannotLiquidateSelf);
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.require_open(gates::RESOLVE_BANKRUPTCY)?;
    let mut market = accounts.market.load_mut()?;
    let mut target = accounts.target.load_mut()?;
    require!(target.has_flag(margin_account_flags::BANKRUPT), ErrorCode::NotBankrupt);

    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Liquidate)?;
    // Every breaker state: resolving a bankruptcy only removes risk.
    let own = Some((&*market, &accounts.market.key(), &accepted));
    let mut prices = PriceCache::new();
    prices.load(own, ctx.remaining_accounts, &clock, OracleAction::Liquidate)?;
    let health = account_health(&target, &prices)?;
    let market_index = market.market_index;
    if health.equity() >= 0 {
        // Prices recovered: nothing to pay.
        clear_bankrupt(&mut target, &mut exchange);
        emit!(BankruptcyResolved {
            target: accounts.target.key(),
            market_index,
            deficit: 0,
            covered: 0,
            bounty: 0,
            fully_covered: true
        });
        return Ok(());
    }
    // The fund pays against the cap of the market the loss came from, never another one.
    target.loss_market_index = loss_market(&target, &prices)?;
    require!(target.loss_market_index == market_index, ErrorCode::NotLossMarket);
    let deficit = u128_to_u64(health.equity().unsigned_abs())?;
    let need = deficit.safe_add(closing_fees(&target, &prices)?)?;
    let available = available_for(&mut market, accounts.insurance_vault.amount, clock.slot);
    // The bounty is a share of the deficit (at most $1), so dust bankruptcies cannot be farmed.
    let bounty = resolve_bounty(deficit)?;
    require!(available > bounty, ErrorCode::InsuranceCannotCover);
    let covered = need.min(available - bounty);
    let total = covered + bounty;
    record_draw(&mut market, total, covered.min(deficit))?;
    trip_drawdown_if_exceeded(&mut market);
    market.last_bad_debt_slot = clock.slot;
    adjust_collateral(&mut target, &mut exchange, covered.safe_i64()?)?;
    let fully_covered = covered == need;
    if fully_covered {
        clear_bankrupt(&mut target, &mut exchange);
    }
    let bump = exchange.bump;
    drop(target);
    {
        let mut keeper = accounts.keeper_account.load_mut()?;
        adjust_collateral(&mut keeper, &mut exchange, bounty.safe_i64()?)?;
    }
    drop((exchange, market));
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        accounts.insurance_vault.to_account_info(),
        accounts.collateral_vault.to_account_info(),
        accounts.exchange.to_account_info(),
        bump,
        total,
    )?;
    emit!(BankruptcyResolved { target: accounts.target.key(), market_index, deficit, covered, bounty, fully_covered });
    Ok(())
}
