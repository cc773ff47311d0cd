use anchor_lang::prelude::*;
use anchor_spl::token::{self, Transfer};

use crate::constants::EXCHANGE_SEED;

/// Moves `amount` out of one of the exchange's PDA vaults (collateral or insurance), signed by the
/// exchange PDA. Zero is a no-op.
pub fn transfer_from_vault<'info>(
    token_program: &AccountInfo<'info>,
    from: AccountInfo<'info>,
    to: AccountInfo<'info>,
    exchange: AccountInfo<'info>,
    exchange_bump: u8,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    token::transfer(
        CpiContext::new_with_signer(
            token_program.key(),
            Transfer { from, to, authority: exchange },
            &[&[EXCHANGE_SEED, &[exchange_bump]]],
        ),
        amount,
    )
}
