use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::RiskChangeCancelled;
use crate::state::{Exchange, Market};

/// Governance or the guardian drops a queued (loosening) change.
#[derive(Accounts)]
pub struct CancelRiskUpdate<'info> {
    pub signer: Signer<'info>,
    #[account(
        address = EXCHANGE_ADDRESS,
        constraint = exchange.load()?.is_guardian_or_governance(&signer.key()) @ ErrorCode::NotGuardianOrGovernance,
    )]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
}

pub fn handle_cancel_risk_update(ctx: Context<CancelRiskUpdate>) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    require!(market.has_pending_risk == 1, ErrorCode::NoPendingRiskChange);
    market.has_pending_risk = 0;
    emit!(RiskChangeCancelled { market_index: market.market_index, by: ctx.accounts.signer.key() });
    Ok(())
}
