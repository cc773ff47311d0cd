use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::RiskParamsChanged;
use crate::state::{Exchange, Market, RiskParams};

/// Governance changes a market's risk parameters within the hard bounds. Tightening applies at
/// once; anything that loosens is queued and executable only after the exchange's timelock (a new
/// proposal replaces a queued one).
#[derive(Accounts)]
pub struct UpdateRiskParams<'info> {
    pub authority: Signer<'info>,
    #[account(address = EXCHANGE_ADDRESS, has_one = authority @ ErrorCode::NotGovernance)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
}

pub fn handle_update_risk_params(ctx: Context<UpdateRiskParams>, params: RiskParams) -> Result<()> {
    params.validate()?;
    let slot = Clock::get()?.slot;
    let timelock = ctx.accounts.exchange.load()?.risk_timelock_slots;
    let mut market = ctx.accounts.market.load_mut()?;
    let old = market.risk;
    let applied = params.is_tightening_of(&old);
    let ready_slot = if applied { slot } else { slot.saturating_add(timelock) };
    if applied {
        market.risk = params;
    } else {
        market.pending_risk = params;
        market.pending_risk_ready_slot = ready_slot;
        market.has_pending_risk = 1;
    }
    emit!(RiskParamsChanged { market_index: market.market_index, old, new: params, applied, ready_slot });
    Ok(())
}
