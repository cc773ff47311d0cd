use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::AuthorityChanged;
use crate::state::Exchange;

/// Step one of a governance handover; the new key must accept (so a typo cannot lock governance
/// out). Proposing `Pubkey::default()` withdraws a proposal.
#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS, has_one = authority @ ErrorCode::NotGovernance)]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn handle_propose_authority(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    exchange.pending_authority = new_authority;
    emit!(AuthorityChanged { old_authority: exchange.authority, new_authority, accepted: false });
    Ok(())
}
