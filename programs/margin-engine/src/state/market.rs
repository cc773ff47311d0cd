use anchor_lang::prelude::*;

use crate::constants::*;

/// `require!` for a list of bounds that share one error code: the first one that fails is named
/// in the program log (`parameter out of bounds: <condition>`), so a refused governance change
/// says which field.
macro_rules! require_bounds {
    ($($cond:expr),+ $(,)?) => {
        $(
            if !($cond) {
                msg!("parameter out of bounds: {}", stringify!($cond));
                return err!(ErrorCode::MarketParamOutOfBounds);
            }
        )+
    };
}
use crate::error::ErrorCode;
use crate::math::breaker::{implied_status, MarketMode};
use crate::math::margin::{liquidation_buffer_in_force, MarginParams};
use crate::math::volatility::{VolParams, VolState, STRESSED};

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
    /// Hard maximum age of a price for any action, liquidation included, measured on the
    /// publish time (the posted slot is chosen by whoever posts the update).
    pub max_age_seconds_liquidation: u32,
    /// The fallback (Switchboard) price is refused when it is further than this (ppm) from the
    /// market's last valid price: it has no EMA of its own to be checked against.
    pub fallback_max_divergence: u32,
}

/// Risk parameters of a market, ppm unless stated.
#[zero_copy]
#[derive(Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(deny_unknown_fields))]
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
    /// Volatility-adjusted margin (see `math::volatility`): the per-slot variance of returns
    /// (ppm²) the ratios are calibrated for.
    pub vol_reference_variance: u64,
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
    /// Circuit breaker: a move beyond the soft band (vs the price at the window start) trips
    /// reduce-only, beyond the hard band trips halt; so does an oracle further than the divergence
    /// limit from its own EMA. It resets after `breaker_cooldown_slots` of calm prices.
    pub breaker_soft_band: u32,
    pub breaker_hard_band: u32,
    pub breaker_window_slots: u32,
    pub breaker_cooldown_slots: u32,
    pub oracle_divergence_limit: u32,
    /// Insurance paid for this market in one period above this share of the fund (ppm) sets the
    /// market reduce-only until the period ends.
    pub insurance_drawdown_limit: u32,
    pub vol_short_half_life_slots: u32,
    pub vol_long_half_life_slots: u32,
    /// Cap of the volatility multiplier (ppm; 1,000,000 switches the adjustment off).
    pub vol_max_multiplier: u32,
    pub vol_decay_per_slot: u32,
    pub vol_maintenance_rise_per_slot: u32,
    pub regime_enter_ratio: u32,
    pub regime_exit_ratio: u32,
    pub regime_jump: u32,
    pub regime_min_slots: u32,
    /// Added to every initial ratio while the market is STRESSED (ppm).
    pub stressed_initial_addon: u32,
    /// Share (ppm) of the initial ratio in force (volatility multiplier and STRESSED add-on
    /// included) that a partial liquidation restores at least, in CALM and in STRESSED: where it
    /// lies above maintenance + buffer, the liquidation target rises with volatility. 0: the
    /// buffer alone.
    pub liquidation_initial_share: u32,
    pub stressed_liquidation_initial_share: u32,
}

impl RiskParams {
    /// What liquidation costs an account, ppm of notional (`liquidation_fee + insurance_fee`): the
    /// most a risk-reducing fill below maintenance, or a keeper-matched market order, may give up.
    pub fn liquidation_allowance(&self) -> u32 {
        self.liquidation_fee.saturating_add(self.insurance_fee)
    }

