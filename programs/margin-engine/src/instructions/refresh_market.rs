use anchor_lang::prelude::*;

use crate::controller::market::accept_price;
use crate::oracle::OracleAction;
use crate::state::Market;

/// Permissionless crank: feeds the current oracle price into the market's TWAP and circuit breaker,
/// persisting trips and resets (the same logic runs inside every instruction that writes the
/// market). Only a fully valid price: derived state is never built from a stale or replayed one
/// (an old genuine update posted now would otherwise trip, or hold, a market's breaker).
#[derive(Accounts)]
pub struct RefreshMarket<'info> {
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
}

pub fn handle_refresh_market(ctx: Context<RefreshMarket>) -> Result<()> {
    let clock = Clock::get()?;
    let mut market = ctx.accounts.market.load_mut()?;
    let fallback = ctx.accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    accept_price(&mut market, &ctx.accounts.oracle, fallback, &clock, OracleAction::Refresh)?;
    Ok(())
}
