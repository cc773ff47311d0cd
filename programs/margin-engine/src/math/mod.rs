//! Pure integer math: no `AccountInfo`, no clock, no logging. The program, the SDK, the keeper and
//! the stress harness all call these same functions, so on-chain and off-chain numbers agree.
pub mod adl;
pub mod breaker;
pub mod fixed;
pub mod funding;
pub mod insurance;
pub mod liquidation;
pub mod margin;
pub mod position;
pub mod stable_price;
pub mod trading;
pub mod volatility;

/// Math failures surface as the program's own error code (`MathOverflow`).
pub type MathResult<T> = core::result::Result<T, crate::error::ErrorCode>;
