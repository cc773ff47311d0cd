//! Switchboard On-Demand pull feed, the fallback oracle. Only the `result` field is read, copied
//! out unaligned: the full struct holds i128s (16-aligned natively) at an 8-aligned offset, and at
//! 3,200 bytes it would not fit an SBF stack frame by value.
use anchor_lang::prelude::*;
use switchboard_on_demand::on_demand::accounts::pull_feed::{CurrentResult, PullFeedAccountData};

use super::{OracleReading, OracleSource};
use crate::constants::SWITCHBOARD_ON_DEMAND_PROGRAM_ID;
use crate::error::ErrorCode;
use crate::safe_math::SafeCast;
use crate::state::OracleConfig;

const DISCRIMINATOR_LEN: usize = 8;
/// Switchboard values carry 18 decimals; ours 6.
const SCALE_DOWN: i128 = 1_000_000_000_000;

pub fn read(config: &OracleConfig, account: &AccountInfo) -> Result<OracleReading> {
    require_keys_eq!(*account.owner, SWITCHBOARD_ON_DEMAND_PROGRAM_ID, ErrorCode::OracleWrongOwner);
    require_keys_eq!(account.key(), config.switchboard_feed, ErrorCode::OracleFeedMismatch);
    let data = account.try_borrow_data()?;
    let discriminator: &[u8] = <PullFeedAccountData as switchboard_on_demand::Discriminator>::DISCRIMINATOR;
    require!(
        data.len() >= DISCRIMINATOR_LEN + core::mem::size_of::<PullFeedAccountData>()
            && &data[..DISCRIMINATOR_LEN] == discriminator,
        ErrorCode::OracleUndecodable
    );
    let start = DISCRIMINATOR_LEN + core::mem::offset_of!(PullFeedAccountData, result);
    let result: CurrentResult =
        bytemuck::try_pod_read_unaligned(&data[start..start + core::mem::size_of::<CurrentResult>()])
            .map_err(|_| ErrorCode::OracleUndecodable)?;
    let ts_start = DISCRIMINATOR_LEN + core::mem::offset_of!(PullFeedAccountData, last_update_timestamp);
    let publish_time = i64::from_le_bytes(data[ts_start..ts_start + 8].try_into().unwrap());

    let price = (result.value / SCALE_DOWN).safe_i64()?;
    let std_dev = result.std_dev.max(0);
    let confidence = u64::try_from((std_dev + SCALE_DOWN - 1) / SCALE_DOWN).map_err(|_| ErrorCode::MathOverflow)?;
    Ok(OracleReading {
        price,
        confidence,
        publish_slot: result.slot,
        publish_time,
        ema_price: 0,
        source: OracleSource::Switchboard,
    })
}
