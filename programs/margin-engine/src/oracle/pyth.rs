//! Pyth pull oracle: a `PriceUpdateV2` account posted by the Pyth receiver program.
use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use super::{OracleReading, OracleSource};
use crate::constants::PYTH_RECEIVER_PROGRAM_ID;
use crate::error::ErrorCode;
use crate::math::fixed::{bytes32_eq_at, le_u64_at};
use crate::safe_math::SafeMath;
use crate::state::OracleConfig;

pub fn read(config: &OracleConfig, account: &AccountInfo) -> Result<OracleReading> {
    require!(
        crate::math::fixed::bytes32_eq(account.owner.as_ref(), &PYTH_RECEIVER_PROGRAM_ID.to_bytes()),
        ErrorCode::OracleWrongOwner
    );
    let data = account.try_borrow_data()?;
    reading_from_bytes(config, &data)
}

// Borsh layout of `PriceUpdateV2` after its 8-byte discriminator: write_authority (32),
// verification_level (enum tag 1 byte; `Partial` carries one more byte), then the price message.
const VERIFICATION_TAG: usize = 8 + 32;
const TAG_PARTIAL: u8 = 0;
const TAG_FULL: u8 = 1;

/// The price message: feed_id 32, price 8, conf 8, exponent 4, publish_time 8,
/// prev_publish_time 8, ema_price 8, ema_conf 8, then posted_slot 8.
const MESSAGE_LEN: usize = 92;

/// The same checks and values as [`reading_from_update`], read straight from the account bytes:
/// the health check reads one update per open position, and a full Borsh decode of each was a
/// large share of its compute units on SBF. Fields are read as words of the (8-aligned) account
/// data, `le_u64_at`: the message starts one or two bytes past a word boundary.
pub fn reading_from_bytes(config: &OracleConfig, data: &[u8]) -> Result<OracleReading> {
    let discriminator = <PriceUpdateV2 as anchor_lang::Discriminator>::DISCRIMINATOR;
    require!(
        data.len() > VERIFICATION_TAG && le_u64_at(data, 0) == le_u64_at(discriminator, 0),
        ErrorCode::OracleUndecodable
    );
    let tag = data[VERIFICATION_TAG];
    let start = match tag {
        TAG_FULL => VERIFICATION_TAG + 1,
        TAG_PARTIAL => VERIFICATION_TAG + 2,
        _ => return err!(ErrorCode::OracleUndecodable),
    };
    require!(data.len() >= start + MESSAGE_LEN, ErrorCode::OracleUndecodable);
    require!(bytes32_eq_at(data, start, &config.pyth_feed_id), ErrorCode::OracleFeedMismatch);
    require!(tag == TAG_FULL, ErrorCode::OracleNotFullyVerified);
    let word = |at: usize| le_u64_at(data, start + at);
    // The exponent is the low half of the word at 48 (little-endian i32).
    let scale = Scale::of(word(48) as u32 as i32)?;
    Ok(OracleReading {
        price: scale.price(word(32) as i64)?,
        confidence: scale.confidence(word(40))?,
        publish_slot: word(84),
        publish_time: word(52) as i64,
        ema_price: scale.price(word(68) as i64)?,
        source: OracleSource::Pyth,
    })
}

/// Checks a decoded update against the market's config and scales it: shared with off-chain
/// readers (keeper, SDK), which fetch and decode the account themselves.
pub fn reading_from_update(config: &OracleConfig, update: &PriceUpdateV2) -> Result<OracleReading> {
    require!(update.price_message.feed_id == config.pyth_feed_id, ErrorCode::OracleFeedMismatch);
    require!(update.verification_level == VerificationLevel::Full, ErrorCode::OracleNotFullyVerified);
    let msg = &update.price_message;
    let scale = Scale::of(msg.exponent)?;
    Ok(OracleReading {
        price: scale.price(msg.price)?,
        confidence: scale.confidence(msg.conf)?,
        publish_slot: update.posted_slot,
        publish_time: msg.publish_time,
        ema_price: scale.price(msg.ema_price)?,
        source: OracleSource::Pyth,
    })
}

