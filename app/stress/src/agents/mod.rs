//! The agents acting on the chain each step: live traders, competing liquidators, attackers.
pub mod attackers;
pub mod liquidators;
pub mod traders;
