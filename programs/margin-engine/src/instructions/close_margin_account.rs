use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::state::{margin_account_flags, MarginAccount};

/// Rent goes back to the owner. Only an account with nothing in it can close: no position, no
/// collateral (positive or negative).
#[derive(Accounts)]
pub struct CloseMarginAccount<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ ErrorCode::NotAccountOwner, close = owner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
}

pub fn handle_close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
    let account = ctx.accounts.margin_account.load()?;
    // A bankrupt account belongs to the waterfall until it is resolved.
    require!(
        account.is_flat() && account.collateral == 0 && account.flags & margin_account_flags::BANKRUPT == 0,
        ErrorCode::AccountNotEmpty
    );
    Ok(())
}
