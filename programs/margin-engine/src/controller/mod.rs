//! State transitions shared by instructions: they mutate loaded accounts using `math/`, and keep
//! the bookkeeping (collateral totals, open interest, funding pool) consistent in one place.
pub mod adl;
pub mod bankruptcy;
pub mod insurance;
pub mod liquidation;
pub mod market;
pub mod matching;
pub mod orders;
pub mod position;
pub mod vault;
