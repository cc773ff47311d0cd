//! Account health: the one formula every risk check in the program uses.
//!
//! `health = collateral + Σ contribution`, where a position's contribution is its unrealised PnL
//! (funding included) minus `|notional| × ratio`. The ratio is the market's base ratio plus a
//! size premium that grows with sqrt(position size), capped at 100%. For initial health a
//! positive contribution is haircut, so an account cannot lever up on paper gains; haircutting the
//! contribution (not the PnL) keeps health monotone in price for any haircut.
//! Initial health takes each position's PnL at the worse of the oracle and the stable price.
//! Everything rounds against the account: PnL down, requirements up.
use super::fixed::{isqrt_u128, mul_div_i128, mul_div_u128, mul_div_u64_route, u128_to_i128, Rounding};
use super::MathResult;
use crate::constants::{BASE_PRECISION, RATIO_PRECISION};
use crate::error::ErrorCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthKind {
    Initial,
    Maintenance,
    /// Maintenance plus the liquidation buffer: where a partial liquidation stops.
    Liquidation,
}

/// A market's margin parameters, in ppm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarginParams {
    pub initial_margin_ratio: u32,
    pub maintenance_margin_ratio: u32,
    /// ppm added per sqrt(whole base units) of position size.
    pub size_premium_factor: u32,
    /// ppm haircut on a positive initial-health contribution.
    pub pnl_initial_haircut: u32,
    /// ppm added to the maintenance ratio for the level a partial liquidation restores.
    pub liquidation_buffer: u32,
    /// Volatility multipliers of the initial and maintenance ratios (ppm; 0 reads as 1x) and the
    /// STRESSED add-on to the initial ratio.
    pub initial_multiplier: u32,
    pub maintenance_multiplier: u32,
    pub initial_addon: u32,
}

fn scaled(ratio: u32, multiplier: u32) -> u128 {
    let m = if multiplier == 0 { RATIO_PRECISION } else { multiplier as u64 };
    // u32 × u32 fits u64: a native division, not a 128-bit software one.
    (ratio as u64 * m).div_ceil(RATIO_PRECISION) as u128
}

/// The liquidation buffer in force: the configured buffer, or more where `initial_share` (ppm)
/// of the initial ratio in force lies further above maintenance. A partial liquidation then
/// stops only when that share of initial margin is back, and the initial ratio carries the
/// volatility multiplier and the STRESSED add-on, so the residual position is sized to the
/// volatility the next leg down is likely to have (not to a fixed 2%). The size premium is in
/// both ratios and cancels out.
pub fn liquidation_buffer_in_force(params: &MarginParams, initial_share: u32) -> u32 {
    if initial_share == 0 {
        return params.liquidation_buffer;
    }
    // u64 throughout (every factor is a bounded ppm): this runs per market of every health check.
    let initial = scaled(params.initial_margin_ratio, params.initial_multiplier) as u64 + params.initial_addon as u64;
    let target = (initial * initial_share as u64).div_ceil(RATIO_PRECISION);
    let maintenance = scaled(params.maintenance_margin_ratio, params.maintenance_multiplier) as u64;
    let buffer = target.saturating_sub(maintenance).max(params.liquidation_buffer as u64);
    buffer.min(RATIO_PRECISION) as u32
}

/// One position, already priced: plain data so off-chain code can build it too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PositionRisk {
    /// Signed base amount, 1e-9 units; positive = long.
    pub base_amount: i64,
    /// Signed quote flow of the open position, native units: negative when the account paid.
    pub quote_amount: i64,
    /// Funding owed to the account and not yet settled (negative = the account owes).
    pub unsettled_funding: i64,
    /// Base of open (non-reduce-only) bids and asks: initial margin covers the worse side filling.
    pub open_bids: u64,
    pub open_asks: u64,
    /// Oracle price, quote native units per whole base unit.
    pub price: u64,
    /// Growth-limited price (`math::stable_price`; 0 = the oracle price): initial health takes
    /// the PnL at whichever of the two prices is worse for the account.
    pub stable_price: u64,
    pub params: MarginParams,
}

