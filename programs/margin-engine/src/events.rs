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

#[event]
pub struct OrderPlaced {
    pub margin_account: Pubkey,
    pub order_id: u64,
    pub client_order_id: u64,
    pub market_index: u16,
    pub side: u8,
    pub price: u64,
    pub base_amount: u64,
}

/// A trigger order's condition was met: it is now live (or, reduce-only with nothing left to
/// reduce, cancelled).
#[event]
pub struct OrderTriggered {
    pub margin_account: Pubkey,
    pub order_id: u64,
    pub market_index: u16,
    pub oracle_price: u64,
    pub keeper_fee: u64,
    pub cancelled: bool,
}

#[event]
pub struct OrdersCancelled {
    pub margin_account: Pubkey,
    pub count: u32,
}

#[event]
pub struct OrderFilled {
    pub market_index: u16,
    pub taker: Pubkey,
    pub maker: Pubkey,
    pub taker_order_id: u64,
    pub maker_order_id: u64,
    /// Side of the taker (0 bid, 1 ask).
    pub taker_side: u8,
    pub price: u64,
    pub base_amount: u64,
    pub taker_fee: u64,
    pub maker_fee: u64,
    pub insurance_share: u64,
    pub filler_reward: u64,
    pub protocol_share: u64,
}

#[event]
pub struct FundingUpdated {
    pub market_index: u16,
    pub mark_twap: u64,
    pub oracle_twap: u64,
    pub payment_per_base: i64,
    pub cumulative_funding_long: i64,
    pub cumulative_funding_short: i64,
}

#[event]
pub struct LiquidationStepped {
    pub target: Pubkey,
    pub liquidator: Pubkey,
    pub market_index: u16,
    /// Signed base moved out of the target's position (positive: a long was reduced).
    pub base_amount: i64,
    pub price: u64,
    pub liquidator_fee: u64,
    pub insurance_fee: u64,
    pub liquidator_fee_rate: u32,
    pub maintenance_health_before: i64,
    pub maintenance_health_after: i64,
    /// Still flagged after this step (buffer not yet reached)?
    pub still_liquidating: bool,
    pub slot: u64,
}

#[event]
pub struct LiquidationEnded {
    pub target: Pubkey,
    pub liquidation_health: i64,
    pub slot: u64,
}

#[event]
pub struct AccountWentBankrupt {
    pub target: Pubkey,
    pub equity: i64,
    pub slot: u64,
}

#[event]
pub struct InsuranceStaked {
    pub owner: Pubkey,
    pub amount: u64,
    pub shares: u64,
}

#[event]
pub struct UnstakeRequested {
    pub owner: Pubkey,
    pub shares: u64,
    pub value: u64,
    pub slot: u64,
}

#[event]
pub struct Unstaked {
    pub owner: Pubkey,
    pub shares: u64,
    pub amount: u64,
}

#[event]
pub struct ProtocolRevenueWithdrawn {
    pub amount: u64,
    pub fund_after: u64,
}

#[event]
pub struct BankruptcyResolved {
    pub target: Pubkey,
    pub market_index: u16,
    pub deficit: u64,
    pub covered: u64,
    pub bounty: u64,
    pub fully_covered: bool,
}

#[event]
pub struct AutoDeleveraged {
    pub target: Pubkey,
    pub candidate: Pubkey,
    pub market_index: u16,
    /// Base closed on the bankrupt side (signed as the bankrupt position was).
    pub base_amount: i64,
    pub price: u64,
    pub score: u64,
}

#[event]
pub struct LossSocialized {
    pub target: Pubkey,
    pub market_index: u16,
    pub loss: u64,
    pub index_delta: i64,
}

#[event]
pub struct BreakerTripped {
    pub market_index: u16,
    pub from: u8,
    pub to: u8,
    pub price: u64,
    pub reference_price: u64,
    pub ema_price: u64,
    pub slot: u64,
}

#[event]
pub struct BreakerReset {
    pub market_index: u16,
    pub price: u64,
    pub slot: u64,
}

#[event]
pub struct InsuranceDrawdownTripped {
    pub market_index: u16,
    pub drawn_in_period: u64,
    pub fund_at_period_start: u64,
}

#[event]
pub struct OperationsChanged {
    pub by: Pubkey,
    pub paused_before: u16,
    pub paused_after: u16,
}

#[event]
pub struct MarketStatusChanged {
    pub market_index: u16,
    pub by: Pubkey,
    pub status_before: u8,
    pub status_after: u8,
}

#[event]
pub struct AuthorityChanged {
    pub old_authority: Pubkey,
    pub new_authority: Pubkey,
    /// false: proposed; true: accepted.
    pub accepted: bool,
}

#[event]
pub struct GuardianChanged {
    pub old_guardian: Pubkey,
    pub new_guardian: Pubkey,
}

#[event]
pub struct RiskParamsChanged {
    pub market_index: u16,
    pub old: crate::state::RiskParams,
    pub new: crate::state::RiskParams,
    /// true: applied now (tightening or executed); false: queued behind the timelock.
    pub applied: bool,
    pub ready_slot: u64,
}

#[event]
pub struct RiskChangeCancelled {
    pub market_index: u16,
    pub by: Pubkey,
}

#[event]
pub struct RegimeChanged {
    pub market_index: u16,
    /// `math::volatility` CALM (0) or STRESSED (1).
    pub regime: u8,
    /// σ_short / σ_long, ppm.
    pub sigma_ratio: u64,
    pub var_short: u64,
    pub var_long: u64,
    pub initial_multiplier: u32,
    pub maintenance_multiplier: u32,
    pub slot: u64,
}
