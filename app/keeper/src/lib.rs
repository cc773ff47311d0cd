//! The keeper bot as a library: a `View` of every market and margin account, scored on the
//! program's own health math, and a `Keeper` that turns it into permissionless instructions.
pub mod config;
pub mod keeper;
pub mod metrics;
pub mod view;

pub use config::KeeperConfig;
pub use keeper::Keeper;
pub use view::{score_accounts, View};
