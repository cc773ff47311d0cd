use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::math::position::{apply_trade, funding_owed, open_interest_delta, side_index};
use crate::math::trading::trade_quote;
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

/// One side of a fill, as applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillResult {
    pub old_base: i64,
    pub new_base: i64,
    pub realized_pnl: i64,
}

/// Applies a fill of `delta_base` for `trade_quote` to the position in `slot`: funding first,
/// then the trade; realised PnL moves to collateral and open interest follows the new size.
pub fn apply_fill(
    account: &mut MarginAccount,
    slot: usize,
    market: &mut Market,
    exchange: &mut Exchange,
    delta_base: i64,
    trade_quote: i64,
) -> Result<FillResult> {
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
    let quote_change = result.quote_amount.checked_sub(position.quote_amount).ok_or(ErrorCode::MathOverflow)?;
    market.total_position_quote =
        market.total_position_quote.checked_add(quote_change).ok_or(ErrorCode::MathOverflow)?;
    let (long, short) = open_interest_delta(position.base_amount, result.base_amount);
    market.open_interest_long = apply_delta(market.open_interest_long, long)?;
    market.open_interest_short = apply_delta(market.open_interest_short, short)?;
    Ok(FillResult { old_base: position.base_amount, new_base: result.base_amount, realized_pnl: result.realized_pnl })
}

/// Both sides of a transfer of base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseTransfer {
    pub buyer: FillResult,
    pub seller: FillResult,
    /// Quote the buyer paid (rounded up) and the seller received (rounded down).
    pub paid: u64,
    pub received: u64,
}

/// The one transfer of base between two accounts behind fills, liquidation steps and ADL:
/// `base` moves from `seller` to `buyer` at `price`; the buyer pays the rounded-up quote, the
/// seller receives the rounded-down one and the unit between goes to the fee pool. Profit either
/// side realises is locked for the bad-debt window; a realised loss records its market (where a
/// flat account's later deficit is attributed).
#[allow(clippy::too_many_arguments)]
pub fn transfer_base(
    buyer: &mut MarginAccount,
    buyer_slot: usize,
    seller: &mut MarginAccount,
    seller_slot: usize,
    market: &mut Market,
    exchange: &mut Exchange,
    base: u64,
    price: u64,
    slot: u64,
) -> Result<BaseTransfer> {
    let (paid, received) = trade_quote(base, price)?;
    let signed_base = i64::try_from(base).map_err(|_| ErrorCode::MathOverflow)?;
    let paid_signed = i64::try_from(paid).map_err(|_| ErrorCode::MathOverflow)?;
    let received_signed = i64::try_from(received).map_err(|_| ErrorCode::MathOverflow)?;
    let buyer_fill = apply_fill(buyer, buyer_slot, market, exchange, signed_base, -paid_signed)?;
    let seller_fill = apply_fill(seller, seller_slot, market, exchange, -signed_base, received_signed)?;
    for (account, fill) in [(&mut *buyer, buyer_fill), (&mut *seller, seller_fill)] {
        account.lock_profit(fill.realized_pnl, slot);
        if fill.realized_pnl < 0 {
            account.loss_market_index = market.market_index;
        }
    }
    exchange.fee_pool = exchange.fee_pool.checked_add(paid - received).ok_or(ErrorCode::MathOverflow)?;
    Ok(BaseTransfer { buyer: buyer_fill, seller: seller_fill, paid, received })
}

fn apply_delta(value: u64, delta: i128) -> Result<u64> {
    u64::try_from(value as i128 + delta).map_err(|_| ErrorCode::MathOverflow.into())
}
