use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::AuthorityChanged;
use crate::state::Exchange;

/// Step two: the proposed key signs and becomes governance.
#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    pub new_authority: Signer<'info>,
    #[account(
        mut, address = EXCHANGE_ADDRESS,
        constraint = exchange.load()?.pending_authority == new_authority.key() @ ErrorCode::NotPendingAuthority,
    )]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn handle_accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    let old = exchange.authority;
    exchange.authority = ctx.accounts.new_authority.key();
    exchange.pending_authority = Pubkey::default();
    emit!(AuthorityChanged { old_authority: old, new_authority: exchange.authority, accepted: true });
    Ok(())
}
