//! Read-only planning of a liquidation step from loaded state. The program executes the plan; the
//! SDK and keepers call the same function to know, before sending, what a call will move and earn.
use anchor_lang::prelude::*;

use crate::error::ErrorCode;
use crate::health::{account_health, PriceCache};
use crate::math::liquidation::{liquidator_fee_rate, plan_step, throttle_share, LiquidationInputs, LiquidationStep};
use crate::math::margin::{margin_ratio, HealthKind, HealthReport};
use crate::state::{margin_account_flags, MarginAccount, Market};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidationOutcome {
    /// Take over `step` of the position in this market.
    Step { step: LiquidationStep, fee_rate: u32, position_base: i64 },
    /// Flagged account back above maintenance + buffer: the flag clears.
    End,
    /// Equity below zero: hand over to the bankruptcy waterfall.
    Bankrupt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationPlan {
    pub outcome: LiquidationOutcome,
    pub health: HealthReport,
}

/// Plans the next liquidation call on `target` in `market` at `slot`, after its orders are
/// cancelled (maintenance health ignores orders, so cancelling first changes nothing here).
pub fn plan(
    target: &MarginAccount,
    market: &Market,
    prices: &PriceCache,
    slot: u64,
    max_base: u64,
) -> Result<LiquidationPlan> {
    require!(!target.has_flag(margin_account_flags::BANKRUPT), ErrorCode::AccountBankrupt);
    let health = account_health(target, prices)?;
    let flagged = target.has_flag(margin_account_flags::BEING_LIQUIDATED);
    if !flagged && health.maintenance_health >= 0 {
        return err!(ErrorCode::AccountNotLiquidatable);
    }
    if flagged && health.liquidation_health >= 0 {
        return Ok(LiquidationPlan { outcome: LiquidationOutcome::End, health });
    }
    // Equity below zero goes to the waterfall through any market, a flat account included: the
    // program, not the caller, attributes the loss (`controller::bankruptcy::loss_market`).
    if health.equity() < 0 {
        return Ok(LiquidationPlan { outcome: LiquidationOutcome::Bankrupt, health });
    }
    let position = target
        .positions
        .iter()
        .find(|p| !p.is_empty() && p.market_index == market.market_index && p.base_amount != 0)
        .ok_or(ErrorCode::NoPositionInMarket)?;
    let start = if flagged { target.liquidation_start_slot } else { slot };
    require!(!flagged || target.last_liquidation_slot < slot, ErrorCode::LiquidationThrottled);
    let price = prices.get(market.market_index).ok_or(ErrorCode::MissingMarketAccounts)?.price;
    let risk = &market.risk;
    let idle = slot.saturating_sub(start.max(target.last_liquidation_slot));
    let fee_rate = liquidator_fee_rate(risk.liquidation_fee, risk.maintenance_margin_ratio, risk.insurance_fee, idle);
    let params = market.margin_params();
    let maintenance_ratio = margin_ratio(&params, position.base_amount.unsigned_abs(), HealthKind::Maintenance)?;
    let step = plan_step(&LiquidationInputs {
        position_base_abs: position.base_amount.unsigned_abs(),
        price,
        maintenance_ratio: u64::try_from(maintenance_ratio).map_err(|_| ErrorCode::MathOverflow)?,
        // The buffer in force: with a share of initial margin to restore, it rises with volatility.
        liquidation_buffer: params.liquidation_buffer,
        liquidator_fee: fee_rate,
        insurance_fee: risk.insurance_fee,
        deficit: health.liquidation_health.min(0).unsigned_abs(),
        equity: health.equity(),
        throttle_share: throttle_share(
            risk.liquidation_throttle_initial,
            risk.liquidation_throttle_per_slot,
            slot - start,
        ),
        max_base,
        step_size: risk.step_size,
    })?;
    require!(step.base > 0, ErrorCode::LiquidationTooSmall);
    Ok(LiquidationPlan {
        outcome: LiquidationOutcome::Step { step, fee_rate, position_base: position.base_amount },
        health,
    })
}
