use anchor_lang::prelude::*;

#[event]
pub struct ExchangeInitialized {
    pub authority: Pubkey,
    pub guardian: Pubkey,
    pub collateral_mint: Pubkey,
}

#[event]
pub struct MarketCreated {
    pub market_index: u16,
    pub name: [u8; 16],
    pub initial_margin_ratio: u32,
    pub maintenance_margin_ratio: u32,
}

#[event]
pub struct CollateralDeposited {
    pub margin_account: Pubkey,
    pub depositor: Pubkey,
    pub amount: u64,
    pub collateral_after: i64,
}

#[event]
pub struct CollateralWithdrawn {
    pub margin_account: Pubkey,
    pub amount: u64,
    pub collateral_after: i64,
    pub initial_health_after: i64,
}
