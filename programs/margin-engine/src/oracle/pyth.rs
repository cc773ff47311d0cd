//! Pyth pull oracle: a `PriceUpdateV2` account posted by the Pyth receiver program.
use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use super::{OracleReading, OracleSource};
use crate::constants::PYTH_RECEIVER_PROGRAM_ID;
use crate::error::ErrorCode;
use crate::state::OracleConfig;

pub fn read(config: &OracleConfig, account: &AccountInfo) -> Result<OracleReading> {
    require_keys_eq!(*account.owner, PYTH_RECEIVER_PROGRAM_ID, ErrorCode::OracleWrongOwner);
    let data = account.try_borrow_data()?;
    let update = PriceUpdateV2::try_deserialize(&mut &data[..]).map_err(|_| ErrorCode::OracleUndecodable)?;
    reading_from_update(config, &update)
}

/// Checks a decoded update against the market's config and scales it: shared with off-chain
/// readers (keeper, SDK), which fetch and decode the account themselves.
pub fn reading_from_update(config: &OracleConfig, update: &PriceUpdateV2) -> Result<OracleReading> {
    require!(update.price_message.feed_id == config.pyth_feed_id, ErrorCode::OracleFeedMismatch);
    require!(update.verification_level == VerificationLevel::Full, ErrorCode::OracleNotFullyVerified);
    let msg = &update.price_message;
    Ok(OracleReading {
        price: scale_price(msg.price, msg.exponent)?,
        confidence: scale_confidence(msg.conf, msg.exponent)?,
        publish_slot: update.posted_slot,
        publish_time: msg.publish_time,
        ema_price: scale_price(msg.ema_price, msg.exponent)?,
        source: OracleSource::Pyth,
    })
}

/// Pyth value `v × 10^exponent` to 1e6 quote per base, truncated toward zero.
pub fn scale_price(value: i64, exponent: i32) -> Result<i64> {
    let shift = exponent.checked_add(6).ok_or(ErrorCode::OracleExponentOutOfRange)?;
    require!((-18..=12).contains(&shift), ErrorCode::OracleExponentOutOfRange);
    let factor = 10i128.pow(shift.unsigned_abs());
    let scaled = if shift >= 0 { (value as i128) * factor } else { (value as i128) / factor };
    Ok(i64::try_from(scaled).map_err(|_| ErrorCode::MathOverflow)?)
}

/// Confidence to 1e6 scale, rounded up so uncertainty is never understated.
pub fn scale_confidence(conf: u64, exponent: i32) -> Result<u64> {
    let shift = exponent.checked_add(6).ok_or(ErrorCode::OracleExponentOutOfRange)?;
    require!((-18..=12).contains(&shift), ErrorCode::OracleExponentOutOfRange);
    let factor = 10u128.pow(shift.unsigned_abs());
    let scaled = if shift >= 0 { (conf as u128) * factor } else { (conf as u128).div_ceil(factor) };
    Ok(u64::try_from(scaled).map_err(|_| ErrorCode::MathOverflow)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_pyth_exponents() {
        assert_eq!(scale_price(15_012_345_678, -8).unwrap(), 150_123_456); // $150.12345678
        assert_eq!(scale_price(-15_012_345_678, -8).unwrap(), -150_123_456);
        assert_eq!(scale_price(3, 0).unwrap(), 3_000_000);
        assert_eq!(scale_confidence(1, -8).unwrap(), 1); // 1e-8 rounds up to 1e-6
        assert_eq!(scale_confidence(200, -8).unwrap(), 2);
        assert!(scale_price(1, -30).is_err());
        assert!(scale_price(i64::MAX, 12).is_err());
    }
}
