//! Partial liquidation, as pure functions the program, the SDK and keepers share.
//!
//! A step moves `base` of one position to the liquidator at the oracle price and charges the
//! liquidated account a liquidator fee and an insurance fee on the moved notional. Per whole base
//! moved, the account's buffered maintenance health rises by `price × (ratio + buffer − fees)`,
//! which is positive because `maintenance > max liquidator fee + insurance fee` is enforced. So the
//! smallest step that restores buffered health to zero is
//! `ceil(deficit / (price × (ratio + buffer − fees)))`, rounded up to the step size, then
//! limited by the throttle and the liquidator's own cap.
use super::fixed::{mul_div_u128, u128_to_u64, Rounding};
use super::MathResult;
use crate::constants::*;
use crate::error::ErrorCode;

/// Liquidator fee (ppm) after `idle_slots` without progress: the base fee until
/// `LIQUIDATION_FEE_RAMP_DELAY_SLOTS`, then rising linearly over `LIQUIDATION_FEE_RAMP_SLOTS` to
/// halfway between the base fee and `maintenance − insurance fee` (always strictly below it).
pub fn liquidator_fee_rate(base_fee: u32, maintenance_ratio: u32, insurance_fee: u32, idle_slots: u64) -> u32 {
    let ceiling = maintenance_ratio.saturating_sub(insurance_fee);
    let cap = base_fee + ceiling.saturating_sub(base_fee) / 2;
    let ramp = idle_slots.saturating_sub(LIQUIDATION_FEE_RAMP_DELAY_SLOTS).min(LIQUIDATION_FEE_RAMP_SLOTS);
    base_fee + ((cap - base_fee) as u64 * ramp / LIQUIDATION_FEE_RAMP_SLOTS) as u32
}

/// Share (ppm) of a position one step may take, `slots` after the liquidation began.
pub fn throttle_share(initial: u32, per_slot: u32, slots: u64) -> u64 {
    (initial as u64).saturating_add((per_slot as u64).saturating_mul(slots)).min(RATIO_PRECISION)
}

/// What one liquidation step of one position needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationInputs {
    /// |base| of the position being liquidated.
    pub position_base_abs: u64,
    pub price: u64,
    /// Maintenance ratio of this position at its current size (ppm, size premium included).
    pub maintenance_ratio: u64,
    pub liquidation_buffer: u32,
    pub liquidator_fee: u32,
    pub insurance_fee: u32,
    /// −(buffered maintenance health) of the whole account; > 0 when liquidatable.
    pub deficit: u128,
    /// Collateral + unrealised PnL: fees never take the account below zero.
    pub equity: i128,
    /// Share of the position this step may take (ppm).
    pub throttle_share: u64,
    /// The liquidator's own cap.
    pub max_base: u64,
    pub step_size: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiquidationStep {
    pub base: u64,
    /// Notional moved, rounded down.
    pub notional: u64,
    pub liquidator_fee: u64,
    pub insurance_fee: u64,
}

const ROUNDING_PAD: u128 = 4;

/// Base needed to bring buffered health back to zero (before throttle and caps).
pub fn base_to_restore(inputs: &LiquidationInputs) -> MathResult<u64> {
    let gain_ratio = (inputs.maintenance_ratio + inputs.liquidation_buffer as u64)
        .saturating_sub(inputs.liquidator_fee as u64 + inputs.insurance_fee as u64);
    if inputs.deficit == 0 {
        return Ok(0);
    }
    if gain_ratio == 0 || inputs.price == 0 {
        return Ok(inputs.position_base_abs);
    }
    // deficit [quote] × 1e9 [base/whole] × 1e6 [ppm] / (price [quote/whole] × ratio [ppm]). The
    // deficit is padded by the units the step's own rounding can cost (quote, PnL, requirement,
    // fee: one each), so the buffer is reached exactly rather than missed by a unit.
    let per_unit = (inputs.price as u128).checked_mul(gain_ratio as u128).ok_or(ErrorCode::MathOverflow)?;
    let padded = inputs.deficit.checked_add(ROUNDING_PAD).ok_or(ErrorCode::MathOverflow)?;
    let scaled = padded.checked_mul(BASE_PRECISION as u128).ok_or(ErrorCode::MathOverflow)?;
    let base = mul_div_u128(scaled, RATIO_PRECISION as u128, per_unit, Rounding::Up)?;
    Ok(u64::try_from(base).unwrap_or(u64::MAX).min(inputs.position_base_abs))
}

/// Sizes one step. Dust positions and dust shortfalls are taken whole (no throttle); otherwise the
/// step is what restores the buffer, rounded up to the step size, limited by the throttle share
/// and the liquidator's cap. Fees are charged on the moved notional and never push equity below 0.
pub fn plan_step(inputs: &LiquidationInputs) -> MathResult<LiquidationStep> {
    let needed = base_to_restore(inputs)?;
    let position_notional =
        mul_div_u128(inputs.position_base_abs as u128, inputs.price as u128, BASE_PRECISION as u128, Rounding::Down)?;
    // A 100% buffer is binary (close everything), as naive engines do.
    let dust_position =
        position_notional <= DUST_NOTIONAL as u128 || inputs.liquidation_buffer as u64 >= RATIO_PRECISION;
    let mut base = if dust_position { inputs.position_base_abs } else { round_up_to_step(needed, inputs.step_size) };
    base = base.min(inputs.position_base_abs);
    if !dust_position && inputs.deficit > DUST_NOTIONAL as u128 {
        let allowed = u128_to_u64(mul_div_u128(
            inputs.position_base_abs as u128,
            inputs.throttle_share as u128,
            RATIO_PRECISION as u128,
            Rounding::Down,
        )?)?;
        // Never less than one step, so a throttled liquidation always makes progress.
        base = base.min(allowed.max(inputs.step_size.min(inputs.position_base_abs)));
    }
    base = base.min(inputs.max_base);
    if base < inputs.position_base_abs {
        base -= base % inputs.step_size.max(1);
    }
    let notional =
        u128_to_u64(mul_div_u128(base as u128, inputs.price as u128, BASE_PRECISION as u128, Rounding::Down)?)?;
    // The transfer at the oracle can cost the account one unit of rounding (a buyer pays the
    // rounded-up quote, a seller gets the rounded-down one), so capped fees leave that unit:
    // otherwise a step that took every unit of equity in fees left it at -1, below zero but not
    // handed to the waterfall (found by the invariants runner).
    let available = (inputs.equity - 1).max(0) as u128;
    let liquidator_fee =
        mul_div_u128(notional as u128, inputs.liquidator_fee as u128, RATIO_PRECISION as u128, Rounding::Down)?
            .min(available);
    let insurance_fee =
        mul_div_u128(notional as u128, inputs.insurance_fee as u128, RATIO_PRECISION as u128, Rounding::Up)?
            .min(available - liquidator_fee);
    Ok(LiquidationStep {
        base,
        notional,
        liquidator_fee: u128_to_u64(liquidator_fee)?,
        insurance_fee: u128_to_u64(insurance_fee)?,
    })
}

fn round_up_to_step(base: u64, step: u64) -> u64 {
    if step <= 1 || base % step == 0 {
        return base;
    }
    base.saturating_add(step - base % step)
}

#[cfg(test)]
mod tests;
