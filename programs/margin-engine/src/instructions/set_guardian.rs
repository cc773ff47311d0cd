use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::GuardianChanged;
use crate::state::Exchange;

#[derive(Accounts)]
pub struct SetGuardian<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS, has_one = authority @ ErrorCode::NotGovernance)]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn handle_set_guardian(ctx: Context<SetGuardian>, guardian: Pubkey) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    emit!(GuardianChanged { old_guardian: exchange.guardian, new_guardian: guardian });
    exchange.guardian = guardian;
    Ok(())
}
