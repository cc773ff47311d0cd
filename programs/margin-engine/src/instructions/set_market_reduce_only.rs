use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::MarketStatusChanged;
use crate::state::{market_status, Exchange, Market};

/// The guardian may set a market reduce-only; only governance may lift it.
#[derive(Accounts)]
pub struct SetMarketReduceOnly<'info> {
    pub signer: Signer<'info>,
    #[account(
        address = EXCHANGE_ADDRESS,
        constraint = exchange.load()?.is_guardian_or_governance(&signer.key()) @ ErrorCode::NotGuardianOrGovernance,
    )]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
}

pub fn handle_set_market_reduce_only(ctx: Context<SetMarketReduceOnly>, reduce_only: bool) -> Result<()> {
    let is_governance = ctx.accounts.signer.key() == ctx.accounts.exchange.load()?.authority;
    require!(reduce_only || is_governance, ErrorCode::OnlyGovernanceCanLoosen);
    let mut market = ctx.accounts.market.load_mut()?;
    let before = market.status;
    if reduce_only {
        market.status |= market_status::GUARDIAN_REDUCE_ONLY;
    } else {
        market.status &= !market_status::GUARDIAN_REDUCE_ONLY;
    }
    emit!(MarketStatusChanged {
        market_index: market.market_index,
        by: ctx.accounts.signer.key(),
        status_before: before,
        status_after: market.status
    });
    Ok(())
}
