use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::math::position::{apply_trade, funding_owed, open_interest_delta, side_index};
use crate::state::{Exchange, MarginAccount, Market};

/// Adds `delta` to an account's collateral and to the exchange total, checked.
pub fn adjust_collateral(account: &mut MarginAccount, exchange: &mut Exchange, delta: i64) -> Result<()> {
    account.collateral = account.collateral.checked_add(delta).ok_or(ErrorCode::MathOverflow)?;
    exchange.total_collateral = exchange.total_collateral.checked_add(delta).ok_or(ErrorCode::MathOverflow)?;
    Ok(())
}

/// Settles the position's funding into collateral; the market's funding pool takes the other
/// side. Returns the amount credited (negative = paid).
pub fn settle_funding(
    account: &mut MarginAccount,
    slot: usize,
    market: &mut Market,
    exchange: &mut Exchange,
) -> Result<i64> {
    let position = account.positions[slot];
    let index = side_index(position.base_amount, market.cumulative_funding_long, market.cumulative_funding_short);
    let owed = funding_owed(position.base_amount, index, position.last_cumulative_funding)?;
    account.positions[slot].last_cumulative_funding = index;
    if owed != 0 {
        adjust_collateral(account, exchange, owed)?;
        market.funding_pool = market.funding_pool.checked_sub(owed).ok_or(ErrorCode::MathOverflow)?;
    }
    Ok(owed)
}

/// Applies a fill of `delta_base` for `trade_quote` to the position in `slot`: funding first,
/// then the trade; realised PnL moves to collateral and open interest follows the new size.
/// Returns (old base, new base).
pub fn apply_fill(
    account: &mut MarginAccount,
    slot: usize,
    market: &mut Market,
    exchange: &mut Exchange,
    delta_base: i64,
    trade_quote: i64,
) -> Result<(i64, i64)> {
    settle_funding(account, slot, market, exchange)?;
    let position = account.positions[slot];
    let result = apply_trade(position.base_amount, position.quote_amount, delta_base, trade_quote)?;
    {
        let p = &mut account.positions[slot];
        p.base_amount = result.base_amount;
        p.quote_amount = result.quote_amount;
        p.last_cumulative_funding =
            side_index(result.base_amount, market.cumulative_funding_long, market.cumulative_funding_short);
    }
    adjust_collateral(account, exchange, result.realized_pnl)?;
    market.total_position_quote = market
        .total_position_quote
        .checked_add(result.quote_amount - position.quote_amount)
        .ok_or(ErrorCode::MathOverflow)?;
    let (long, short) = open_interest_delta(position.base_amount, result.base_amount);
    market.open_interest_long = apply_delta(market.open_interest_long, long)?;
    market.open_interest_short = apply_delta(market.open_interest_short, short)?;
    Ok((position.base_amount, result.base_amount))
}

fn apply_delta(value: u64, delta: i128) -> Result<u64> {
    u64::try_from(value as i128 + delta).map_err(|_| ErrorCode::MathOverflow.into())
}
