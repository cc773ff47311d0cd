use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::controller::insurance::{available_for, exceeds_drawdown, record_draw};
use crate::controller::market::on_price;
use crate::controller::position::adjust_collateral;
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::BankruptcyResolved;
use crate::events::InsuranceDrawdownTripped;
use crate::health::{account_health, position_risk, MarketSnapshot, PriceCache};
use crate::math::breaker::HALTED;
use crate::math::fixed::{mul_div_u128, u128_to_u64, Rounding};
use crate::math::margin::notional_up;
use crate::oracle::{self, OracleAction};
use crate::state::{margin_account_flags, market_status, Exchange, MarginAccount, Market};

/// Permissionless, first rung of the waterfall after the liquidator: the insurance fund pays a
/// bankrupt account's deficit plus the liquidator fees of closing what it holds (so liquidators
/// are paid to finish the job), within `market`'s per-period cap. The caller earns a bounty.
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
    let mut market = accounts.market.load_mut()?;
    let mut target = accounts.target.load_mut()?;
    require!(target.has_flag(margin_account_flags::BANKRUPT), ErrorCode::NotBankrupt);

    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = oracle::read_price(&market, &accounts.oracle, fallback, &clock, OracleAction::Liquidate)?;
    on_price(&mut market, &accepted, clock.slot)?;
    let mut prices = PriceCache::new();
    prices.insert(MarketSnapshot::at(&market, &accepted, clock.slot))?;
    prices.load_remaining(ctx.remaining_accounts, &clock, OracleAction::Liquidate, Some(&accounts.market.key()))?;
    let health = account_health(&target, &prices)?;
    let market_index = market.market_index;
    require!(prices.get(market_index).is_some_and(|s| s.mode != HALTED), ErrorCode::MarketHalted);
    if health.equity() >= 0 {
        // Prices recovered: nothing to pay.
        target.flags &= !margin_account_flags::BANKRUPT;
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
    let deficit = u128_to_u64(health.equity().unsigned_abs())?;
    let mut closing_fees: u64 = 0;
    for position in target.active_positions() {
        let snapshot = prices.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        let risk = position_risk(position, snapshot)?;
        let notional = notional_up(risk.base_amount, risk.price)?;
        let fee = mul_div_u128(notional, snapshot.liquidation_fee as u128, RATIO_PRECISION as u128, Rounding::Up)?;
        closing_fees = closing_fees.checked_add(u128_to_u64(fee)?).ok_or(ErrorCode::MathOverflow)?;
    }
    let need = deficit.checked_add(closing_fees).ok_or(ErrorCode::MathOverflow)?;
    let available = available_for(&mut market, accounts.insurance_vault.amount, clock.slot);
    require!(available > RESOLVE_BANKRUPTCY_BOUNTY, ErrorCode::InsuranceCannotCover);
    let covered = need.min(available - RESOLVE_BANKRUPTCY_BOUNTY);
    let total = covered + RESOLVE_BANKRUPTCY_BOUNTY;
    record_draw(&mut market, total)?;
    market.insurance_paid_total = market.insurance_paid_total.checked_add(total).ok_or(ErrorCode::MathOverflow)?;
    market.insurance_deficit_total =
        market.insurance_deficit_total.checked_add(covered.min(deficit)).ok_or(ErrorCode::MathOverflow)?;
    // Insurance drawdown breaker: paying out more than its share of the fund this period sets the
    // market reduce-only until the period ends.
    if exceeds_drawdown(&market) && market.status & market_status::INSURANCE_DRAWDOWN == 0 {
        market.status |= market_status::INSURANCE_DRAWDOWN;
        emit!(InsuranceDrawdownTripped {
            market_index,
            drawn_in_period: market.insurance_drawn_in_period,
            fund_at_period_start: market.insurance_fund_at_period_start,
        });
    }
    market.last_bad_debt_slot = clock.slot;
    adjust_collateral(&mut target, &mut exchange, covered as i64)?;
    let fully_covered = covered == need;
    if fully_covered {
        target.flags &= !margin_account_flags::BANKRUPT;
    }
    let bump = exchange.bump;
    drop(target);
    {
        let mut keeper = accounts.keeper_account.load_mut()?;
        adjust_collateral(&mut keeper, &mut exchange, RESOLVE_BANKRUPTCY_BOUNTY as i64)?;
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
    emit!(BankruptcyResolved {
        target: accounts.target.key(),
        market_index,
        deficit,
        covered,
        bounty: RESOLVE_BANKRUPTCY_BOUNTY,
        fully_covered,
    });
    Ok(())
}