    /// Hard bounds no governance action can cross.
    pub fn validate(&self) -> Result<()> {
        require!(self.initial_margin_ratio > self.maintenance_margin_ratio, ErrorCode::InitialNotAboveMaintenance);
        // Taking over a position must always improve the liquidated account's maintenance health,
        // even at the escalated fee (which stays below maintenance − insurance fee).
        require!(
            self.maintenance_margin_ratio as u64 > self.liquidation_fee as u64 + self.insurance_fee as u64,
            ErrorCode::MaintenanceNotAboveLiquidationFee
        );
        // Each bound on its own line: a refusal logs the condition that failed.
        require_bounds!(
            self.maintenance_margin_ratio >= MIN_MAINTENANCE_MARGIN_RATIO,
            self.initial_margin_ratio <= MAX_INITIAL_MARGIN_RATIO,
            self.size_premium_factor <= MAX_SIZE_PREMIUM_FACTOR,
            self.insurance_fee <= MAX_INSURANCE_FEE,
            self.pnl_initial_haircut <= MAX_PNL_INITIAL_HAIRCUT,
            self.liquidation_buffer <= MAX_LIQUIDATION_BUFFER,
            self.taker_fee <= MAX_TRADING_FEE,
            self.maker_fee <= MAX_TRADING_FEE,
            self.fee_insurance_share as u64 + self.filler_reward_share as u64 <= RATIO_PRECISION,
            self.fill_price_band > 0,
            self.fill_price_band <= MAX_FILL_PRICE_BAND,
            (MIN_FUNDING_PERIOD_SLOTS..=MAX_FUNDING_PERIOD_SLOTS).contains(&self.funding_period_slots),
            self.max_funding_rate <= MAX_FUNDING_RATE,
            self.liquidation_throttle_initial > 0,
            self.liquidation_throttle_initial <= RATIO_PRECISION as u32,
            self.liquidation_throttle_per_slot <= RATIO_PRECISION as u32,
            self.insurance_draw_period_slots > 0,
            self.adl_price_band > 0,
            self.adl_price_band <= MAX_ADL_PRICE_BAND,
            self.breaker_soft_band > 0,
            self.breaker_soft_band < self.breaker_hard_band,
            self.breaker_hard_band <= MAX_BREAKER_BAND,
            self.breaker_window_slots > 0,
            self.breaker_cooldown_slots > 0,
            self.oracle_divergence_limit > 0,
            self.oracle_divergence_limit <= MAX_BREAKER_BAND,
            self.insurance_drawdown_limit > 0,
            self.insurance_drawdown_limit <= RATIO_PRECISION as u32,
            self.vol_reference_variance > 0,
            self.vol_short_half_life_slots > 0,
            self.vol_short_half_life_slots < self.vol_long_half_life_slots,
            (RATIO_PRECISION as u32..=MAX_VOL_MULTIPLIER).contains(&self.vol_max_multiplier),
            self.vol_decay_per_slot > 0,
            self.vol_maintenance_rise_per_slot > 0,
            self.regime_exit_ratio >= RATIO_PRECISION as u32,
            self.regime_enter_ratio > self.regime_exit_ratio,
            self.regime_jump > 0,
            self.stressed_initial_addon <= MAX_STRESSED_ADDON,
            self.liquidation_initial_share <= MAX_LIQUIDATION_INITIAL_SHARE,
            self.stressed_liquidation_initial_share <= MAX_LIQUIDATION_INITIAL_SHARE,
            self.max_open_interest > 0,
            self.tick_size > 0,
            self.step_size > 0,
            self.min_order_size >= self.step_size,
            self.min_order_size % self.step_size == 0,
        );
        Ok(())
    }

