use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::OperationsChanged;
use crate::state::{paused_operations, Exchange};

/// Closes instruction groups. The guardian may only close; reopening is governance's
/// (`resume_operations`).
#[derive(Accounts)]
pub struct PauseOperations<'info> {
    pub signer: Signer<'info>,
    #[account(
        mut, address = EXCHANGE_ADDRESS,
        constraint = exchange.load()?.is_guardian_or_governance(&signer.key()) @ ErrorCode::NotGuardianOrGovernance,
    )]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn handle_pause_operations(ctx: Context<PauseOperations>, operations: u16) -> Result<()> {
    require!(operations != 0 && operations & !paused_operations::ALL == 0, ErrorCode::UnknownOperations);
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    // The guardian can only make things safer: stop what adds risk or moves money out. Stopping
    // liquidation, the waterfall, deposits or funding is governance's call alone.
    require!(
        ctx.accounts.signer.key() == exchange.authority || operations & !paused_operations::GUARDIAN_PAUSABLE == 0,
        ErrorCode::GuardianCannotPause
    );
    let before = exchange.paused_operations;
    exchange.paused_operations |= operations;
    emit!(OperationsChanged {
        by: ctx.accounts.signer.key(),
        paused_before: before,
        paused_after: exchange.paused_operations
    });
    Ok(())
}
