//! Backend-agnostic integration harness: scenarios talk to a [`backend::Backend`] in raw bytes;
//! [`env::TestEnv`] owns the chain, the mint, the oracles and the accounts it created.
pub mod backend;
pub mod cached;
pub mod chain;
pub mod env;
pub mod fuzz;
pub mod invariants;
pub mod native;
pub mod refusal;
#[cfg(feature = "rpc")]
pub mod rpc;

pub use backend::*;
pub use env::*;
