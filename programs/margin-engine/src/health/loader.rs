//! Loading the markets an instruction's health checks need from its remaining accounts: groups
//! of (market, Pyth update[, Switchboard feed]), each market checked as Anchor's loader would and
//! each price through the one oracle policy (`oracle::read_price`).
use anchor_lang::prelude::*;

use super::{MarketSnapshot, PriceCache};
use crate::error::ErrorCode;
use crate::math::fixed::{bytes32_eq, le_u64_at};
use crate::oracle::{self, AcceptedPrice, OracleAction};
use crate::state::Market;

impl PriceCache {
    /// Every market an instruction's health checks need, in one place: its own market (`own`: the
    /// market, its address and the price the instruction accepted), when it has one, and the
    /// groups in `remaining`, which may not name the own market again. Fills `self` in place (a
    /// cache is too large to return by value in a 4 KiB SBF frame).
    pub fn load<'info>(
        &mut self,
        own: Option<(&Market, &Pubkey, &AcceptedPrice)>,
        remaining: &'info [AccountInfo<'info>],
        clock: &Clock,
        action: OracleAction,
    ) -> Result<()> {
        let exclude = match own {
            Some((market, key, accepted)) => {
                self.insert(MarketSnapshot::at_accepted_price(market, accepted, clock.slot))?;
                Some(key)
            }
            None => None,
        };
        self.load_remaining(remaining, clock, action, exclude)
    }

    /// Reads market groups from `remaining`. `exclude` is the instruction's own market, already
    /// borrowed mutably: passing it again is an error rather than a silent double borrow.
    fn load_remaining<'info>(
        &mut self,
        remaining: &'info [AccountInfo<'info>],
        clock: &Clock,
        action: OracleAction,
        exclude: Option<&Pubkey>,
    ) -> Result<()> {
        let mut cursor = 0usize;
        while cursor < remaining.len() {
            let market_info = &remaining[cursor];
            require!(
                exclude.is_none_or(|own| !bytes32_eq(market_info.key.as_ref(), &own.to_bytes())),
                ErrorCode::DuplicateMarketAccount
            );
            let market = load_market(market_info)?;
            let per_market = oracle::accounts_per_market(&market);
            let pyth = remaining.get(cursor + 1).ok_or(ErrorCode::MissingMarketAccounts)?;
            let switchboard = match per_market {
                3 => Some(remaining.get(cursor + 2).ok_or(ErrorCode::MissingMarketAccounts)?),
                _ => None,
            };
            let price = oracle::read_price(&market, pyth, switchboard, clock, action)?;
            self.insert(MarketSnapshot::at_accepted_price(&market, &price, clock.slot))?;
            cursor += per_market;
        }
        Ok(())
    }
}

/// `AccountLoader::<Market>::try_from(info)?.load()?`: the same checks in the same order with
/// the same errors (owner, discriminator present, discriminator), compared as 64-bit words. It
/// runs once per market in every health check.
fn load_market<'a>(info: &'a AccountInfo) -> Result<core::cell::Ref<'a, Market>> {
    use anchor_lang::error::ErrorCode as AnchorError;
    if !bytes32_eq(info.owner.as_ref(), &crate::ID.to_bytes()) {
        return Err(Error::from(AnchorError::AccountOwnedByWrongProgram).with_pubkeys((*info.owner, crate::ID)));
    }
    let data = info.try_borrow_data()?;
    let discriminator = <Market as anchor_lang::Discriminator>::DISCRIMINATOR;
    if data.len() < discriminator.len() {
        return Err(AnchorError::AccountDiscriminatorNotFound.into());
    }
    if le_u64_at(&data, 0) != le_u64_at(discriminator, 0) {
        return Err(AnchorError::AccountDiscriminatorMismatch.into());
    }
    let end = 8 + core::mem::size_of::<Market>();
    if data.len() < end {
        return Err(AnchorError::AccountDidNotDeserialize.into());
    }
    Ok(core::cell::Ref::map(data, |d| bytemuck::from_bytes(&d[8..end])))
}
