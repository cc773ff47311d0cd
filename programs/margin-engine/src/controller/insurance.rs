use anchor_lang::prelude::*;

use crate::constants::RESOLVE_BANKRUPTCY_BOUNTY;
use crate::error::ErrorCode;
use crate::math::insurance::available_draw;
use crate::state::Market;

/// Starts a new insurance draw period for the market when the old one has run out.
pub fn roll_draw_period(market: &mut Market, slot: u64) {
    if slot >= market.insurance_period_start_slot.saturating_add(market.risk.insurance_draw_period_slots) {
        market.insurance_period_start_slot = slot;
        market.insurance_drawn_in_period = 0;
    }
}

/// What the fund may pay for this market now (after rolling the period).
pub fn available_for(market: &mut Market, fund_balance: u64, slot: u64) -> u64 {
    roll_draw_period(market, slot);
    available_draw(fund_balance, market.risk.insurance_draw_cap, market.insurance_drawn_in_period)
}

pub fn record_draw(market: &mut Market, amount: u64) -> Result<()> {
    market.insurance_drawn_in_period = market.insurance_drawn_in_period.checked_add(amount).ok_or(ErrorCode::MathOverflow)?;
    Ok(())
}

/// ADL and socialisation are only for what the fund cannot pay: not even a bounty's worth.
pub fn require_fund_exhausted(market: &mut Market, fund_balance: u64, slot: u64) -> Result<()> {
    require!(available_for(market, fund_balance, slot) <= RESOLVE_BANKRUPTCY_BOUNTY, ErrorCode::InsuranceCanStillCover);
    Ok(())
}
