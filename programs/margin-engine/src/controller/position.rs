use anchor_lang::prelude::*;

use crate::math::position::{apply_trade, funding_owed, open_interest_delta, side_index};
use crate::math::trading::trade_quote;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{Exchange, MarginAccount, Market};

/// Adds `delta` to an account's collateral and to the exchange total, checked.
pub fn adjust_collateral(account: &mut MarginAccount, exchange: &mut Exchange, delta: i64) -> Result<()> {
    account.collateral = account.collateral.safe_add(delta)?;
    exchange.total_collateral = exchange.total_collateral.safe_add(delta)?;
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
    if owed < 0 {
        // A funding loss is a realised loss in this market too (see `transfer_base`).
        account.loss_market_index = market.market_index;
    }
    if owed != 0 {
        adjust_collateral(account, exchange, owed)?;
        market.funding_pool = market.funding_pool.safe_sub(owed)?;
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
    let quote_change = result.quote_amount.safe_sub(position.quote_amount)?;
    market.total_position_quote = market.total_position_quote.safe_add(quote_change)?;
    let (long, short) = open_interest_delta(position.base_amount, result.base_amount);
    market.open_interest_long = apply_delta(market.open_interest_long, long)?;
    market.open_interest_short = apply_delta(market.open_interest_short, short)?;
    Ok(FillResult { old_base: position.base_amount, new_base: result.base_amount, realized_pnl: result.realized_pnl })
}

/// Both sides of a transfer of base, in the order the caller named the accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseTransfer {
    pub a: FillResult,
    pub b: FillResult,
    /// Quote the buyer paid (rounded up) and the seller received (rounded down).
    pub paid: u64,
    pub received: u64,
}

/// The one transfer of base between two accounts behind fills, liquidation steps and ADL:
/// `base` moves at `price` to `a` from `b` when `a_buys`, else to `b` from `a`; the buyer pays the
/// rounded-up quote, the seller receives the rounded-down one and the unit between goes to the fee
/// pool. Profit either side realises is locked for the bad-debt window; a realised loss records
/// its market (where a flat account's later deficit is attributed).
#[allow(clippy::too_many_arguments)]
pub fn transfer_base(
    a: &mut MarginAccount,
    a_slot: usize,
    b: &mut MarginAccount,
    b_slot: usize,
    a_buys: bool,
    market: &mut Market,
    exchange: &mut Exchange,
    base: u64,
    price: u64,
    slot: u64,
) -> Result<BaseTransfer> {
    let (paid, received) = trade_quote(base, price)?;
    let signed_base = base.safe_i64()?;
    let (paid_signed, received_signed) = (paid.safe_i64()?, received.safe_i64()?);
    let (a_delta, a_quote) = if a_buys { (signed_base, -paid_signed) } else { (-signed_base, received_signed) };
    let a_fill = apply_fill(a, a_slot, market, exchange, a_delta, a_quote)?;
    let b_fill =
        apply_fill(b, b_slot, market, exchange, -a_delta, if a_buys { received_signed } else { -paid_signed })?;
    for (account, fill) in [(&mut *a, a_fill), (&mut *b, b_fill)] {
        account.lock_profit(fill.realized_pnl, slot);
        if fill.realized_pnl < 0 {
            account.loss_market_index = market.market_index;
        }
    }
    exchange.fee_pool = exchange.fee_pool.safe_add(paid - received)?;
    Ok(BaseTransfer { a: a_fill, b: b_fill, paid, received })
}

fn apply_delta(value: u64, delta: i128) -> Result<u64> {
    (value as i128 + delta).safe_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transfer moves base, quote and the rounding unit and nothing else: every unit lands in a
    /// position, a collateral balance or the fee pool; open interest follows; profit is locked.
    #[test]
    fn one_transfer_of_base_conserves_every_unit() {
        let mut buyer: MarginAccount = bytemuck::Zeroable::zeroed();
        let mut seller: MarginAccount = bytemuck::Zeroable::zeroed();
        let mut market: Market = bytemuck::Zeroable::zeroed();
        let mut exchange: Exchange = bytemuck::Zeroable::zeroed();
        // 1.5 base at $100.000001: the buyer pays 150,000,002 (rounded up), the seller gets
        // 150,000,001; the unit between goes to the fee pool.
        let t = transfer_base(
            &mut buyer,
            0,
            &mut seller,
            0,
            true,
            &mut market,
            &mut exchange,
            1_500_000_000,
            100_000_001,
            7,
        )
        .unwrap();
        assert_eq!((t.paid, t.received, exchange.fee_pool), (150_000_002, 150_000_001, 1));
        assert_eq!((buyer.positions[0].base_amount, seller.positions[0].base_amount), (1_500_000_000, -1_500_000_000));
        assert_eq!((market.open_interest_long, market.open_interest_short), (1_500_000_000, 1_500_000_000));
        let quotes = buyer.positions[0].quote_amount as i128 + seller.positions[0].quote_amount as i128;
        assert_eq!(quotes + exchange.fee_pool as i128, 0);
        assert_eq!(market.total_position_quote as i128, quotes);
        // Closing back at $110: the old seller realises a loss (and records the market), the old
        // buyer a profit, locked at slot 9.
        market.market_index = 3;
        let t = transfer_base(
            &mut buyer,
            0,
            &mut seller,
            0,
            false,
            &mut market,
            &mut exchange,
            1_500_000_000,
            110_000_000,
            9,
        )
        .unwrap();
        assert!(t.a.realized_pnl > 0 && t.b.realized_pnl < 0);
        assert_eq!(buyer.locked_profit_at(9), t.a.realized_pnl as u64);
        assert_eq!(buyer.locked_profit_at(9 + crate::constants::BAD_DEBT_WITHDRAW_GATE_SLOTS), 0);
        assert_eq!(seller.loss_market_index, 3);
        assert_eq!((market.open_interest_long, market.total_position_quote), (0, 0));
        let collateral = buyer.collateral as i128 + seller.collateral as i128;
        assert_eq!(collateral + exchange.fee_pool as i128, 0, "every unit is somewhere");
        assert_eq!(exchange.total_collateral as i128, collateral);
    }

    /// Funding a position pays is a realised loss in its market: a flat account's later deficit
    /// is attributed there.
    #[test]
    fn a_funding_loss_records_its_market() {
        let mut account: MarginAccount = bytemuck::Zeroable::zeroed();
        let mut market: Market = bytemuck::Zeroable::zeroed();
        let mut exchange: Exchange = bytemuck::Zeroable::zeroed();
        market.market_index = 5;
        account.loss_market_index = 2;
        account.positions[0] =
            crate::state::PerpPosition { market_index: 5, base_amount: 1_000_000_000, ..Default::default() };
        market.cumulative_funding_long = 1_000_000_000; // longs pay $1 per base (index scale 1,000)
        assert_eq!(settle_funding(&mut account, 0, &mut market, &mut exchange).unwrap(), -1_000_000);
        assert_eq!((account.loss_market_index, account.collateral, market.funding_pool), (5, -1_000_000, 1_000_000));
    }
}
