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
