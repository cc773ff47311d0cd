use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::OperationsChanged;
use crate::state::{paused_operations, Exchange};

/// Governance only: reopens instruction groups.
#[derive(Accounts)]
pub struct ResumeOperations<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS, has_one = authority @ ErrorCode::NotGovernance)]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn handle_resume_operations(ctx: Context<ResumeOperations>, operations: u16) -> Result<()> {
    require!(operations != 0 && operations & !paused_operations::ALL == 0, ErrorCode::UnknownOperations);
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    let before = exchange.paused_operations;
    exchange.paused_operations &= !operations;
    emit!(OperationsChanged {
        by: ctx.accounts.authority.key(),
        paused_before: before,
        paused_after: exchange.paused_operations
    });
    Ok(())
}