    /// True when `self` (new) is at least as safe as `old` in every field and changes only fields
    /// with a clear safe direction: margins, premium, haircut and buffer up; open-interest cap,
    /// fill band, funding cap, breaker bands and the insurance drawdown limit down. Anything else
    /// counts as loosening and waits for the timelock.
    pub fn is_tightening_of(&self, old: &RiskParams) -> bool {
        let up = self.initial_margin_ratio >= old.initial_margin_ratio
            && self.maintenance_margin_ratio >= old.maintenance_margin_ratio
            && self.size_premium_factor >= old.size_premium_factor
            && self.pnl_initial_haircut >= old.pnl_initial_haircut
            && self.liquidation_buffer >= old.liquidation_buffer
            && self.vol_max_multiplier >= old.vol_max_multiplier
            && self.stressed_initial_addon >= old.stressed_initial_addon
            && self.liquidation_initial_share >= old.liquidation_initial_share
            && self.stressed_liquidation_initial_share >= old.stressed_liquidation_initial_share;
        let down = self.max_open_interest <= old.max_open_interest
            && self.fill_price_band <= old.fill_price_band
            && self.max_funding_rate <= old.max_funding_rate
            && self.breaker_soft_band <= old.breaker_soft_band
            && self.breaker_hard_band <= old.breaker_hard_band
            && self.oracle_divergence_limit <= old.oracle_divergence_limit
            && self.insurance_drawdown_limit <= old.insurance_drawdown_limit;
        let unchanged = RiskParams {
            initial_margin_ratio: old.initial_margin_ratio,
            maintenance_margin_ratio: old.maintenance_margin_ratio,
            size_premium_factor: old.size_premium_factor,
            pnl_initial_haircut: old.pnl_initial_haircut,
            liquidation_buffer: old.liquidation_buffer,
            vol_max_multiplier: old.vol_max_multiplier,
            stressed_initial_addon: old.stressed_initial_addon,
            liquidation_initial_share: old.liquidation_initial_share,
            stressed_liquidation_initial_share: old.stressed_liquidation_initial_share,
            max_open_interest: old.max_open_interest,
            fill_price_band: old.fill_price_band,
            max_funding_rate: old.max_funding_rate,
            breaker_soft_band: old.breaker_soft_band,
            breaker_hard_band: old.breaker_hard_band,
            oracle_divergence_limit: old.oracle_divergence_limit,
            insurance_drawdown_limit: old.insurance_drawdown_limit,
            ..*self
        } == *old;
        up && down && unchanged
    }

    /// Margin parameters before any volatility adjustment.
    pub fn base_margin_params(&self) -> MarginParams {
        MarginParams {
            initial_margin_ratio: self.initial_margin_ratio,
            maintenance_margin_ratio: self.maintenance_margin_ratio,
            size_premium_factor: self.size_premium_factor,
            pnl_initial_haircut: self.pnl_initial_haircut,
            liquidation_buffer: self.liquidation_buffer,
            initial_multiplier: RATIO_PRECISION as u32,
            maintenance_multiplier: RATIO_PRECISION as u32,
            initial_addon: 0,
        }
    }

    pub fn vol_params(&self) -> VolParams {
        VolParams {
            reference_variance: self.vol_reference_variance,
            short_half_life_slots: self.vol_short_half_life_slots,
            long_half_life_slots: self.vol_long_half_life_slots,
            max_multiplier: self.vol_max_multiplier,
            decay_per_slot: self.vol_decay_per_slot,
            maintenance_rise_per_slot: self.vol_maintenance_rise_per_slot,
            regime_enter_ratio: self.regime_enter_ratio,
            regime_exit_ratio: self.regime_exit_ratio,
            regime_jump: self.regime_jump,
            regime_min_slots: self.regime_min_slots,
        }
    }
}

impl OracleConfig {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.max_staleness_slots_trading <= self.max_staleness_slots_margin,
            ErrorCode::StalenessConfigInvalid
        );
        // Each bound on its own line: a refusal logs the condition that failed.
        require_bounds!(
            self.max_staleness_slots_trading >= MIN_STALENESS_SLOTS,
            self.max_staleness_slots_margin <= MAX_STALENESS_SLOTS,
            self.max_staleness_seconds > 0,
            self.max_staleness_seconds <= MAX_STALENESS_SECONDS,
            self.max_confidence_ratio > 0,
            self.max_confidence_ratio <= MAX_CONFIDENCE_RATIO,
            self.max_age_seconds_liquidation >= self.max_staleness_seconds,
            self.max_age_seconds_liquidation <= MAX_LIQUIDATION_PRICE_AGE_SECONDS,
            self.fallback_max_divergence > 0,
            self.fallback_max_divergence <= MAX_BREAKER_BAND,
            self.pyth_feed_id != [0u8; 32],
        );
        Ok(())
    }

    pub fn has_switchboard(&self) -> bool {
        !crate::math::fixed::bytes32_eq(self.switchboard_feed.as_ref(), &[0u8; 32])
    }
}