/// 10^0 ..= 10^18: every power a price shift can need, without a pow loop per value.
const POW10: [u64; 19] = {
    let mut table = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// The shift from a Pyth exponent to the 1e6 scale, worked out once per update (price,
/// confidence and EMA share the exponent).
#[derive(Clone, Copy)]
struct Scale {
    /// true: multiply by `factor`; false: divide by it.
    up: bool,
    factor: u64,
}

impl Scale {
    fn of(exponent: i32) -> Result<Self> {
        let shift = exponent.checked_add(6).ok_or(ErrorCode::OracleExponentOutOfRange)?;
        require!((-18..=12).contains(&shift), ErrorCode::OracleExponentOutOfRange);
        Ok(Self { up: shift >= 0, factor: POW10[shift.unsigned_abs() as usize] })
    }

    /// `v × 10^exponent` at 1e6, truncated toward zero. 10^18 fits i64: native 64-bit arithmetic.
    fn price(self, value: i64) -> Result<i64> {
        if self.up {
            Ok(value.safe_mul(self.factor as i64)?)
        } else {
            // Unsigned division of the magnitude (SBPF has no signed division: LLVM would emit
            // a software routine), truncated toward zero like `/` on i64.
            let magnitude = (value.unsigned_abs() / self.factor) as i64;
            Ok(if value < 0 { -magnitude } else { magnitude })
        }
    }

    /// Confidence at 1e6, rounded up so uncertainty is never understated.
    fn confidence(self, conf: u64) -> Result<u64> {
        if self.up {
            Ok(conf.safe_mul(self.factor)?)
        } else {
            Ok(conf.div_ceil(self.factor))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use pyth_solana_receiver_sdk::price_update::PriceFeedMessage;

    fn update(level: VerificationLevel, feed: [u8; 32], price: i64, expo: i32) -> Vec<u8> {
        let u = PriceUpdateV2 {
            write_authority: Pubkey::new_unique(),
            verification_level: level,
            price_message: PriceFeedMessage {
                feed_id: feed,
                price,
                conf: 12_345,
                exponent: expo,
                publish_time: 1_700_000_123,
                prev_publish_time: 1_700_000_100,
                ema_price: price / 2 + 7,
                ema_conf: 99,
            },
            posted_slot: 987_654,
        };
        let mut data = vec![];
        u.try_serialize(&mut data).unwrap();
        data.resize(PriceUpdateV2::LEN, 0);
        data
    }

    fn config(feed: [u8; 32]) -> OracleConfig {
        OracleConfig {
            pyth_feed_id: feed,
            switchboard_feed: Pubkey::default(),
            max_staleness_slots_margin: 1,
            max_staleness_slots_trading: 1,
            max_staleness_seconds: 1,
            max_confidence_ratio: 1,
            max_age_seconds_liquidation: 1,
            fallback_max_divergence: 1,
        }
    }

    #[test]
    fn byte_reader_agrees_with_the_borsh_decoder() {
        let feed = [7u8; 32];
        for (level, price, expo) in [
            (VerificationLevel::Full, 15_012_345_678i64, -8),
            (VerificationLevel::Full, -5, -5),
            (VerificationLevel::Full, 3, 2),
            (VerificationLevel::Partial { num_signatures: 3 }, 15_012_345_678, -8),
        ] {
            let data = update(level, feed, price, expo);
            let decoded = PriceUpdateV2::try_deserialize(&mut &data[..]).unwrap();
            for cfg in [config(feed), config([8u8; 32])] {
                let code = |e: anchor_lang::error::Error| match e {
                    anchor_lang::error::Error::AnchorError(a) => a.error_code_number,
                    other => panic!("{other:?}"),
                };
                let by_bytes = reading_from_bytes(&cfg, &data).map_err(code);
                let by_borsh = reading_from_update(&cfg, &decoded).map_err(code);
                assert_eq!(by_bytes, by_borsh, "{level:?} {price} {expo}");
            }
        }
        let data = update(VerificationLevel::Full, feed, 1, -8);
        assert!(reading_from_bytes(&config(feed), &data[..60]).is_err());
        let mut bad = data.clone();
        bad[0] ^= 1;
        assert!(reading_from_bytes(&config(feed), &bad).is_err());
    }

    #[test]
    fn scales_pyth_exponents() {
        let scale_price = |value: i64, exponent: i32| Scale::of(exponent).and_then(|s| s.price(value));
        let scale_confidence = |conf: u64, exponent: i32| Scale::of(exponent).and_then(|s| s.confidence(conf));
        assert_eq!(scale_price(15_012_345_678, -8).unwrap(), 150_123_456); // $150.12345678
        assert_eq!(scale_price(-15_012_345_678, -8).unwrap(), -150_123_456);
        assert_eq!(scale_price(3, 0).unwrap(), 3_000_000);
        assert_eq!(scale_confidence(1, -8).unwrap(), 1); // 1e-8 rounds up to 1e-6
        assert_eq!(scale_confidence(200, -8).unwrap(), 2);
        assert!(scale_price(1, -30).is_err());
        assert!(scale_price(i64::MAX, 12).is_err());
    }
}
