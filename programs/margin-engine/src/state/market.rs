use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::math::margin::MarginParams;

/// Oracle configuration of a market. Borsh layout equals the Pod layout (no padding), so the same
/// struct is both the instruction argument and the stored field.
#[zero_copy]
#[derive(Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct OracleConfig {
    /// Pyth price feed id the `PriceUpdateV2` must carry.
    pub pyth_feed_id: [u8; 32],
    /// Switchboard On-Demand pull feed used when Pyth is unusable; default key = none.
    pub switchboard_feed: Pubkey,
    /// Older than this (slots) and the price is unusable for margin checks.
    pub max_staleness_slots_margin: u32,
    /// Older than this (slots) and the price is unusable for new risk.
    pub max_staleness_slots_trading: u32,
    pub max_staleness_seconds: u32,
    /// Confidence interval / price limit, ppm.
    pub max_confidence_ratio: u32,
}

/// Risk parameters of a market, ppm unless stated.
#[zero_copy]
#[derive(Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct RiskParams {
    /// Max open interest per side, base units (1e-9).
    pub max_open_interest: u64,
    /// Smallest order, base units.
    pub min_order_size: u64,
    /// Price increment, quote native units.
    pub tick_size: u64,
    /// Size increment, base units.
    pub step_size: u64,
    /// Most the insurance fund may pay for this market's bankruptcies per period (quote native).
    pub insurance_draw_cap: u64,
    pub insurance_draw_period_slots: u64,
    pub initial_margin_ratio: u32,
    pub maintenance_margin_ratio: u32,
    pub size_premium_factor: u32,
    pub liquidation_fee: u32,
    pub insurance_fee: u32,
    pub pnl_initial_haircut: u32,
    /// Extra health a partial liquidation restores above maintenance, ppm of the requirement.
    pub liquidation_buffer: u32,
    pub taker_fee: u32,
    pub maker_fee: u32,
    /// Shares of every trading fee: to the insurance fund, and to the keeper that filled.
    pub fee_insurance_share: u32,
    pub filler_reward_share: u32,
    /// A fill price must lie within this band around the oracle price.
    pub fill_price_band: u32,
    /// Funding settles at most once per period; the rate per period is clamped to this.
    pub funding_period_slots: u32,
    pub max_funding_rate: u32,
    /// Liquidation throttle: a step may take this share of a position in the slot liquidation
    /// begins, plus `liquidation_throttle_per_slot` for every slot since (ppm, capped at 100%).
    pub liquidation_throttle_initial: u32,
    pub liquidation_throttle_per_slot: u32,
    /// Published ADL eligibility: a candidate's score (PnL% × leverage, ppm) must reach this.
    pub adl_min_score: u32,
    /// The ADL price may lie at most this far from the oracle (ppm).
    pub adl_price_band: u32,
}

impl RiskParams {
    /// Hard bounds no governance action can cross.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.initial_margin_ratio > self.maintenance_margin_ratio,
            ErrorCode::InitialNotAboveMaintenance
        );
        // Taking over a position must always improve the liquidated account's maintenance health,
        // even at the escalated fee (which stays below maintenance − insurance fee).
        require!(
            self.maintenance_margin_ratio as u64 > self.liquidation_fee as u64 + self.insurance_fee as u64,
            ErrorCode::MaintenanceNotAboveLiquidationFee
        );
        require!(
            self.maintenance_margin_ratio >= MIN_MAINTENANCE_MARGIN_RATIO
                && self.initial_margin_ratio <= MAX_INITIAL_MARGIN_RATIO
                && self.size_premium_factor <= MAX_SIZE_PREMIUM_FACTOR
                && self.insurance_fee <= MAX_INSURANCE_FEE
                && self.pnl_initial_haircut <= MAX_PNL_INITIAL_HAIRCUT
                && self.liquidation_buffer <= MAX_LIQUIDATION_BUFFER
                && self.taker_fee <= MAX_TRADING_FEE
                && self.maker_fee <= MAX_TRADING_FEE
                && self.fee_insurance_share as u64 + self.filler_reward_share as u64 <= RATIO_PRECISION
                && self.fill_price_band > 0
                && self.fill_price_band <= MAX_FILL_PRICE_BAND
                && (MIN_FUNDING_PERIOD_SLOTS..=MAX_FUNDING_PERIOD_SLOTS).contains(&self.funding_period_slots)
                && self.max_funding_rate <= MAX_FUNDING_RATE
                && self.liquidation_throttle_initial > 0
                && self.liquidation_throttle_initial <= RATIO_PRECISION as u32
                && self.liquidation_throttle_per_slot <= RATIO_PRECISION as u32
                && self.insurance_draw_period_slots > 0
                && self.adl_price_band > 0
                && self.adl_price_band <= MAX_ADL_PRICE_BAND
                && self.max_open_interest > 0
                && self.tick_size > 0
                && self.step_size > 0
                && self.min_order_size >= self.step_size
                && self.min_order_size % self.step_size == 0,
            ErrorCode::MarketParamOutOfBounds
        );
        Ok(())
    }

    pub fn margin_params(&self) -> MarginParams {
        MarginParams {
            initial_margin_ratio: self.initial_margin_ratio,
            maintenance_margin_ratio: self.maintenance_margin_ratio,
            size_premium_factor: self.size_premium_factor,
            pnl_initial_haircut: self.pnl_initial_haircut,
            liquidation_buffer: self.liquidation_buffer,
        }
    }
}

