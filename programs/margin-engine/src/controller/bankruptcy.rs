//! The BANKRUPT flag, in one place: setting and clearing it keeps `exchange.bankrupt_accounts`
//! (which locks insurance unstaking while a loss is pending) and the account's loss market.
use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::health::{position_risk, PriceCache};
use crate::math::margin::unrealized_pnl;
use crate::safe_math::SafeMath;
use crate::state::{margin_account_flags, Exchange, MarginAccount};

pub fn mark_bankrupt(account: &mut MarginAccount, exchange: &mut Exchange, loss_market_index: u16) -> Result<()> {
    if !account.has_flag(margin_account_flags::BANKRUPT) {
        exchange.bankrupt_accounts = exchange.bankrupt_accounts.safe_add(1)?;
    }
    account.flags = (account.flags | margin_account_flags::BANKRUPT) & !margin_account_flags::BEING_LIQUIDATED;
    account.loss_market_index = loss_market_index;
    Ok(())
}

pub fn clear_bankrupt(account: &mut MarginAccount, exchange: &mut Exchange) {
    if account.has_flag(margin_account_flags::BANKRUPT) {
        exchange.bankrupt_accounts = exchange.bankrupt_accounts.saturating_sub(1);
    }
    account.flags &= !margin_account_flags::BANKRUPT;
}

/// Where a bankrupt account's loss is attributed: the held market with the largest unrealised
/// loss at these prices (funding included). When no position is at a loss (the loss was realised
/// earlier), the stored loss market stays if the account still holds it, else the market of its
/// largest position; a flat account keeps the stored one. The caller never chooses it.
pub fn loss_market(account: &MarginAccount, prices: &PriceCache) -> Result<u16> {
    let mut worst: Option<(i128, u16)> = None;
    let mut largest: Option<(u64, u16)> = None;
    let mut holds_stored = false;
    for position in account.active_positions() {
        let snapshot = prices.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        let pnl = unrealized_pnl(&position_risk(position, snapshot)?)?;
        if pnl < 0 && worst.is_none_or(|(w, _)| pnl < w) {
            worst = Some((pnl, position.market_index));
        }
        let size = position.base_amount.unsigned_abs();
        if largest.is_none_or(|(l, _)| size > l) {
            largest = Some((size, position.market_index));
        }
        holds_stored |= position.market_index == account.loss_market_index;
    }
    Ok(match (worst, holds_stored, largest) {
        (Some((_, market)), _, _) => market,
        (None, true, _) | (None, false, None) => account.loss_market_index,
        (None, false, Some((_, market))) => market,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::MarketSnapshot;
    use crate::state::{Market, PerpPosition};

    fn snapshot(index: u16, price: u64) -> MarketSnapshot {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.market_index = index;
        MarketSnapshot::at_hypothetical_price(&m, price)
    }

    fn position(market_index: u16, base: i64, quote: i64) -> PerpPosition {
        PerpPosition { market_index, base_amount: base, quote_amount: quote, ..PerpPosition::default() }
    }

    #[test]
    fn the_loss_market_is_the_largest_unrealised_loss_else_what_was_stored() {
        let mut prices = PriceCache::new();
        prices.insert(snapshot(0, 80_000_000)).unwrap();
        prices.insert(snapshot(1, 50_000_000)).unwrap();
        prices.insert(snapshot(2, 120_000_000)).unwrap();
        let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
        a.loss_market_index = 2;
        // Long 10 at $100 in 0 (−$200), long 1 at $100 in 1 (−$50), long 1 at $100 in 2 (+$20).
        a.positions[0] = position(0, 10_000_000_000, -1_000_000_000);
        a.positions[1] = position(1, 1_000_000_000, -100_000_000);
        a.positions[2] = position(2, 1_000_000_000, -100_000_000);
        assert_eq!(loss_market(&a, &prices).unwrap(), 0);
        // No position at a loss: the stored market while held...
        a.positions[0] = PerpPosition::default();
        a.positions[1] = PerpPosition::default();
        assert_eq!(loss_market(&a, &prices).unwrap(), 2);
        // ...else the largest position; a flat account keeps the stored one.
        a.loss_market_index = 7;
        assert_eq!(loss_market(&a, &prices).unwrap(), 2);
        a.positions[2] = PerpPosition::default();
        assert_eq!(loss_market(&a, &prices).unwrap(), 7);
    }

    #[test]
    fn the_bankrupt_count_follows_the_flag_once() {
        let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
        let mut e: Exchange = bytemuck::Zeroable::zeroed();
        mark_bankrupt(&mut a, &mut e, 3).unwrap();
        mark_bankrupt(&mut a, &mut e, 4).unwrap();
        assert_eq!((e.bankrupt_accounts, a.loss_market_index), (1, 4));
        clear_bankrupt(&mut a, &mut e);
        clear_bankrupt(&mut a, &mut e);
        assert_eq!(e.bankrupt_accounts, 0);
        assert!(!a.has_flag(margin_account_flags::BANKRUPT));
    }
}
