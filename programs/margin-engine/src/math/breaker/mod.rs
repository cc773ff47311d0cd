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
use crate::error::ErrorCode;

/// The one mode of a market that every instruction enforces, strictest last: the stored breaker
/// status, what the current price implies on its own, the guardian's reduce-only flag and the
/// insurance-drawdown flag all map to it (`Market::mode`). Stored as its `u8` in
/// `Market::breaker_status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum MarketMode {
    #[default]
    Normal = 0,
    /// No new risk: reduce-only orders, fills that shrink both sides; de-risking continues.
    ReduceOnly = 1,
    /// A suspect price: nothing may lean on it but de-risking (liquidation and the waterfall).
    Halted = 2,
}

/// What an instruction does in a market, for [`MarketMode::allows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketAction {
    /// An order or fill that may grow a position.
    AddRisk,
    /// An order or fill that can only shrink positions.
    ReduceRisk,
    /// Valuing a held position for a withdrawal, or for new risk in another market.
    MarginCheck,
    Funding,
    /// Liquidation and the loss waterfall: never stopped by a breaker.
    DeRisk,
}

impl MarketMode {
    pub fn from_u8(status: u8) -> Self {
        match status {
            0 => MarketMode::Normal,
            1 => MarketMode::ReduceOnly,
            _ => MarketMode::Halted,
        }
    }

    pub fn allows(self, action: MarketAction) -> bool {
        match self {
            MarketMode::Normal => true,
            MarketMode::ReduceOnly => action != MarketAction::AddRisk,
            MarketMode::Halted => action == MarketAction::DeRisk,
        }
    }

    /// The check every handler makes, with the error that names the mode.
    pub fn require_allows(self, action: MarketAction) -> Result<(), ErrorCode> {
        if self.allows(action) {
            Ok(())
        } else if self == MarketMode::Halted {
            Err(ErrorCode::MarketHalted)
        } else {
            Err(ErrorCode::MarketReduceOnly)
        }
    }
}

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
    pub status: MarketMode,
    pub reference_price: u64,
    pub window_start_slot: u64,
    /// First slot of the current run of calm prices while tripped (0 = none).
    pub calm_since_slot: u64,
    pub last_price: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Tripped { from: MarketMode, to: MarketMode },
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

/// The bad-oracle test: a price further than `limit` (ppm) from its own feed's EMA (0 = no EMA
/// known, never diverged). The breaker halts on it; liquidation refuses such a print outright.
pub fn diverges_from_ema(price: u64, ema: u64, limit: u32) -> bool {
    ema > 0 && relative_move(price, ema) > limit as u64
}

/// The status this price implies on its own (no memory): what an instruction that cannot persist
/// state enforces immediately.
pub fn implied_status(state: &BreakerState, params: &BreakerParams, price: u64, ema: u64, slot: u64) -> MarketMode {
    if state.reference_price == 0 {
        return MarketMode::Normal;
    }
    let reference = if slot >= state.window_start_slot.saturating_add(params.window_slots) {
        state.last_price
    } else {
        state.reference_price
    };
    let moved = relative_move(price, reference);
    let diverged = diverges_from_ema(price, ema, params.divergence_limit);
    if diverged || moved > params.hard_band as u64 {
        MarketMode::Halted
    } else if moved > params.soft_band as u64 {
        MarketMode::ReduceOnly
    } else {
        MarketMode::Normal
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
            status: MarketMode::Normal,
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
    } else if s.status != MarketMode::Normal {
        let steady = relative_move(price, s.last_price) <= params.soft_band as u64;
        let sane = !diverges_from_ema(price, ema, params.divergence_limit);
        if steady && sane {
            if s.calm_since_slot == 0 {
                s.calm_since_slot = slot.max(1);
            } else if slot >= s.calm_since_slot.saturating_add(params.cooldown_slots) {
                s = BreakerState {
                    status: MarketMode::Normal,
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

    /// What each mode allows: de-risking always; a halted market nothing else; reduce-only
    /// everything but new risk. The handlers check this table and nothing else.
    #[test]
    fn what_each_mode_allows() {
        use MarketAction::*;
        for action in [AddRisk, ReduceRisk, MarginCheck, Funding, DeRisk] {
            assert!(MarketMode::Normal.allows(action));
            assert_eq!(MarketMode::ReduceOnly.allows(action), action != AddRisk);
            assert_eq!(MarketMode::Halted.allows(action), action == DeRisk);
        }
        assert_eq!(MarketMode::ReduceOnly.require_allows(AddRisk), Err(ErrorCode::MarketReduceOnly));
        assert_eq!(MarketMode::Halted.require_allows(ReduceRisk), Err(ErrorCode::MarketHalted));
        for mode in [MarketMode::Normal, MarketMode::ReduceOnly, MarketMode::Halted] {
            assert_eq!(MarketMode::from_u8(mode as u8), mode);
        }
    }

    #[test]
    fn soft_then_hard_then_recovery() {
        let (s, t) = run(&[(1, 100), (2, 104), (3, 106)]);
        assert_eq!(s.status, MarketMode::ReduceOnly);
        assert_eq!(t[2], Some(Transition::Tripped { from: MarketMode::Normal, to: MarketMode::ReduceOnly }));
        let (s, _) = run(&[(1, 100), (2, 106), (3, 84)]);
        assert_eq!(s.status, MarketMode::Halted);
        // Calm prices for the cooldown reset it, with the new price as reference.
        let (s, t) = run(&[(1, 100), (2, 84), (10, 85), (30, 84), (61, 85)]);
        assert_eq!(s.status, MarketMode::Normal);
        assert_eq!(t[4], Some(Transition::Reset));
        assert_eq!(s.reference_price, 85);
    }

    #[test]
    fn an_unsteady_price_restarts_the_cooldown() {
        let (s, _) = run(&[(1, 100), (2, 84), (10, 85), (30, 95), (61, 95)]);
        assert_eq!(s.status, MarketMode::Halted, "the jump at slot 30 restarted the calm run");
        // Calm from slot 61 on: reset once 50 slots have passed.
        let (s, _) = run(&[(1, 100), (2, 84), (10, 85), (30, 95), (61, 95), (80, 95)]);
        assert_eq!(s.status, MarketMode::Halted);
        let (s, _) = run(&[(1, 100), (2, 84), (10, 85), (30, 95), (61, 95), (111, 95)]);
        assert_eq!(s.status, MarketMode::Normal);
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
        assert_eq!(s.status, MarketMode::Normal);
    }

    #[test]
    fn an_oracle_far_from_its_ema_halts() {
        let s = BreakerState { reference_price: 100, window_start_slot: 1, last_price: 100, ..Default::default() };
        assert_eq!(implied_status(&s, &params(), 100, 120, 2), MarketMode::Halted);
        assert_eq!(implied_status(&s, &params(), 100, 105, 2), MarketMode::Normal);
        let (next, t) = step(&s, &params(), 101, 130, 2);
        assert_eq!(
            (next.status, t),
            (MarketMode::Halted, Some(Transition::Tripped { from: MarketMode::Normal, to: MarketMode::Halted }))
        );
    }
}