impl PositionRisk {
    /// The base amount if every open order on the worse side filled.
    pub fn worst_case_base(&self) -> MathResult<i64> {
        let with_bids = self.base_amount as i128 + self.open_bids as i128;
        let with_asks = self.base_amount as i128 - self.open_asks as i128;
        let worst = if with_bids.abs() >= with_asks.abs() { with_bids } else { with_asks };
        i64::try_from(worst).map_err(|_| ErrorCode::MathOverflow)
    }
}

/// Both health numbers and their parts, from one pass over the positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthReport {
    pub collateral: i128,
    pub unrealized_pnl: i128,
    pub initial_requirement: u128,
    pub maintenance_requirement: u128,
    pub liquidation_requirement: u128,
    pub initial_health: i128,
    pub maintenance_health: i128,
    /// Maintenance health with the liquidation buffer added to every ratio.
    pub liquidation_health: i128,
}

impl HealthReport {
    pub fn health(&self, kind: HealthKind) -> i128 {
        match kind {
            HealthKind::Initial => self.initial_health,
            HealthKind::Maintenance => self.maintenance_health,
            HealthKind::Liquidation => self.liquidation_health,
        }
    }

    /// Collateral plus unrealised PnL: what the account would hold if closed at these prices.
    pub fn equity(&self) -> i128 {
        self.collateral + self.unrealized_pnl
    }
}

/// Size premium in ppm: `factor × sqrt(|base| in whole units)`, rounded up.
pub fn size_premium(base_abs: u64, factor: u32) -> MathResult<u128> {
    if factor == 0 || base_abs == 0 {
        return Ok(0);
    }
    // sqrt(base_abs × 1e9) = sqrt(whole units) × 1e9, exact to the floor.
    let root_scaled = isqrt_u128((base_abs as u128) * (BASE_PRECISION as u128));
    // Flooring the root loses < 1e-9 of a unit; round the premium up to stay conservative.
    mul_div_u128(root_scaled + 1, factor as u128, BASE_PRECISION as u128, Rounding::Up)
}

/// Margin ratio (ppm) for a position of this size, capped at 100%.
pub fn margin_ratio(params: &MarginParams, base_abs: u64, kind: HealthKind) -> MathResult<u128> {
    ratio_with_premium(params, size_premium(base_abs, params.size_premium_factor)?, kind)
}

/// `margin_ratio` with the size premium already computed (it costs a square root).
fn ratio_with_premium(params: &MarginParams, premium: u128, kind: HealthKind) -> MathResult<u128> {
    let maintenance = scaled(params.maintenance_margin_ratio, params.maintenance_multiplier);
    let base_ratio = match kind {
        HealthKind::Initial => {
            scaled(params.initial_margin_ratio, params.initial_multiplier) + params.initial_addon as u128
        }
        HealthKind::Maintenance => maintenance,
        HealthKind::Liquidation => maintenance + params.liquidation_buffer as u128,
    };
    let ratio = base_ratio.checked_add(premium).ok_or(ErrorCode::MathOverflow)?;
    Ok(ratio.min(RATIO_PRECISION as u128))
}

/// |base| × price in quote native units, rounded up (used for requirements).
pub fn notional_up(base_amount: i64, price: u64) -> MathResult<u128> {
    mul_div_u128(base_amount.unsigned_abs() as u128, price as u128, BASE_PRECISION as u128, Rounding::Up)
}

/// Signed value of the base at `price`, rounded down (toward -inf: against the account).
pub fn base_value_down(base_amount: i64, price: u64) -> MathResult<i128> {
    mul_div_i128(base_amount as i128, price as i128, BASE_PRECISION as i128, Rounding::Down)
}

