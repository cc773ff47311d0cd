use anchor_lang::prelude::*;
use anchor_spl::token::{self, Transfer};

use crate::constants::EXCHANGE_SEED;
use crate::error::ErrorCode;
use crate::math::fixed::{bytes32_eq, bytes32_eq_at};

/// SPL Token's account layout: mint 0..32, owner 32..64, ..., state at 108; 165 bytes.
const TOKEN_ACCOUNT_LEN: usize = 165;
const TOKEN_ACCOUNT_STATE: usize = 108;

/// Whether a user's token account (a deposit's source, a withdrawal's destination) holds `mint`,
/// read once from its bytes. Fails with the errors of `Account<TokenAccount>` (owner program
/// first, then a 165-byte initialized or frozen account) and, when `owner` is given and the mint
/// matches, with `SourceNotOwnedBySigner` if someone else owns it: the order of the two
/// constraints it replaces, so callers write `is_token_account_of(..)? @ WrongCollateralMint`.
/// No full unpack (about 1,500 CU on SBF): the token program checks the rest in the transfer.
/// Only the token program writes accounts it owns, so the layout holds.
pub fn is_token_account_of(info: &AccountInfo, mint: &Pubkey, owner: Option<&Pubkey>) -> Result<bool> {
    if !bytes32_eq(info.owner.as_ref(), &token::ID.to_bytes()) {
        return Err(Error::from(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*info.owner, token::ID)));
    }
    let data = info.try_borrow_data()?;
    if data.len() != TOKEN_ACCOUNT_LEN || !matches!(data[TOKEN_ACCOUNT_STATE], 1 | 2) {
        return Err(ProgramError::InvalidAccountData.into());
    }
    if !bytes32_eq_at(&data, 0, &mint.to_bytes()) {
        return Ok(false);
    }
    if owner.is_some_and(|owner| !bytes32_eq_at(&data, 32, &owner.to_bytes())) {
        return err!(ErrorCode::SourceNotOwnedBySigner);
    }
    Ok(true)
}

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
