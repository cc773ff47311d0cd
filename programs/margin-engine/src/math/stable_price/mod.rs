//! The stable price (Mango v4's `StablePriceModel`, simplified): a price that follows the oracle
//! by at most `STABLE_PRICE_GROWTH_PER_SLOT` of itself per slot, and by at most
//! `STABLE_PRICE_MAX_STEP_SLOTS` slots' worth per stored observation. Initial health values a
//! position's PnL at the worse of the oracle and this price, so profit from a price that just
//! jumped (a thin market pumped through its own oracle, Mango Oct 2022) cannot be withdrawn or
//! levered against at full value until the move has lasted; losses always count at once.
use crate::constants::{RATIO_PRECISION, STABLE_PRICE_GROWTH_PER_SLOT, STABLE_PRICE_MAX_STEP_SLOTS};
use crate::math::fixed::mul_div_u64_route;

/// The stable price at `slot` for an oracle price `oracle`, from the one stored at `stable_slot`.
/// An unset stable price (0) starts at the oracle.
pub fn follow(stable: u64, stable_slot: u64, oracle: u64, slot: u64) -> u64 {
    if stable == 0 {
        return oracle;
    }
    if oracle == stable {
        return stable;
    }
    // Growth × elapsed in ppm, capped at 100% (the move never exceeds the stable price itself),
    // then one 64-bit-route multiplication: this runs for every market of every health check.
    let elapsed = slot.saturating_sub(stable_slot).min(STABLE_PRICE_MAX_STEP_SLOTS);
    let share = elapsed.saturating_mul(STABLE_PRICE_GROWTH_PER_SLOT).min(RATIO_PRECISION);
    let max_move = match mul_div_u64_route(stable, share, RATIO_PRECISION) {
        Some((q, _)) => q as u64,
        None => (stable as u128 * share as u128 / RATIO_PRECISION as u128) as u64,
    };
    oracle.clamp(stable - max_move, stable.saturating_add(max_move))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_checked() {
        assert_eq!(follow(0, 0, 123, 9), 123);
        // $100, 0.005% a slot: 200 slots allow 1%.
        assert_eq!(follow(100_000_000, 0, 150_000_000, 200), 101_000_000);
        assert_eq!(follow(100_000_000, 0, 50_000_000, 200), 99_000_000);
        assert_eq!(follow(100_000_000, 0, 100_500_000, 200), 100_500_000);
        assert_eq!(follow(100_000_000, 10, 150_000_000, 10), 100_000_000);
        // A long quiet gap allows one step of 1%, not a jump to the oracle.
        assert_eq!(follow(100_000_000, 0, 1, 10_000_000), 99_000_000);
        assert_eq!(follow(100_000_000, 0, 150_000_000, 201), 101_000_000);
    }

    proptest! {
        /// Never further from the old stable price than the growth allows, never beyond the oracle.
        #[test]
        fn bounded_growth(stable in 1u64..1_000_000_000_000, oracle in 1u64..1_000_000_000_000, dt in 0u64..100_000) {
            let next = follow(stable, 0, oracle, dt);
            let steps = dt.min(STABLE_PRICE_MAX_STEP_SLOTS);
            let allowed = (stable as u128 * STABLE_PRICE_GROWTH_PER_SLOT as u128 * steps as u128 / 1_000_000) as u64;
            prop_assert!(next.abs_diff(stable) <= allowed);
            prop_assert!(next.min(stable) <= oracle.max(stable) && next >= oracle.min(stable));
        }
    }
}
