use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::*;
use crate::controller::adl::{adl_price, candidate_score};
use crate::controller::bankruptcy::{clear_bankrupt, loss_market};
use crate::controller::insurance::require_fund_exhausted;
use crate::controller::market::accept_price;
use crate::controller::position::transfer_base;
use crate::error::ErrorCode;
use crate::events::AutoDeleveraged;
use crate::health::{account_health, MarketSnapshot, PriceCache};
use crate::instructions::gates;
use crate::math::fixed::{mul_div_u128, u128_to_u64, Rounding};
use crate::oracle::OracleAction;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{margin_account_flags, Exchange, MarginAccount, Market};

/// Permissionless, second rung: when the insurance fund cannot pay, the bankrupt position in
/// `market` is closed against profitable opposite positions at the bankruptcy price (clamped to
/// the market's ADL band around the oracle), in the market the loss is attributed to. Keepers rank
/// candidates off-chain with `controller::adl::candidate_score`, the same rule the program checks:
/// opposite side, in profit at the ADL price (ADL never turns a winner into a loser), score at or
/// above the market threshold, and non-increasing along the batch.
/// Remaining accounts: `candidate_count` writable candidate margin accounts, then market groups of
/// every other market the target holds.
#[derive(Accounts)]
pub struct AutoDeleverage<'info> {
    pub keeper: Signer<'info>,
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
    #[account(address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: Account<'info, TokenAccount>,
}

pub fn handle_auto_deleverage<'info>(ctx: Context<'info, AutoDeleverage<'info>>, candidate_count: u8) -> Result<()> {
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    let count = candidate_count as usize;
    require!(count <= ctx.remaining_accounts.len(), ErrorCode::MissingMarketAccounts);
    let (candidates, groups) = ctx.remaining_accounts.split_at(count);
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.require_open(gates::AUTO_DELEVERAGE)?;
    let mut market = accounts.market.load_mut()?;
    let mut target = accounts.target.load_mut()?;
    require!(target.has_flag(margin_account_flags::BANKRUPT), ErrorCode::NotBankrupt);

    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Liquidate)?;
    let oracle_price = accepted.price;
    // Every breaker state: deleveraging a bankrupt position only removes risk.
    let own = Some((&*market, &accounts.market.key(), &accepted));
    let mut prices = PriceCache::new();
    prices.load(own, groups, &clock, OracleAction::Liquidate)?;
    let health = account_health(&target, &prices)?;
    if health.equity() >= 0 {
        clear_bankrupt(&mut target, &mut exchange);
        return Ok(());
    }
    let market_index = market.market_index;
    // Only in the market the loss is attributed to, and only once the fund can pay no more there.
    target.loss_market_index = loss_market(&target, &prices)?;
    require!(target.loss_market_index == market_index, ErrorCode::NotLossMarket);
    require_fund_exhausted(&mut market, accounts.insurance_vault.amount, clock.slot)?;
    let target_slot = target.position_index(market_index).ok_or(ErrorCode::NoPositionInMarket)?;
    let target_base = target.positions[target_slot].base_amount;
    require!(target_base != 0, ErrorCode::NoPositionInMarket);
    let adl_price = adl_price(oracle_price, target_base, health.equity(), market.risk.adl_price_band)?;
    let snapshot = *prices.get(market_index).ok_or(ErrorCode::MissingMarketAccounts)?;

    let mut remaining = target_base.unsigned_abs();
    let mut previous_score = u64::MAX;
    for info in candidates {
        if remaining == 0 {
            break;
        }
        require!(info.is_writable, ErrorCode::CandidateNotWritable);
        require_keys_neq!(*info.key, accounts.target.key(), ErrorCode::CandidateSameSide);
        let loader = AccountLoader::<MarginAccount>::try_from(info)?;
        let mut candidate = loader.load_mut()?;
        require!(!candidate.has_flag(margin_account_flags::BANKRUPT), ErrorCode::CandidateNotProfitable);
        let slot = candidate.position_index(market_index).ok_or(ErrorCode::CandidateNoPosition)?;
        let position = candidate.positions[slot];
        let score = candidate_score(
            &position,
            candidate.collateral,
            &snapshot,
            adl_price,
            target_base,
            market.risk.adl_min_score,
        )?;
        require!(score <= previous_score, ErrorCode::CandidatesOutOfOrder);
        previous_score = score;

        let take = position.base_amount.unsigned_abs().min(remaining);
        // The candidate buys a bankrupt long's base and sells to a bankrupt short.
        transfer_base(
            &mut candidate,
            slot,
            &mut target,
            target_slot,
            target_base > 0,
            &mut market,
            &mut exchange,
            take,
            adl_price,
            clock.slot,
        )?;
        remaining -= take;
        market.adl_base_total = market.adl_base_total.safe_add(take)?;
        let absorbed =
            mul_div_u128(take as u128, adl_price.abs_diff(oracle_price) as u128, BASE_PRECISION as u128, Rounding::Up)?;
        market.adl_loss_total = market.adl_loss_total.safe_add(u128_to_u64(absorbed)?)?;
        let signed = take.safe_i64()?;
        emit!(AutoDeleveraged {
            target: accounts.target.key(),
            candidate: *info.key,
            market_index,
            base_amount: target_base.signum() * signed,
            price: adl_price,
            score,
        });
    }
    market.last_bad_debt_slot = clock.slot;
    prices.insert(MarketSnapshot::at_accepted_price(&market, &accepted, clock.slot))?;
    if account_health(&target, &prices)?.equity() >= 0 {
        clear_bankrupt(&mut target, &mut exchange);
    }
    Ok(())
}
