//! Account layouts. All zero-copy with 8-byte-aligned fields only (no i128/u128: natively the
//! account data is only 8-aligned, see the toolchain notes).
pub mod exchange;
pub mod insurance_stake;
pub mod margin_account;
pub mod market;

pub use exchange::*;
pub use insurance_stake::*;
pub use margin_account::*;
pub use market::*;
