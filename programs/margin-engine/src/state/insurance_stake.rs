use anchor_lang::prelude::*;

/// One staker's insurance-fund position: PDA `["insurance_stake", owner]`.
#[account(zero_copy)]
pub struct InsuranceStake {
    pub owner: Pubkey,
    pub shares: u64,
    /// Shares under an unstake request, their value when requested, and when.
    pub unstake_shares: u64,
    pub unstake_value: u64,
    pub unstake_request_slot: u64,
    /// Last slot shares were added: they cannot be requested for unstaking for one cooldown, so
    /// staking just before a fee inflow means underwriting the fund for two cooldowns.
    pub last_stake_slot: u64,
    pub bump: u8,
    pub _padding: [u8; 7],
}

impl InsuranceStake {
    pub const SPACE: usize = 8 + core::mem::size_of::<InsuranceStake>();
}
