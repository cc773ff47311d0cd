//! What an accepted oracle price does to its market: its publish time is remembered (nothing
//! older is accepted again) and, when the price is fully valid, it moves the last price, oracle
//! TWAP, stable price, volatility and regime, and the circuit breaker. A stale price (accepted by
//! liquidation) moves none of them: derived state is built from fresh prices only.
use anchor_lang::prelude::*;

use crate::events::{BreakerReset, BreakerTripped, RegimeChanged};
use crate::math::breaker::{implied_status, step, Transition};
use crate::math::funding::update_twap;
use crate::math::stable_price;
use crate::math::volatility;
use crate::oracle::{AcceptedPrice, OracleSource, OracleValidity};
use crate::state::Market;

/// Feeds an accepted price into the market's derived state and breaker; emits breaker events.
pub fn on_price(market: &mut Market, price: &AcceptedPrice, slot: u64) -> Result<()> {
    match price.source {
        OracleSource::Pyth => market.last_pyth_publish_time = market.last_pyth_publish_time.max(price.publish_time),
        OracleSource::Switchboard => {
            market.last_switchboard_publish_time = market.last_switchboard_publish_time.max(price.publish_time)
        }
    }
    if price.validity != OracleValidity::Valid {
        return Ok(());
    }
    market.stable_price = stable_price::follow(market.stable_price, market.stable_price_slot, price.price, slot);
    market.stable_price_slot = slot;
    let window = market.risk.funding_period_slots as u64;
    market.oracle_twap = update_twap(market.oracle_twap, market.oracle_twap_slot, price.price, slot, window)?;
    market.oracle_twap_slot = slot;
    market.last_oracle_price = price.price;
    market.last_oracle_slot = slot;
    let (vol, regime_changed) = volatility::step(&market.vol_state(), &market.risk.vol_params(), price.price, slot);
    market.set_vol_state(&vol);
    if regime_changed {
        emit!(RegimeChanged {
            market_index: market.market_index,
            regime: vol.regime,
            sigma_ratio: volatility::sigma_ratio(vol.var_short, vol.var_long),
            var_short: vol.var_short,
            var_long: vol.var_long,
            initial_multiplier: vol.initial_multiplier,
            maintenance_multiplier: vol.maintenance_multiplier,
            slot,
        });
    }
    let (next, transition) =
        step(&market.breaker_state(), &market.breaker_params(), price.price, price.ema_price, slot);
    market.set_breaker_state(&next);
    match transition {
        Some(Transition::Tripped { from, to }) => {
            market.breaker_trip_count += 1;
            emit!(BreakerTripped {
                market_index: market.market_index,
                from,
                to,
                price: price.price,
                reference_price: next.reference_price,
                ema_price: price.ema_price,
                slot,
            });
        }
        Some(Transition::Reset) => emit!(BreakerReset { market_index: market.market_index, price: price.price, slot }),
        None => {}
    }
    Ok(())
}

/// The mode a market is in for this price: the strictest of the people's flags, the stored breaker
/// and what this price implies on its own (so a jump stops new risk even before anyone persists
/// the trip with `refresh_market`).
pub fn effective_mode(market: &Market, price: &AcceptedPrice, slot: u64) -> u8 {
    let implied = implied_status(&market.breaker_state(), &market.breaker_params(), price.price, price.ema_price, slot);
    market.manual_mode(slot).max(market.breaker_status).max(implied)
}

/// The stable price for this accepted price now (what `on_price` would store), for snapshots of
/// markets an instruction only reads.
pub fn stable_price_at(market: &Market, price: &AcceptedPrice, slot: u64) -> u64 {
    if price.validity == OracleValidity::Valid {
        stable_price::follow(market.stable_price, market.stable_price_slot, price.price, slot)
    } else {
        // A stale price does not move the stable price; an unset one starts at the price.
        stable_price::follow(market.stable_price, market.stable_price_slot, price.price, market.stable_price_slot)
    }
}
