//! What an accepted oracle price does to its market: its publish time is remembered (nothing
//! older is accepted again) and, when the price is fully valid, it moves the last price, oracle
//! TWAP, stable price, volatility and regime, and the circuit breaker. A stale price (accepted by
//! liquidation) moves none of them: derived state is built from fresh prices only.
use anchor_lang::prelude::*;

use crate::events::{BreakerReset, BreakerTripped, RegimeChanged};
use crate::math::breaker::{step, Transition};
use crate::math::funding::update_twap;
use crate::math::volatility;
use crate::oracle::{read_price, AcceptedPrice, OracleAction, OracleSource, OracleValidity};
use crate::state::Market;

/// The price an instruction that writes its market acts on: read under the one oracle policy
/// (`oracle::read_price`) and fed into the market (`on_price`).
pub fn accept_price(
    market: &mut Market,
    oracle: &AccountInfo,
    fallback: Option<&AccountInfo>,
    clock: &Clock,
    action: OracleAction,
) -> Result<AcceptedPrice> {
    let accepted = read_price(market, oracle, fallback, clock, action)?;
    on_price(market, &accepted, clock.slot)?;
    Ok(accepted)
}

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
    market.stable_price = market.stable_price_at(price.price, true, slot);
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
            let (from, to) = (from as u8, to as u8);
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