/// Flags of `Market::status`, set by people or by the insurance breaker (the price breaker has its
/// own `breaker_status`).
pub mod market_status {
    pub const ACTIVE: u8 = 0;
    /// Guardian or governance: no new risk.
    pub const GUARDIAN_REDUCE_ONLY: u8 = 1 << 0;
    /// The insurance fund paid out more than its drawdown limit this period.
    pub const INSURANCE_DRAWDOWN: u8 = 1 << 1;
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
    /// Last valid price accepted from an oracle by any instruction, and when.
    pub last_oracle_price: u64,
    pub last_oracle_slot: u64,
    /// Newest publish time accepted from each source: nothing older is ever accepted again
    /// (replay protection; Pyth updates can be posted by anyone, historical ones included).
    pub last_pyth_publish_time: i64,
    pub last_switchboard_publish_time: i64,
    /// Growth-limited price (Mango's stable price) that positive PnL is valued at in initial
    /// health, so a pump cannot be withdrawn or levered against at once; see `math::stable_price`.
    pub stable_price: u64,
    pub stable_price_slot: u64,
    /// Time-weighted averages over one funding period: of oracle prices and of fill prices.
    pub oracle_twap: u64,
    pub oracle_twap_slot: u64,
    pub mark_twap: u64,
    pub mark_twap_slot: u64,
    /// The mark level fills set (size-weighted, decaying to the oracle between fills): the mark
    /// TWAP is its time average (`math::funding::advance_mark`).
    pub mark_price: u64,
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
    /// Σ `quote_amount` of every open position here. With Σ base = 0 this is the unrealised PnL
    /// of the whole market, so `collateral vault == exchange.total_collateral + Σ markets
    /// (total_position_quote + funding_pool) + exchange.fee_pool` is checkable in O(markets).
    pub total_position_quote: i64,
    /// Running totals of the loss waterfall, for anyone to audit.
    pub insurance_paid_total: u64,
    /// The part of `insurance_paid_total` that covered negative equity (the rest paid liquidators'
    /// closing fees and keeper bounties).
    pub insurance_deficit_total: u64,
    pub adl_base_total: u64,
    /// Loss ADL counterparties absorbed relative to the oracle price (quote native).
    pub adl_loss_total: u64,
    /// Fund balance when the current insurance draw period began (drawdown breaker base).
    pub insurance_fund_at_period_start: u64,
    /// Price circuit breaker (see `math::breaker`).
    pub breaker_reference_price: u64,
    pub breaker_window_start_slot: u64,
    pub breaker_calm_since_slot: u64,
    pub breaker_last_price: u64,
    pub breaker_trip_count: u64,
    /// A loosening risk change waiting out the timelock, and when it may execute.
    pub pending_risk: RiskParams,
    pub pending_risk_ready_slot: u64,
    /// Volatility state (see `math::volatility`).
    pub vol_last_price: u64,
    pub vol_last_slot: u64,
    pub var_short: u64,
    pub var_long: u64,
    pub regime_since_slot: u64,
    pub initial_multiplier: u32,
    pub maintenance_multiplier: u32,
    pub breaker_status: u8,
    pub has_pending_risk: u8,
    pub regime: u8,
    pub _padding2: [u8; 5],
    pub market_index: u16,
    pub status: u8,
    pub bump: u8,
    pub _padding: [u8; 4],
}

impl Market {
    pub const SPACE: usize = 8 + core::mem::size_of::<Market>();

    pub fn breaker_state(&self) -> crate::math::breaker::BreakerState {
        crate::math::breaker::BreakerState {
            status: crate::math::breaker::MarketMode::from_u8(self.breaker_status),
            reference_price: self.breaker_reference_price,
            window_start_slot: self.breaker_window_start_slot,
            calm_since_slot: self.breaker_calm_since_slot,
            last_price: self.breaker_last_price,
        }
    }

    pub fn set_breaker_state(&mut self, s: &crate::math::breaker::BreakerState) {
        self.breaker_status = s.status as u8;
        self.breaker_reference_price = s.reference_price;
        self.breaker_window_start_slot = s.window_start_slot;
        self.breaker_calm_since_slot = s.calm_since_slot;
        self.breaker_last_price = s.last_price;
    }

