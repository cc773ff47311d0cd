use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::state::MarginAccount;

#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ ErrorCode::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
}

/// `Pubkey::default()` removes the delegate.
pub fn handle_set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
    require_keys_neq!(delegate, ctx.accounts.owner.key(), ErrorCode::InvalidDelegate);
    ctx.accounts.margin_account.load_mut()?.delegate = delegate;
    Ok(())
}