/// Unrealised PnL including unsettled funding, rounded down.
pub fn unrealized_pnl(pos: &PositionRisk) -> MathResult<i128> {
    base_value_down(pos.base_amount, pos.price)?
        .checked_add(pos.quote_amount as i128)
        .and_then(|v| v.checked_add(pos.unsettled_funding as i128))
        .ok_or(ErrorCode::MathOverflow)
}

/// The PnL initial health counts: the lesser of the PnL at the oracle (`pnl`) and at the stable
/// price, so a gain counts only as fast as the stable price follows and a loss counts at once.
pub fn initial_pnl(pos: &PositionRisk, pnl: i128) -> MathResult<i128> {
    if pos.stable_price == 0 || pos.stable_price == pos.price {
        return Ok(pnl);
    }
    let at_stable = unrealized_pnl(&PositionRisk { price: pos.stable_price, ..*pos })?;
    Ok(pnl.min(at_stable))
}

/// Margin requirement of one position, rounded up. Initial margin covers open orders (worst
/// side); maintenance covers only what is held, since liquidation cancels orders first.
pub fn margin_requirement(pos: &PositionRisk, kind: HealthKind) -> MathResult<u128> {
    let base = match kind {
        HealthKind::Initial => pos.worst_case_base()?,
        HealthKind::Maintenance | HealthKind::Liquidation => pos.base_amount,
    };
    if base == 0 {
        return Ok(0);
    }
    let ratio = margin_ratio(&pos.params, base.unsigned_abs(), kind)?;
    mul_div_u128(notional_up(base, pos.price)?, ratio, RATIO_PRECISION as u128, Rounding::Up)
}

/// The three requirements of one position, equal to `margin_requirement` for each kind but with
/// the notional computed once (u128 divisions are software routines on SBF: this is the hot path
/// of every health check).
fn requirements(pos: &PositionRisk) -> MathResult<(u128, u128, u128)> {
    if pos.base_amount == 0 && pos.open_bids == 0 && pos.open_asks == 0 {
        return Ok((0, 0, 0));
    }
    let held = notional_up(pos.base_amount, pos.price)?;
    let held_premium = size_premium(pos.base_amount.unsigned_abs(), pos.params.size_premium_factor)?;
    let worst = pos.worst_case_base()?;
    let (initial_notional, initial_premium) = if worst == pos.base_amount {
        (held, held_premium)
    } else {
        (notional_up(worst, pos.price)?, size_premium(worst.unsigned_abs(), pos.params.size_premium_factor)?)
    };
    // The three ratios from two scaled base ratios (ratio_with_premium, unrolled).
    let p = &pos.params;
    let cap = RATIO_PRECISION as u128;
    let maintenance = scaled(p.maintenance_margin_ratio, p.maintenance_multiplier);
    let initial_base = scaled(p.initial_margin_ratio, p.initial_multiplier) + p.initial_addon as u128;
    let ratio = |base_ratio: u128, premium: u128| -> MathResult<u128> {
        Ok(base_ratio.checked_add(premium).ok_or(ErrorCode::MathOverflow)?.min(cap))
    };
    let apply = |notional: u128, base: i64, ratio: u128| -> MathResult<u128> {
        if base == 0 {
            return Ok(0);
        }
        mul_div_u128(notional, ratio, cap, Rounding::Up)
    };
    Ok((
        apply(initial_notional, worst, ratio(initial_base, initial_premium)?)?,
        apply(held, pos.base_amount, ratio(maintenance, held_premium)?)?,
        apply(held, pos.base_amount, ratio(maintenance + p.liquidation_buffer as u128, held_premium)?)?,
    ))
}

/// `⌈a·b/d⌉` or `⌊a·b/d⌋` when it fits 64 bits, by the 64-bit route.
fn mul_div_64(a: u64, b: u64, d: u64, up: bool) -> Option<u64> {
    let (q, exact) = mul_div_u64_route(a, b, d)?;
    let q = if up && !exact { q + 1 } else { q };
    u64::try_from(q).ok()
}

