//! Auto-deleveraging rules shared by the program, the SDK and the keeper: the ADL price, and
//! whether a candidate position may be deleveraged and at what score. Keepers rank with exactly
//! what `auto_deleverage` checks, so a batch the keeper builds is one the program accepts.
use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::health::{position_risk, MarketSnapshot};
use crate::math::adl::{adl_score, bankruptcy_price, clamp_to_band};
use crate::math::margin::{notional_up, unrealized_pnl};
use crate::state::PerpPosition;

/// The price a bankrupt position of `target_base` closes at: the bankruptcy price, clamped to
/// `band` (ppm) around the oracle.
pub fn adl_price(oracle: u64, target_base: i64, target_equity: i128, band: u32) -> Result<u64> {
    Ok(clamp_to_band(bankruptcy_price(oracle, target_base, target_equity)?, oracle, band))
}

/// A candidate's ADL score if it is eligible against a target holding `target_base`: it holds an
/// opposite position, is in profit at the ADL price (ADL never turns a winner into a loser), and
/// scores (PnL% × leverage at the oracle, ppm) at least `min_score`.
pub fn candidate_score(
    position: &PerpPosition,
    collateral: i64,
    at_oracle: &MarketSnapshot,
    adl_price: u64,
    target_base: i64,
    min_score: u32,
) -> Result<u64> {
    require!(position.base_amount != 0, ErrorCode::CandidateNoPosition);
    require!((position.base_amount > 0) != (target_base > 0), ErrorCode::CandidateSameSide);
    let at_adl = MarketSnapshot { price: adl_price, ..*at_oracle };
    require!(unrealized_pnl(&position_risk(position, &at_adl)?)? > 0, ErrorCode::CandidateNotProfitable);
    let pnl = unrealized_pnl(&position_risk(position, at_oracle)?)?;
    let notional = notional_up(position.base_amount, at_oracle.price)?;
    let score = adl_score(pnl, position.quote_amount.unsigned_abs() as u128, notional, collateral as i128 + pnl);
    require!(score >= min_score as u64, ErrorCode::CandidateBelowThreshold);
    Ok(score)
}
