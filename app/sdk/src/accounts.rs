//! Decoding program accounts from raw bytes (as any RPC or test bank returns them).
use anchor_lang::{Discriminator, ZeroCopy};
use margin_engine::state::{Exchange, MarginAccount, Market};

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooShort,
    WrongDiscriminator,
}

/// Copies a zero-copy account out of its data (unaligned-safe).
pub fn decode<T: ZeroCopy + Discriminator>(data: &[u8]) -> Result<T, DecodeError> {
    let disc = T::DISCRIMINATOR;
    let end = disc.len() + core::mem::size_of::<T>();
    if data.len() < end {
        return Err(DecodeError::TooShort);
    }
    if &data[..disc.len()] != disc {
        return Err(DecodeError::WrongDiscriminator);
    }
    Ok(bytemuck::pod_read_unaligned(&data[disc.len()..end]))
}

pub fn exchange(data: &[u8]) -> Result<Exchange, DecodeError> {
    decode(data)
}

pub fn market(data: &[u8]) -> Result<Market, DecodeError> {
    decode(data)
}

pub fn margin_account(data: &[u8]) -> Result<MarginAccount, DecodeError> {
    decode(data)
}
