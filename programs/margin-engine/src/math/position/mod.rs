//! How a trade changes a position: realised PnL, open interest and funding settlement.
//!
//! A position keeps `quote_amount`, its signed quote flow. On a reduction the closed share of that
//! flow plus the trade's quote is realised (moved to collateral); what stays is the remaining cost
//! basis. Per account, `realised + Δquote == trade_quote` exactly, so no unit is ever created or
//! destroyed by rounding.
use super::fixed::{mul_div_i128, Rounding};
use super::MathResult;
use crate::constants::{BASE_PRECISION, FUNDING_INDEX_SCALE};
use crate::error::ErrorCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeResult {
    pub base_amount: i64,
    pub quote_amount: i64,
    /// Moves into collateral.
    pub realized_pnl: i64,
}

/// Applies `delta_base` traded for `trade_quote` (signed: negative when the account pays).
pub fn apply_trade(base: i64, quote: i64, delta_base: i64, trade_quote: i64) -> MathResult<TradeResult> {
    let new_base = base.checked_add(delta_base).ok_or(ErrorCode::MathOverflow)?;
    if base == 0 || delta_base == 0 || (base > 0) == (delta_base > 0) {
        let new_quote = quote.checked_add(trade_quote).ok_or(ErrorCode::MathOverflow)?;
        return Ok(TradeResult { base_amount: new_base, quote_amount: new_quote, realized_pnl: 0 });
    }
    let base_abs = base.unsigned_abs() as i128;
    let delta_abs = delta_base.unsigned_abs() as i128;
    if delta_abs <= base_abs {
        // Reduce or close: the trade's whole quote closes against a share of the cost basis.
        let closed_quote = mul_div_i128(quote as i128, delta_abs, base_abs, Rounding::Down)?;
        let realized = closed_quote + trade_quote as i128;
        let remaining = quote as i128 - closed_quote;
        return Ok(TradeResult {
            base_amount: new_base,
            quote_amount: i64::try_from(remaining).map_err(|_| ErrorCode::MathOverflow)?,
            realized_pnl: i64::try_from(realized).map_err(|_| ErrorCode::MathOverflow)?,
        });
    }
    // Flip: close everything, open the rest on the other side.
    let closing_trade_quote = mul_div_i128(trade_quote as i128, base_abs, delta_abs, Rounding::Down)?;
    let opening_trade_quote = trade_quote as i128 - closing_trade_quote;
    Ok(TradeResult {
        base_amount: new_base,
        quote_amount: i64::try_from(opening_trade_quote).map_err(|_| ErrorCode::MathOverflow)?,
        realized_pnl: i64::try_from(quote as i128 + closing_trade_quote).map_err(|_| ErrorCode::MathOverflow)?,
    })
}

/// Change of (long, short) open interest when a position goes from `old` to `new` base.
pub fn open_interest_delta(old: i64, new: i64) -> (i128, i128) {
    let long = new.max(0) as i128 - old.max(0) as i128;
    let short = (new.min(0) as i128).abs() - (old.min(0) as i128).abs();
    (long, short)
}

/// How much of `position_base` an order on `side` (`order_side`) can reduce.
pub fn reducible(side: u8, position_base: i64) -> u64 {
    use crate::state::order_side::{ASK, BID};
    match side {
        BID if position_base < 0 => position_base.unsigned_abs(),
        ASK if position_base > 0 => position_base.unsigned_abs(),
        _ => 0,
    }
}

/// True when the trade leaves the position no larger and on the same side: risk only went down.
pub fn is_risk_reducing(old: i64, new: i64) -> bool {
    new == 0 || ((old > 0) == (new > 0) && new.unsigned_abs() <= old.unsigned_abs())
}

/// Funding owed *to* a position since `last_index` (negative = the position pays), rounded down:
/// a payer pays the rounded-up amount, a receiver gets the rounded-down one, and the difference
/// stays in the market's funding pool.
pub fn funding_owed(base: i64, current_index: i64, last_index: i64) -> MathResult<i64> {
    // Nothing accrued since the last settlement: the common case in a health check.
    if base == 0 || current_index == last_index {
        return Ok(0);
    }
    let delta = (current_index as i128).checked_sub(last_index as i128).ok_or(ErrorCode::MathOverflow)?;
    let owed = mul_div_i128(-(base as i128), delta, BASE_PRECISION as i128 * FUNDING_INDEX_SCALE, Rounding::Down)?;
    i64::try_from(owed).map_err(|_| ErrorCode::MathOverflow)
}

/// The side index a position of this sign settles against.
pub fn side_index(base: i64, long_index: i64, short_index: i64) -> i64 {
    if base >= 0 {
        long_index
    } else {
        short_index
    }
}

#[cfg(test)]
mod tests;
