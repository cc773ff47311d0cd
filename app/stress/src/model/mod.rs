//! The market model around the program: price impact through each market's depth, and the three
//! markets driven by one scenario path.
pub mod impact;
pub mod markets;
