use anchor_lang::prelude::*;

use crate::constants::{RATIO_PRECISION, RESOLVE_BANKRUPTCY_BOUNTY};
use crate::error::ErrorCode;
use crate::math::insurance::available_draw;
use crate::state::{market_status, Market};

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

pub fn record_draw(market: &mut Market, amount: u64) -> Result<()> {
    market.insurance_drawn_in_period =
        market.insurance_drawn_in_period.checked_add(amount).ok_or(ErrorCode::MathOverflow)?;
    Ok(())
}

/// ADL and socialisation are only for what the fund cannot pay: not even a bounty's worth.
pub fn require_fund_exhausted(market: &mut Market, fund_balance: u64, slot: u64) -> Result<()> {
    require!(available_for(market, fund_balance, slot) <= RESOLVE_BANKRUPTCY_BOUNTY, ErrorCode::InsuranceCanStillCover);
    Ok(())
}
