use anchor_lang::prelude::*;

use crate::constants::{RATIO_PRECISION, RESOLVE_BANKRUPTCY_BOUNTY, RESOLVE_BANKRUPTCY_BOUNTY_SHARE};
use crate::error::ErrorCode;
use crate::events::InsuranceDrawdownTripped;
use crate::health::PriceCache;
use crate::math::fixed::{mul_div_u128, u128_to_u64, Rounding};
use crate::math::insurance::available_draw;
use crate::math::margin::notional_up;
use crate::safe_math::SafeMath;
use crate::state::{market_status, MarginAccount, Market};

/// Starts a new insurance draw period for the market when the old one has run out; the drawdown
/// breaker's reduce-only flag ends with its period.
pub fn roll_draw_period(market: &mut Market, fund_balance: u64, slot: u64) {
    if market.insurance_period_start_slot == 0
        || slot >= market.insurance_period_start_slot.saturating_add(market.risk.insurance_draw_period_slots)
    {
        market.insurance_period_start_slot = slot.max(1);
        market.insurance_drawn_in_period = 0;
        market.insurance_fund_at_period_start = fund_balance;
        market.status &= !market_status::INSURANCE_DRAWDOWN;
    }
}

/// Has this period's draw exceeded the drawdown share of the fund it started with?
pub fn exceeds_drawdown(market: &Market) -> bool {
    market.insurance_drawn_in_period as u128 * RATIO_PRECISION as u128
        > market.risk.insurance_drawdown_limit as u128 * market.insurance_fund_at_period_start as u128
}

/// What the fund may pay for this market now (after rolling the period).
pub fn available_for(market: &mut Market, fund_balance: u64, slot: u64) -> u64 {
    roll_draw_period(market, fund_balance, slot);
    available_draw(fund_balance, market.risk.insurance_draw_cap, market.insurance_drawn_in_period)
}

/// Books a draw of `amount` (of which `deficit_part` covered negative equity) against the market's
/// period cap and its running totals.
pub fn record_draw(market: &mut Market, amount: u64, deficit_part: u64) -> Result<()> {
    market.insurance_drawn_in_period = market.insurance_drawn_in_period.safe_add(amount)?;
    market.insurance_paid_total = market.insurance_paid_total.safe_add(amount)?;
    market.insurance_deficit_total = market.insurance_deficit_total.safe_add(deficit_part)?;
    Ok(())
}

/// Insurance drawdown breaker: paying out more than its share of the fund this period sets the
/// market reduce-only until the period ends.
pub fn trip_drawdown_if_exceeded(market: &mut Market) {
    if exceeds_drawdown(market) && market.status & market_status::INSURANCE_DRAWDOWN == 0 {
        market.status |= market_status::INSURANCE_DRAWDOWN;
        emit!(InsuranceDrawdownTripped {
            market_index: market.market_index,
            drawn_in_period: market.insurance_drawn_in_period,
            fund_at_period_start: market.insurance_fund_at_period_start,
        });
    }
}

/// What closing every position of the account would pay liquidators at the base fee: the fund
/// pays it with the deficit, so liquidators are paid to finish the job.
pub fn closing_fees(account: &MarginAccount, prices: &PriceCache) -> Result<u64> {
    let mut fees: u64 = 0;
    for position in account.active_positions() {
        let snapshot = prices.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        let notional = notional_up(position.base_amount, snapshot.price)?;
        let fee = mul_div_u128(notional, snapshot.liquidation_fee as u128, RATIO_PRECISION as u128, Rounding::Up)?;
        fees = fees.safe_add(u128_to_u64(fee)?)?;
    }
    Ok(fees)
}

/// The keeper's bounty for resolving a bankruptcy of `deficit`: a tenth of it, at most $1.
pub fn resolve_bounty(deficit: u64) -> Result<u64> {
    Ok(u128_to_u64(mul_div_u128(
        deficit as u128,
        RESOLVE_BANKRUPTCY_BOUNTY_SHARE as u128,
        RATIO_PRECISION as u128,
        Rounding::Down,
    )?)?
    .min(RESOLVE_BANKRUPTCY_BOUNTY))
}

/// ADL and socialisation are only for what the fund cannot pay: not even a bounty's worth.
pub fn require_fund_exhausted(market: &mut Market, fund_balance: u64, slot: u64) -> Result<()> {
    require!(available_for(market, fund_balance, slot) <= RESOLVE_BANKRUPTCY_BOUNTY, ErrorCode::InsuranceCanStillCover);
    Ok(())
}
