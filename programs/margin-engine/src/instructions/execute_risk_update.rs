use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::events::RiskParamsChanged;
use crate::state::Market;

/// Permissionless once the timelock has passed: applies the queued change (re-validated, since
/// bounds are fixed in code this cannot fail differently, but it is cheap insurance).
#[derive(Accounts)]
pub struct ExecuteRiskUpdate<'info> {
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
}

pub fn handle_execute_risk_update(ctx: Context<ExecuteRiskUpdate>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let mut market = ctx.accounts.market.load_mut()?;
    require!(market.has_pending_risk == 1, ErrorCode::NoPendingRiskChange);
    require!(slot >= market.pending_risk_ready_slot, ErrorCode::TimelockNotElapsed);
    let new = market.pending_risk;
    new.validate()?;
    let old = market.risk;
    market.risk = new;
    market.has_pending_risk = 0;
    emit!(RiskParamsChanged {
        market_index: market.market_index,
        old,
        new,
        applied: true,
        ready_slot: market.pending_risk_ready_slot
    });
    Ok(())
}
