use anchor_lang::prelude::*;
use anchor_spl::token::{self, Transfer};

use crate::constants::EXCHANGE_SEED;
use crate::math::fixed::bytes32_eq;

/// The two keys an instruction checks of a user's SPL Token account (a deposit's source, a
/// withdrawal's destination).
pub struct TokenAccountKeys {
    pub mint: Pubkey,
    pub owner: Pubkey,
}

/// SPL Token's account layout: mint 0..32, owner 32..64, ..., state at 108; 165 bytes.
const TOKEN_ACCOUNT_LEN: usize = 165;
const TOKEN_ACCOUNT_STATE: usize = 108;

/// A user's token account read from its bytes, with the checks and errors of
/// `Account<TokenAccount>` (owner program first, then a 165-byte initialized or frozen account),
/// but without unpacking the other fields (about 1,500 CU on SBF): the token program checks the
/// rest in the transfer. Only the token program writes accounts it owns, so the layout holds.
pub fn token_account_keys(info: &AccountInfo) -> Result<TokenAccountKeys> {
    if !bytes32_eq(info.owner.as_ref(), &token::ID.to_bytes()) {
        return Err(Error::from(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*info.owner, token::ID)));
    }
    let data = info.try_borrow_data()?;
    if data.len() != TOKEN_ACCOUNT_LEN || !matches!(data[TOKEN_ACCOUNT_STATE], 1 | 2) {
        return Err(ProgramError::InvalidAccountData.into());
    }
    let key = |at: usize| Pubkey::new_from_array(data[at..at + 32].try_into().unwrap());
    Ok(TokenAccountKeys { mint: key(0), owner: key(32) })
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
