use anchor_lang::prelude::*;

use crate::constants::*;
use crate::controller::market::accept_price;
use crate::error::ErrorCode;
use crate::events::FundingUpdated;
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::math::funding::{advance_mark, funding_payment, index_delta};
use crate::oracle::OracleAction;
use crate::safe_math::SafeMath;
use crate::state::{Exchange, Market};

/// Permissionless, at most once per funding period per market: longs pay shorts the clamped
/// premium of the fill-price TWAP over the oracle TWAP (or receive it when negative). Positions
/// settle lazily against the cumulative indexes.
#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    #[account(address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
}

pub fn handle_update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
    ctx.accounts.exchange.load()?.require_open(gates::UPDATE_FUNDING)?;
    let clock = Clock::get()?;
    let mut market = ctx.accounts.market.load_mut()?;
    let period = market.risk.funding_period_slots as u64;
    require!(clock.slot >= market.last_funding_slot.saturating_add(period), ErrorCode::FundingNotDue);

    let fallback = ctx.accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &ctx.accounts.oracle, fallback, &clock, OracleAction::Funding)?;
    market.mode(accepted.price, accepted.ema_price, clock.slot).require_allows(MarketAction::Funding)?;
    // The mark TWAP takes in the slots since the last fill (the level decaying toward the
    // oracle), as the next fill would: a premium counts for as long as it lasted.
    if market.mark_twap != 0 {
        (market.mark_price, market.mark_twap) = advance_mark(
            market.mark_price,
            market.mark_twap,
            market.mark_twap_slot,
            market.oracle_twap,
            clock.slot,
            period,
        )?;
        market.mark_twap_slot = clock.slot;
    }

    let payment = funding_payment(market.mark_twap, market.oracle_twap, market.risk.max_funding_rate)?;
    let delta = index_delta(payment)?;
    market.cumulative_funding_long = market.cumulative_funding_long.safe_add(delta)?;
    market.cumulative_funding_short = market.cumulative_funding_short.safe_add(delta)?;
    market.last_funding_payment = payment;
    market.last_funding_slot = clock.slot;
    emit!(FundingUpdated {
        market_index: market.market_index,
        mark_twap: market.mark_twap,
        oracle_twap: market.oracle_twap,
        payment_per_base: payment,
        cumulative_funding_long: market.cumulative_funding_long,
        cumulative_funding_short: market.cumulative_funding_short,
    });
    Ok(())
}
