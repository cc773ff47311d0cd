use anchor_lang::prelude::*;

/// Instruction groups the global gate can close (bits of `Exchange::paused_operations`).
pub mod paused_operations {
    pub const DEPOSIT: u16 = 1 << 0;
    pub const WITHDRAW: u16 = 1 << 1;
    /// The same bits under names that do not clash with the instruction gates of the same name.
    pub const DEPOSIT_BIT: u16 = DEPOSIT;
    pub const WITHDRAW_BIT: u16 = WITHDRAW;
    pub const TRADING: u16 = 1 << 2;
    pub const LIQUIDATION: u16 = 1 << 3;
    pub const FUNDING: u16 = 1 << 4;
    pub const ACCOUNT_LIFECYCLE: u16 = 1 << 5;
    pub const INSURANCE: u16 = 1 << 6;
    pub const ALL: u16 = (1 << 7) - 1;
    /// What the guardian may close: only groups that add risk or move money out. Deposits
    /// (they only add collateral), funding, account lifecycle and liquidation (de-risking) are
    /// governance's to stop.
    pub const GUARDIAN_PAUSABLE: u16 = WITHDRAW | TRADING | INSURANCE;
}

/// The singleton: who governs, where the money is, and the global gate.
#[account(zero_copy)]
pub struct Exchange {
    /// Governance: any signer key, e.g. a multisig vault PDA.
    pub authority: Pubkey,
    /// Proposed new governance; becomes `authority` when it signs `accept_authority`.
    pub pending_authority: Pubkey,
    /// Can only make things safer (close gates, set reduce-only).
    pub guardian: Pubkey,
    pub collateral_mint: Pubkey,
    /// PDA token account holding every margin account's collateral.
    pub collateral_vault: Pubkey,
    /// PDA token account holding the insurance fund.
    pub insurance_vault: Pubkey,
    /// Σ margin-account collateral. Invariant: equals the collateral vault balance.
    pub total_collateral: i64,
    /// Protocol share of trading fees and rounding surplus, held in the collateral vault.
    pub fee_pool: u64,
    /// Insurance-fund shares: all of them, and the protocol's own (fee revenue). The fund's value
    /// is the insurance vault balance.
    pub insurance_total_shares: u64,
    pub insurance_protocol_shares: u64,
    pub insurance_unstake_cooldown_slots: u64,
    /// Governance may withdraw protocol revenue only while the fund stays above this.
    pub insurance_revenue_floor: u64,
    /// Slots a loosening risk change must wait before it can execute.
    pub risk_timelock_slots: u64,
    /// Margin accounts flagged BANKRUPT right now: a loss the insurance fund may yet pay, so no
    /// stake leaves while it is above zero.
    pub bankrupt_accounts: u64,
    pub market_count: u16,
    /// Bitmask of `paused_operations`.
    pub paused_operations: u16,
    pub bump: u8,
    pub collateral_vault_bump: u8,
    pub insurance_vault_bump: u8,
    pub collateral_decimals: u8,
}

impl Exchange {
    pub const SPACE: usize = 8 + core::mem::size_of::<Exchange>();

    pub fn is_paused(&self, operation: u16) -> bool {
        self.paused_operations & operation != 0
    }

    /// The instruction gate: `gate` is the instruction's entry in `instructions::gates`.
    pub fn require_open(&self, gate: u16) -> Result<()> {
        require!(!self.is_paused(gate), crate::error::ErrorCode::OperationPaused);
        Ok(())
    }

    /// The keys allowed to make things safer: the guardian, and governance itself.
    pub fn is_guardian_or_governance(&self, key: &Pubkey) -> bool {
        *key == self.guardian || *key == self.authority
    }
}
