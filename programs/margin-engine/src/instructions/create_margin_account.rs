use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::instructions::gates;
use crate::state::{Exchange, MarginAccount};

#[derive(Accounts)]
#[instruction(sub_account_id: u16)]
pub struct CreateMarginAccount<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub owner: Signer<'info>,
    #[account(address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        init, payer = payer, space = MarginAccount::SPACE,
        seeds = [MARGIN_ACCOUNT_SEED, owner.key().as_ref(), &sub_account_id.to_le_bytes()], bump,
    )]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_margin_account(ctx: Context<CreateMarginAccount>, sub_account_id: u16) -> Result<()> {
    require!(!ctx.accounts.exchange.load()?.is_paused(gates::CREATE_MARGIN_ACCOUNT), ErrorCode::OperationPaused);
    let mut account = ctx.accounts.margin_account.load_init()?;
    account.owner = ctx.accounts.owner.key();
    account.sub_account_id = sub_account_id;
    account.bump = ctx.bumps.margin_account;
    account.last_active_slot = Clock::get()?.slot;
    Ok(())
}
