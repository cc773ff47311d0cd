//! Account plumbing around the health math: prices every open position from the remaining
//! accounts (market, Pyth, optional Switchboard per position, in slot order) and hands plain data
//! to `math::margin::compute_health`. Markets the account does not hold are never read, so a stale
//! oracle elsewhere cannot block this account.
use anchor_lang::prelude::*;

use crate::constants::MAX_POSITIONS;
use crate::error::ErrorCode;
use crate::math::margin::{compute_health, HealthReport, PositionRisk};
use crate::oracle::{self, OracleAction};
use crate::state::{MarginAccount, Market};

pub fn load_account_health<'info>(
    account: &MarginAccount,
    remaining: &'info [AccountInfo<'info>],
    clock: &Clock,
    action: OracleAction,
) -> Result<HealthReport> {
    let mut priced = [PositionRisk::default(); MAX_POSITIONS];
    let mut count = 0usize;
    let mut cursor = 0usize;
    for position in account.active_positions() {
        let market_info = remaining.get(cursor).ok_or(ErrorCode::MissingMarketAccounts)?;
        let loader = AccountLoader::<Market>::try_from(market_info)?;
        let market = loader.load()?;
        require!(market.market_index == position.market_index, ErrorCode::MarketAccountMismatch);
        let per_market = oracle::accounts_per_market(&market);
        let pyth = remaining.get(cursor + 1).ok_or(ErrorCode::MissingMarketAccounts)?;
        let switchboard = if per_market == 3 { Some(remaining.get(cursor + 2).ok_or(ErrorCode::MissingMarketAccounts)?) } else { None };
        let price = oracle::read_price(&market, pyth, switchboard, clock, action)?;
        priced[count] = PositionRisk {
            base_amount: position.base_amount,
            quote_amount: position.quote_amount,
            unsettled_funding: 0,
            price: price.price,
            params: market.risk.margin_params(),
        };
        count += 1;
        cursor += per_market;
    }
    Ok(compute_health(account.collateral, &priced[..count])?)
}
