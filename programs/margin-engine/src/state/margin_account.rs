use anchor_lang::prelude::*;

use crate::constants::MAX_POSITIONS;

/// One perp position slot. Empty when `base_amount == 0 && quote_amount == 0`.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PerpPosition {
    /// Signed base amount, 1e-9 units; positive = long.
    pub base_amount: i64,
    /// Signed quote flow of the open position (negative = paid). Realised PnL leaves it for
    /// collateral when the position is reduced.
    pub quote_amount: i64,
    /// Market's cumulative funding index when funding was last settled.
    pub last_cumulative_funding: i64,
    pub market_index: u16,
    pub _padding: [u8; 6],
}

impl PerpPosition {
    pub fn is_empty(&self) -> bool {
        self.base_amount == 0 && self.quote_amount == 0
    }
}

pub mod margin_account_flags {
    pub const BEING_LIQUIDATED: u8 = 1 << 0;
    pub const BANKRUPT: u8 = 1 << 1;
}

/// A trader's cross-margined account: PDA `["margin_account", owner, sub_account_id LE]`, so one
/// owner can hold several isolated sub-accounts.
#[account(zero_copy)]
pub struct MarginAccount {
    pub owner: Pubkey,
    /// May trade, never withdraw. Default key = none.
    pub delegate: Pubkey,
    /// Settled collateral, native units. Signed: a loss beyond collateral is bad debt until the
    /// waterfall resolves it.
    pub collateral: i64,
    pub last_active_slot: u64,
    pub positions: [PerpPosition; MAX_POSITIONS],
    pub sub_account_id: u16,
    pub flags: u8,
    pub bump: u8,
    pub _padding: [u8; 4],
}

impl MarginAccount {
    pub const SPACE: usize = 8 + core::mem::size_of::<MarginAccount>();

    pub fn active_positions(&self) -> impl Iterator<Item = &PerpPosition> {
        self.positions.iter().filter(|p| !p.is_empty())
    }

    pub fn is_flat(&self) -> bool {
        self.active_positions().next().is_none()
    }

    pub fn can_trade(&self, signer: &Pubkey) -> bool {
        self.owner == *signer || (self.delegate != Pubkey::default() && self.delegate == *signer)
    }
}