impl OracleConfig {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.max_staleness_slots_trading <= self.max_staleness_slots_margin,
            ErrorCode::StalenessConfigInvalid
        );
        require!(
            self.max_staleness_slots_trading >= MIN_STALENESS_SLOTS
                && self.max_staleness_slots_margin <= MAX_STALENESS_SLOTS
                && self.max_staleness_seconds > 0
                && self.max_staleness_seconds <= MAX_STALENESS_SECONDS
                && self.max_confidence_ratio > 0
                && self.max_confidence_ratio <= MAX_CONFIDENCE_RATIO
                && self.pyth_feed_id != [0u8; 32],
            ErrorCode::MarketParamOutOfBounds
        );
        Ok(())
    }

    pub fn has_switchboard(&self) -> bool {
        self.switchboard_feed != Pubkey::default()
    }
}

pub mod market_status {
    pub const ACTIVE: u8 = 0;
}

/// One perpetual market: PDA `["market", index as u16 LE]`.
#[account(zero_copy)]
pub struct Market {
    pub oracle: OracleConfig,
    pub risk: RiskParams,
    pub name: [u8; 16],
    /// Open interest, base units, per side. Long == short whenever trades are matched.
    pub open_interest_long: u64,
    pub open_interest_short: u64,
    /// Last price accepted from an oracle by any instruction, and when.
    pub last_oracle_price: u64,
    pub last_oracle_slot: u64,
    /// Time-weighted averages over one funding period: of oracle prices and of fill prices.
    pub oracle_twap: u64,
    pub oracle_twap_slot: u64,
    pub mark_twap: u64,
    pub mark_twap_slot: u64,
    /// Cumulative funding per whole base, quote native × FUNDING_INDEX_SCALE. Longs pay increases
    /// of the long index; shorts receive increases of the short index. Equal unless a loss is
    /// socialised.
    pub cumulative_funding_long: i64,
    pub cumulative_funding_short: i64,
    pub last_funding_slot: u64,
    /// Last rate applied: quote native per whole base for one period (signed, longs pay if > 0).
    pub last_funding_payment: i64,
    /// Funding collected from payers not yet paid to receivers (rounding leaves a surplus here).
    /// A socialised loss is pre-paid out of it and refilled as positions settle.
    pub funding_pool: i64,
    /// Insurance paid for this market in the current period, and when the period began.
    pub insurance_drawn_in_period: u64,
    pub insurance_period_start_slot: u64,
    /// Last slot bad debt appeared here: withdrawals leaning on this market's PnL wait a while.
    pub last_bad_debt_slot: u64,
    pub socialized_loss_total: u64,
    pub market_index: u16,
    pub status: u8,
    pub bump: u8,
    pub _padding: [u8; 4],
}

impl Market {
    pub const SPACE: usize = 8 + core::mem::size_of::<Market>();
}

/// Market names are short ASCII labels such as "SOL-PERP".
pub fn validate_market_name(name: &[u8; 16]) -> Result<()> {
    let len = name.iter().position(|b| *b == 0).unwrap_or(16);
    require!(
        len > 0 && name[..len].iter().all(|b| b.is_ascii_graphic()) && name[len..].iter().all(|b| *b == 0),
        ErrorCode::InvalidMarketName
    );
    Ok(())
}
