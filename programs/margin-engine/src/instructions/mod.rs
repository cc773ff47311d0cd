//! One file per instruction: its `Accounts` struct (every constraint names its error) and handler.
pub mod cancel_all_orders;
pub mod cancel_order;
pub mod close_margin_account;
pub mod create_margin_account;
pub mod create_market;
pub mod deposit;
pub mod fill_orders;
pub mod initialize_exchange;
pub mod place_order;
pub mod prune_expired_orders;
pub mod set_delegate;
pub mod update_funding;
pub mod withdraw;

pub use cancel_all_orders::*;
pub use cancel_order::*;
pub use close_margin_account::*;
pub use create_margin_account::*;
pub use create_market::*;
pub use deposit::*;
pub use fill_orders::*;
pub use initialize_exchange::*;
pub use place_order::*;
pub use prune_expired_orders::*;
pub use set_delegate::*;
pub use update_funding::*;
pub use withdraw::*;
