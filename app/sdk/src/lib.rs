//! Client SDK for the margin engine. Builds every instruction with all accounts derived, decodes
//! accounts, talks to a cluster through `Chain`, and re-exports the program's own math (no second
//! copy of any formula).
pub mod accounts;
pub mod analytics;
pub mod chain;
pub mod instructions;
pub mod orders;
pub mod pda;
#[cfg(feature = "rpc")]
pub mod rpc;
pub mod scenario;

pub use margin_engine::{self, constants, error::ErrorCode, math, oracle::validity, state, ID as PROGRAM_ID};
