//! The BANKRUPT flag, in one place: setting and clearing it keeps `exchange.bankrupt_accounts`
//! (which locks insurance unstaking while a loss is pending) and the account's loss market.
use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::health::{position_risk, PriceCache};
use crate::math::margin::unrealized_pnl;
use crate::state::{margin_account_flags, Exchange, MarginAccount};

pub fn mark_bankrupt(account: &mut MarginAccount, exchange: &mut Exchange, loss_market_index: u16) -> Result<()> {
    if !account.has_flag(margin_account_flags::BANKRUPT) {
        exchange.bankrupt_accounts = exchange.bankrupt_accounts.checked_add(1).ok_or(ErrorCode::MathOverflow)?;
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
