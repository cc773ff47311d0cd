//! The per-market price circuit breaker as a pure state machine.
//!
//! ```text
//!            move > soft band                    move > hard band or oracle vs its EMA > limit
//!  NORMAL ─────────────────────▶ REDUCE_ONLY ────────────────────────────────▶ HALTED
//!    ▲  ╲______________________________________________________________________╱ │
//!    │             (a hard move or a bad oracle from NORMAL goes straight to HALTED) │
//!    └──────────── cooldown_slots of calm prices (each within the soft band of the ──┘
//!                  previous one, oracle consistent with its EMA): reset, new reference
//! ```
//! A move is measured against the reference price: the last price seen before the current
//! window of `window_slots` began. REDUCE_ONLY: no new risk, liquidations continue. HALTED: a
//! suspected bad price, so every price-dependent action stops.
use crate::constants::RATIO_PRECISION;

pub const NORMAL: u8 = 0;
pub const REDUCE_ONLY: u8 = 1;
pub const HALTED: u8 = 2;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BreakerParams {
    pub soft_band: u32,
    pub hard_band: u32,
    pub window_slots: u64,
    pub cooldown_slots: u64,
    pub divergence_limit: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BreakerState {
    pub status: u8,
    pub reference_price: u64,
    pub window_start_slot: u64,
    /// First slot of the current run of calm prices while tripped (0 = none).
    pub calm_since_slot: u64,
    pub last_price: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Tripped { from: u8, to: u8 },
    Reset,
}

/// |a − b| / b in ppm (b > 0).
pub fn relative_move(a: u64, b: u64) -> u64 {
    if b == 0 {
        return 0;
    }
    let diff = a.abs_diff(b);
    // 64-bit division when the scaled difference fits (any move under $18M in 1e6 units).
    match diff.checked_mul(RATIO_PRECISION) {
        Some(scaled) => scaled / b,
        None => u64::try_from(diff as u128 * RATIO_PRECISION as u128 / b as u128).unwrap_or(u64::MAX),
    }
}

/// The status this price implies on its own (no memory): what an instruction that cannot persist
/// state enforces immediately.
pub fn implied_status(state: &BreakerState, params: &BreakerParams, price: u64, ema: u64, slot: u64) -> u8 {
    if state.reference_price == 0 {
        return NORMAL;
    }
    let reference = if slot >= state.window_start_slot.saturating_add(params.window_slots) {
        state.last_price
    } else {
        state.reference_price
    };
    let moved = relative_move(price, reference);
    let diverged = ema > 0 && relative_move(price, ema) > params.divergence_limit as u64;
    if diverged || moved > params.hard_band as u64 {
        HALTED
    } else if moved > params.soft_band as u64 {
        REDUCE_ONLY
    } else {
        NORMAL
    }
}

/// Feeds one fresh price into the breaker.
pub fn step(
    state: &BreakerState,
    params: &BreakerParams,
    price: u64,
    ema: u64,
    slot: u64,
) -> (BreakerState, Option<Transition>) {
    let mut s = *state;
    if s.reference_price == 0 {
        s = BreakerState {
            status: NORMAL,
            reference_price: price,
            window_start_slot: slot,
            calm_since_slot: 0,
            last_price: price,
        };
        return (s, None);
    }
    let implied = implied_status(&s, params, price, ema, slot);
    if slot >= s.window_start_slot.saturating_add(params.window_slots) {
        s.reference_price = s.last_price;
        s.window_start_slot = slot;
    }
    let mut transition = None;
    if implied > s.status {
        transition = Some(Transition::Tripped { from: s.status, to: implied });
        s.status = implied;
        s.calm_since_slot = 0;
    } else if s.status != NORMAL {
        let steady = relative_move(price, s.last_price) <= params.soft_band as u64;
        let sane = ema == 0 || relative_move(price, ema) <= params.divergence_limit as u64;
        if steady && sane {
            if s.calm_since_slot == 0 {
                s.calm_since_slot = slot.max(1);
            } else if slot >= s.calm_since_slot.saturating_add(params.cooldown_slots) {
                s = BreakerState {
                    status: NORMAL,
                    reference_price: price,
                    window_start_slot: slot,
                    calm_since_slot: 0,
                    last_price: price,
                };
                return (s, Some(Transition::Reset));
            }
        } else {
            s.calm_since_slot = 0;
        }
    }
    s.last_price = price;
    (s, transition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BreakerParams {
        BreakerParams {
            soft_band: 50_000,
            hard_band: 150_000,
            window_slots: 100,
            cooldown_slots: 50,
            divergence_limit: 100_000,
        }
    }

    fn run(prices: &[(u64, u64)]) -> (BreakerState, Vec<Option<Transition>>) {
        let mut s = BreakerState::default();
        let mut transitions = vec![];
        for &(slot, price) in prices {
            let (next, t) = step(&s, &params(), price, 0, slot);
            s = next;
            transitions.push(t);
        }
        (s, transitions)
    }

    #[test]
    fn soft_then_hard_then_recovery() {
        let (s, t) = run(&[(1, 100), (2, 104), (3, 106)]);
        assert_eq!(s.status, REDUCE_ONLY);
        assert_eq!(t[2], Some(Transition::Tripped { from: NORMAL, to: REDUCE_ONLY }));
        let (s, _) = run(&[(1, 100), (2, 106), (3, 84)]);
        assert_eq!(s.status, HALTED);
        // Calm prices for the cooldown reset it, with the new price as reference.
        let (s, t) = run(&[(1, 100), (2, 84), (10, 85), (30, 84), (61, 85)]);
        assert_eq!(s.status, NORMAL);
        assert_eq!(t[4], Some(Transition::Reset));
        assert_eq!(s.reference_price, 85);
    }

    #[test]
    fn an_unsteady_price_restarts_the_cooldown() {
        let (s, _) = run(&[(1, 100), (2, 84), (10, 85), (30, 95), (61, 95)]);
        assert_eq!(s.status, HALTED, "the jump at slot 30 restarted the calm run");
        // Calm from slot 61 on: reset once 50 slots have passed.
        let (s, _) = run(&[(1, 100), (2, 84), (10, 85), (30, 95), (61, 95), (80, 95)]);
        assert_eq!(s.status, HALTED);
        let (s, _) = run(&[(1, 100), (2, 84), (10, 85), (30, 95), (61, 95), (111, 95)]);
        assert_eq!(s.status, NORMAL);
    }

    #[test]
    fn slow_moves_across_windows_do_not_trip() {
        // −3% per window, twenty windows: never 5% within one window.
        let mut price = 1_000_000u64;
        let prices: Vec<(u64, u64)> = (0..20)
            .map(|i| {
                let p = price;
                price = price * 97 / 100;
                (1 + i * 101, p)
            })
            .collect();
        let (s, _) = run(&prices);
        assert_eq!(s.status, NORMAL);
    }

    #[test]
    fn an_oracle_far_from_its_ema_halts() {
        let s = BreakerState { reference_price: 100, window_start_slot: 1, last_price: 100, ..Default::default() };
        assert_eq!(implied_status(&s, &params(), 100, 120, 2), HALTED);
        assert_eq!(implied_status(&s, &params(), 100, 105, 2), NORMAL);
        let (next, t) = step(&s, &params(), 101, 130, 2);
        assert_eq!((next.status, t), (HALTED, Some(Transition::Tripped { from: NORMAL, to: HALTED })));
    }
}