    pub fn breaker_params(&self) -> crate::math::breaker::BreakerParams {
        crate::math::breaker::BreakerParams {
            soft_band: self.risk.breaker_soft_band,
            hard_band: self.risk.breaker_hard_band,
            window_slots: self.risk.breaker_window_slots as u64,
            cooldown_slots: self.risk.breaker_cooldown_slots as u64,
            divergence_limit: self.risk.oracle_divergence_limit,
        }
    }

    /// Margin parameters in force: the risk parameters scaled by the volatility multipliers, plus
    /// the STRESSED add-on on initial margin, and the liquidation buffer that restores the
    /// regime's share of that initial margin.
    pub fn margin_params(&self) -> MarginParams {
        let stressed = self.regime == STRESSED;
        let params = MarginParams {
            initial_multiplier: self.initial_multiplier,
            maintenance_multiplier: self.maintenance_multiplier,
            initial_addon: if stressed { self.risk.stressed_initial_addon } else { 0 },
            ..self.risk.base_margin_params()
        };
        let share =
            if stressed { self.risk.stressed_liquidation_initial_share } else { self.risk.liquidation_initial_share };
        MarginParams { liquidation_buffer: liquidation_buffer_in_force(&params, share), ..params }
    }

    pub fn vol_state(&self) -> VolState {
        VolState {
            last_price: self.vol_last_price,
            last_slot: self.vol_last_slot,
            var_short: self.var_short,
            var_long: self.var_long,
            initial_multiplier: self.initial_multiplier,
            maintenance_multiplier: self.maintenance_multiplier,
            regime: self.regime,
            regime_since_slot: self.regime_since_slot,
        }
    }

    pub fn set_vol_state(&mut self, s: &VolState) {
        self.vol_last_price = s.last_price;
        self.vol_last_slot = s.last_slot;
        self.var_short = s.var_short;
        self.var_long = s.var_long;
        self.initial_multiplier = s.initial_multiplier;
        self.maintenance_multiplier = s.maintenance_multiplier;
        self.regime = s.regime;
        self.regime_since_slot = s.regime_since_slot;
    }

    /// What the people and the insurance breaker alone impose at `slot`. The drawdown flag lapses
    /// with its insurance period, even before anyone rolls the period over.
    pub fn manual_mode(&self, slot: u64) -> MarketMode {
        let drawdown = self.status & market_status::INSURANCE_DRAWDOWN != 0
            && slot < self.insurance_period_start_slot.saturating_add(self.risk.insurance_draw_period_slots);
        if self.status & market_status::GUARDIAN_REDUCE_ONLY != 0 || drawdown {
            MarketMode::ReduceOnly
        } else {
            MarketMode::Normal
        }
    }

    /// The stored breaker status.
    pub fn breaker_mode(&self) -> MarketMode {
        MarketMode::from_u8(self.breaker_status)
    }

    /// The market's mode for `price` (with its feed's EMA, 0 = unknown) at `slot`: the strictest
    /// of the people's flags, the stored breaker status and what this price implies on its own (so
    /// a jump stops new risk even before anyone persists the trip). The one function behind every
    /// mode: handlers call it, and the SDK and keeper get it through `MarketSnapshot`.
    pub fn mode(&self, price: u64, ema: u64, slot: u64) -> MarketMode {
        let implied = implied_status(&self.breaker_state(), &self.breaker_params(), price, ema, slot);
        self.manual_mode(slot).max(self.breaker_mode()).max(implied)
    }

    /// The stable price for an accepted `price` at `slot` (what `on_price` stores for a valid
    /// one): a stale price does not move it, and an unset one starts at the price.
    pub fn stable_price_at(&self, price: u64, valid: bool, slot: u64) -> u64 {
        let at = if valid { slot } else { self.stable_price_slot };
        crate::math::stable_price::follow(self.stable_price, self.stable_price_slot, price, at)
    }
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
