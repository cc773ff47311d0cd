//! Volatility-adjusted margin and the regime signal: integer EWMAs of squared oracle returns, a
//! margin multiplier that rises at once and decays at a bounded rate, a maintenance multiplier
//! that only follows gradually, and a STRESSED regime when short-horizon volatility outruns the
//! long-horizon one (or one return jumps). Every number lives in the market account.
//!
//! Per fresh price `p` after `dt` slots since the last one at `p₀`:
//! - return `r = (p − p₀)/p₀` (ppm); sample `s = r² / dt` (ppm² per slot), so irregular update
//!   gaps do not bias the estimate;
//! - `var ← var + α (s − var)` with `α = min(1, dt · ln2 / half_life)` for the short and the long
//!   horizon;
//! - target multiplier `m* = clamp(sqrt(var_short / var_ref), 1, max)`; the initial-margin
//!   multiplier jumps up to `m*` at once and falls by at most `decay_per_slot · dt`;
//! - the maintenance multiplier moves toward the initial one by at most `rise_per_slot · dt` up
//!   (and `decay_per_slot · dt` down): a volatility spike raises maintenance over many slots, so a
//!   parameter step alone never liquidates anyone;
//! - regime: STRESSED when `sqrt(var_short / var_long) ≥ enter` or `|r| ≥ jump`; back to CALM
//!   when the ratio is below `exit` and `min_slots` have passed. STRESSED adds `initial_addon`
//!   to the initial ratio of every position (lower max leverage for new risk).
use super::fixed::isqrt_u128;
use crate::constants::RATIO_PRECISION;

pub const CALM: u8 = 0;
pub const STRESSED: u8 = 1;
/// ln 2 in ppm.
const LN2_PPM: u128 = 693_147;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VolParams {
    /// Per-slot variance (ppm²) the margin ratios are calibrated for.
    pub reference_variance: u64,
    pub short_half_life_slots: u32,
    pub long_half_life_slots: u32,
    /// Cap of the multiplier, ppm (1,000,000 = volatility adjustment off).
    pub max_multiplier: u32,
    pub decay_per_slot: u32,
    pub maintenance_rise_per_slot: u32,
    /// σ_short/σ_long (ppm) at which the regime turns STRESSED, and below which it calms.
    pub regime_enter_ratio: u32,
    pub regime_exit_ratio: u32,
    /// A single return this large (ppm) is STRESSED at once.
    pub regime_jump: u32,
    pub regime_min_slots: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VolState {
    pub last_price: u64,
    pub last_slot: u64,
    pub var_short: u64,
    pub var_long: u64,
    pub initial_multiplier: u32,
    pub maintenance_multiplier: u32,
    pub regime: u8,
    pub regime_since_slot: u64,
}

impl VolState {
    /// A fresh market starts at the reference variance (a neutral prior) and multiplier 1.
    pub fn new(params: &VolParams) -> Self {
        Self {
            var_short: params.reference_variance,
            var_long: params.reference_variance,
            initial_multiplier: RATIO_PRECISION as u32,
            maintenance_multiplier: RATIO_PRECISION as u32,
            ..Self::default()
        }
    }
}

fn ewma(var: u64, sample: u128, dt: u64, half_life: u32) -> u64 {
    let alpha = ((dt as u128) * LN2_PPM / (half_life.max(1) as u128)).min(RATIO_PRECISION as u128);
    let v = ((var as u128) * (RATIO_PRECISION as u128 - alpha) + sample * alpha) / RATIO_PRECISION as u128;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// sqrt(a / b) in ppm; b == 0 counts as "no information": 1.
pub fn sigma_ratio(a: u64, b: u64) -> u64 {
    if b == 0 {
        return RATIO_PRECISION;
    }
    let r = isqrt_u128((a as u128) * (RATIO_PRECISION as u128) * (RATIO_PRECISION as u128) / b as u128);
    u64::try_from(r).unwrap_or(u64::MAX)
}

/// The multiplier the current short variance calls for.
pub fn target_multiplier(state: &VolState, params: &VolParams) -> u32 {
    let max = params.max_multiplier.max(RATIO_PRECISION as u32) as u64;
    sigma_ratio(state.var_short, params.reference_variance).clamp(RATIO_PRECISION, max) as u32
}

fn approach(current: u32, target: u32, up: u64, down: u64) -> u32 {
    if target > current {
        (current as u64).saturating_add(up).min(target as u64) as u32
    } else {
        (current as u64).saturating_sub(down).max(target as u64) as u32
    }
}

/// Bounded decay with no new information: where the multipliers will be `slots` from now if
/// volatility stays where it is. What the SDK shows a trader as tomorrow's margin.
pub fn project(state: &VolState, params: &VolParams, slots: u64) -> VolState {
    let target = target_multiplier(state, params);
    let down = (params.decay_per_slot as u64).saturating_mul(slots);
    let initial =
        if target >= state.initial_multiplier { target } else { approach(state.initial_multiplier, target, 0, down) };
    let maintenance = approach(
        state.maintenance_multiplier,
        initial,
        (params.maintenance_rise_per_slot as u64).saturating_mul(slots),
        down,
    );
    VolState { initial_multiplier: initial, maintenance_multiplier: maintenance, ..*state }
}

/// Feeds one fresh price. Returns the new state and whether the regime changed.
pub fn step(state: &VolState, params: &VolParams, price: u64, slot: u64) -> (VolState, bool) {
    let mut s = *state;
    if s.last_price == 0 || price == 0 {
        s.last_price = price;
        s.last_slot = slot;
        return (s, false);
    }
    let dt = slot.saturating_sub(s.last_slot);
    if dt == 0 {
        // Same slot: keep the first price of the slot as the return base.
        return (s, false);
    }
    let r = (price as i128 - s.last_price as i128) * RATIO_PRECISION as i128 / s.last_price as i128;
    let r_abs = r.unsigned_abs();
    let sample = r_abs.saturating_mul(r_abs) / dt as u128;
    s.var_short = ewma(s.var_short, sample, dt, params.short_half_life_slots);
    s.var_long = ewma(s.var_long, sample, dt, params.long_half_life_slots);
    let moved = project(&s, params, dt);
    s.initial_multiplier = moved.initial_multiplier;
    s.maintenance_multiplier = moved.maintenance_multiplier;

    let ratio = sigma_ratio(s.var_short, s.var_long);
    let before = s.regime;
    if s.regime == CALM && (ratio >= params.regime_enter_ratio as u64 || r_abs >= params.regime_jump as u128) {
        s.regime = STRESSED;
        s.regime_since_slot = slot;
    } else if s.regime == STRESSED
        && ratio < params.regime_exit_ratio as u64
        && slot >= s.regime_since_slot.saturating_add(params.regime_min_slots as u64)
    {
        s.regime = CALM;
        s.regime_since_slot = slot;
    }
    s.last_price = price;
    s.last_slot = slot;
    (s, s.regime != before)
}

#[cfg(test)]
mod tests;
