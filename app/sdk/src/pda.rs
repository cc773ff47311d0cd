//! Program-derived addresses, mirroring the seeds in `margin_engine::constants`.
use anchor_lang::prelude::Pubkey;
use margin_engine::constants::*;
use margin_engine::ID;

pub fn exchange() -> Pubkey {
    Pubkey::find_program_address(&[EXCHANGE_SEED], &ID).0
}

pub fn collateral_vault() -> Pubkey {
    Pubkey::find_program_address(&[COLLATERAL_VAULT_SEED], &ID).0
}

pub fn insurance_vault() -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_VAULT_SEED], &ID).0
}

pub fn insurance_stake(owner: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_STAKE_SEED, owner.as_ref()], &ID).0
}

pub fn market(index: u16) -> Pubkey {
    Pubkey::find_program_address(&[MARKET_SEED, &index.to_le_bytes()], &ID).0
}

pub fn margin_account(owner: &Pubkey, sub_account_id: u16) -> Pubkey {
    Pubkey::find_program_address(&[MARGIN_ACCOUNT_SEED, owner.as_ref(), &sub_account_id.to_le_bytes()], &ID).0
}

/// The program's ProgramData account (upgradeable loader): `initialize_exchange` checks that its
/// upgrade authority pays.
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(
        &[margin_engine::ID.as_ref()],
        &anchor_lang::solana_program::bpf_loader_upgradeable::ID,
    )
    .0
}

/// The bytes of an upgradeable loader `ProgramData` header with `upgrade_authority` (bincode:
/// enum tag 3, slot, `Option<Pubkey>`): what the loader stores in front of the program's code.
/// Test chains that load the program non-upgradeably write it so `initialize_exchange` can run.
pub fn program_data_header(upgrade_authority: Option<Pubkey>) -> Vec<u8> {
    let mut data = 3u32.to_le_bytes().to_vec();
    data.extend_from_slice(&0u64.to_le_bytes());
    match upgrade_authority {
        Some(key) => {
            data.push(1);
            data.extend_from_slice(key.as_ref());
        }
        None => data.push(0),
    }
    data
}