/// `⌊base·price/1e9⌋` (toward -inf) in i64, when it fits.
fn base_value_down_64(base: i64, price: u64) -> Option<i64> {
    let (q, exact) = mul_div_u64_route(base.unsigned_abs(), price, BASE_PRECISION)?;
    let q = i64::try_from(q).ok()?;
    Some(if base >= 0 {
        q
    } else if exact {
        -q
    } else {
        -q - 1
    })
}

fn size_premium_64(base_abs: u64, factor: u32) -> Option<u64> {
    if factor == 0 || base_abs == 0 {
        return Some(0);
    }
    let root = u64::try_from(isqrt_u128((base_abs as u128) * (BASE_PRECISION as u128))).ok()?;
    mul_div_64(root.checked_add(1)?, factor as u64, BASE_PRECISION, true)
}

/// `requirements` in 64-bit arithmetic; None when an intermediate needs more.
fn requirements_64(pos: &PositionRisk) -> Option<(u64, u64, u64)> {
    if pos.base_amount == 0 && pos.open_bids == 0 && pos.open_asks == 0 {
        return Some((0, 0, 0));
    }
    let p = &pos.params;
    let held = mul_div_64(pos.base_amount.unsigned_abs(), pos.price, BASE_PRECISION, true)?;
    let held_premium = size_premium_64(pos.base_amount.unsigned_abs(), p.size_premium_factor)?;
    let worst = pos.worst_case_base().ok()?;
    let (initial_notional, initial_premium) = if worst == pos.base_amount {
        (held, held_premium)
    } else {
        (
            mul_div_64(worst.unsigned_abs(), pos.price, BASE_PRECISION, true)?,
            size_premium_64(worst.unsigned_abs(), p.size_premium_factor)?,
        )
    };
    let maintenance = scaled(p.maintenance_margin_ratio, p.maintenance_multiplier) as u64;
    let initial_base = scaled(p.initial_margin_ratio, p.initial_multiplier) as u64 + p.initial_addon as u64;
    let requirement = |notional: u64, base: i64, base_ratio: u64, premium: u64| -> Option<u64> {
        if base == 0 {
            return Some(0);
        }
        let ratio = base_ratio.checked_add(premium)?.min(RATIO_PRECISION);
        mul_div_64(notional, ratio, RATIO_PRECISION, true)
    };
    Some((
        requirement(initial_notional, worst, initial_base, initial_premium)?,
        requirement(held, pos.base_amount, maintenance, held_premium)?,
        requirement(held, pos.base_amount, maintenance + p.liquidation_buffer as u64, held_premium)?,
    ))
}

/// `compute_health` in 64-bit arithmetic: the same formulas and roundings, so the same result
/// whenever every intermediate fits 64 bits (any realistic account); None otherwise, and the
/// 128-bit version runs. On SBF this halves the per-position cost of every health check.
fn compute_health_64(collateral: i64, positions: &[PositionRisk]) -> Option<HealthReport> {
    let (mut pnl_sum, mut initial_health, mut maintenance_health, mut liquidation_health) =
        (0i64, collateral, collateral, collateral);
    let (mut initial_sum, mut maintenance_sum, mut liquidation_sum) = (0u64, 0u64, 0u64);
    for pos in positions {
        let pnl = base_value_down_64(pos.base_amount, pos.price)?
            .checked_add(pos.quote_amount)?
            .checked_add(pos.unsettled_funding)?;
        let (initial_req, maint_req, liq_req) = requirements_64(pos)?;
        let maint_contribution = pnl.checked_sub(i64::try_from(maint_req).ok()?)?;
        let initial_pnl = if pos.stable_price == 0 || pos.stable_price == pos.price {
            pnl
        } else {
            let at_stable = base_value_down_64(pos.base_amount, pos.stable_price)?
                .checked_add(pos.quote_amount)?
                .checked_add(pos.unsettled_funding)?;
            pnl.min(at_stable)
        };
        let mut initial_contribution = initial_pnl.checked_sub(i64::try_from(initial_req).ok()?)?;
        if initial_contribution > 0 {
            let kept = RATIO_PRECISION - pos.params.pnl_initial_haircut.min(RATIO_PRECISION as u32) as u64;
            initial_contribution =
                i64::try_from(mul_div_64(initial_contribution as u64, kept, RATIO_PRECISION, false)?).ok()?;
        }
        pnl_sum = pnl_sum.checked_add(pnl)?;
        initial_sum = initial_sum.checked_add(initial_req)?;
        maintenance_sum = maintenance_sum.checked_add(maint_req)?;
        liquidation_sum = liquidation_sum.checked_add(liq_req)?;
        initial_health = initial_health.checked_add(initial_contribution)?;
        maintenance_health = maintenance_health.checked_add(maint_contribution)?;
        liquidation_health = liquidation_health.checked_add(pnl)?.checked_sub(i64::try_from(liq_req).ok()?)?;
    }
    Some(HealthReport {
        collateral: collateral as i128,
        unrealized_pnl: pnl_sum as i128,
        initial_requirement: initial_sum as u128,
        maintenance_requirement: maintenance_sum as u128,
        liquidation_requirement: liquidation_sum as u128,
        initial_health: initial_health as i128,
        maintenance_health: maintenance_health as i128,
        liquidation_health: liquidation_health as i128,
    })
}

