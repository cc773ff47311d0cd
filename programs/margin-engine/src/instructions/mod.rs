//! One file per instruction: its `Accounts` struct (every constraint names its error) and handler.
pub mod close_margin_account;
pub mod create_margin_account;
pub mod create_market;
pub mod deposit;
pub mod initialize_exchange;
pub mod set_delegate;
pub mod withdraw;

pub use close_margin_account::*;
pub use create_margin_account::*;
pub use create_market::*;
pub use deposit::*;
pub use initialize_exchange::*;
pub use set_delegate::*;
pub use withdraw::*;