/// Health of an account: collateral plus each position's contribution.
pub fn compute_health(collateral: i64, positions: &[PositionRisk]) -> MathResult<HealthReport> {
    if let Some(report) = compute_health_64(collateral, positions) {
        return Ok(report);
    }
    compute_health_128(collateral, positions)
}

/// The reference: 128-bit throughout, for accounts whose numbers leave 64 bits.
fn compute_health_128(collateral: i64, positions: &[PositionRisk]) -> MathResult<HealthReport> {
    let mut report = HealthReport {
        collateral: collateral as i128,
        initial_health: collateral as i128,
        maintenance_health: collateral as i128,
        liquidation_health: collateral as i128,
        ..HealthReport::default()
    };
    for pos in positions {
        let pnl = unrealized_pnl(pos)?;
        let (initial_req, maint_req, liq_req) = requirements(pos)?;

        let maint_contribution = pnl.checked_sub(u128_to_i128(maint_req)?).ok_or(ErrorCode::MathOverflow)?;
        let initial_pnl = initial_pnl(pos, pnl)?;
        let mut initial_contribution =
            initial_pnl.checked_sub(u128_to_i128(initial_req)?).ok_or(ErrorCode::MathOverflow)?;
        if initial_contribution > 0 {
            let kept = (RATIO_PRECISION - pos.params.pnl_initial_haircut.min(RATIO_PRECISION as u32) as u64) as i128;
            initial_contribution = mul_div_i128(initial_contribution, kept, RATIO_PRECISION as i128, Rounding::Down)?;
        }

        report.unrealized_pnl = report.unrealized_pnl.checked_add(pnl).ok_or(ErrorCode::MathOverflow)?;
        report.initial_requirement =
            report.initial_requirement.checked_add(initial_req).ok_or(ErrorCode::MathOverflow)?;
        report.maintenance_requirement =
            report.maintenance_requirement.checked_add(maint_req).ok_or(ErrorCode::MathOverflow)?;
        report.initial_health =
            report.initial_health.checked_add(initial_contribution).ok_or(ErrorCode::MathOverflow)?;
        report.maintenance_health =
            report.maintenance_health.checked_add(maint_contribution).ok_or(ErrorCode::MathOverflow)?;
        report.liquidation_requirement =
            report.liquidation_requirement.checked_add(liq_req).ok_or(ErrorCode::MathOverflow)?;
        report.liquidation_health = report
            .liquidation_health
            .checked_add(pnl)
            .and_then(|h| h.checked_sub(liq_req as i128))
            .ok_or(ErrorCode::MathOverflow)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
