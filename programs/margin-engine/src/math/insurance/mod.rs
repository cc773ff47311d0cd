//! Insurance-fund share accounting and per-market draw limits. All rounding favours the fund:
//! shares issued and values paid round down, shares burned round up.
use super::fixed::{mul_div_u128, u128_to_u64, Rounding};
use super::MathResult;
use crate::error::ErrorCode;

/// Shares for depositing `amount` into a fund of `balance` with `total_shares` outstanding.
pub fn shares_for_deposit(amount: u64, total_shares: u64, balance: u64) -> MathResult<u64> {
    if total_shares == 0 {
        return Ok(amount);
    }
    if balance == 0 {
        // Shares exist but back nothing: new money would be claimed by them.
        return Err(ErrorCode::InsuranceFundDepleted);
    }
    u128_to_u64(mul_div_u128(amount as u128, total_shares as u128, balance as u128, Rounding::Down)?)
}

/// What `shares` are worth now.
pub fn value_of_shares(shares: u64, total_shares: u64, balance: u64) -> MathResult<u64> {
    if total_shares == 0 {
        return Ok(0);
    }
    u128_to_u64(mul_div_u128(shares as u128, balance as u128, total_shares as u128, Rounding::Down)?)
}

/// Shares that must be burned to take `amount` out.
pub fn shares_to_burn(amount: u64, total_shares: u64, balance: u64) -> MathResult<u64> {
    if balance == 0 {
        return Err(ErrorCode::InsuranceFundDepleted);
    }
    u128_to_u64(mul_div_u128(amount as u128, total_shares as u128, balance as u128, Rounding::Up)?)
}

/// What the fund may still pay for one market this period: the lesser of its balance and the
/// market's remaining cap.
pub fn available_draw(balance: u64, cap: u64, drawn_in_period: u64) -> u64 {
    balance.min(cap.saturating_sub(drawn_in_period))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_checked() {
        assert_eq!(shares_for_deposit(100, 0, 0).unwrap(), 100);
        assert_eq!(shares_for_deposit(100, 1_000, 1_500).unwrap(), 66);
        assert_eq!(value_of_shares(66, 1_066, 1_600).unwrap(), 99);
        assert_eq!(shares_to_burn(100, 1_000, 1_500).unwrap(), 67);
        assert_eq!(shares_for_deposit(1, 10, 0), Err(ErrorCode::InsuranceFundDepleted));
        assert_eq!(available_draw(1_000, 300, 100), 200);
        assert_eq!(available_draw(150, 300, 100), 150);
        assert_eq!(available_draw(1_000, 300, 400), 0);
    }

    proptest! {
        /// Depositing then immediately withdrawing never returns more than was put in.
        #[test]
        fn round_trip_never_profits(amount in 1u64..1_000_000_000_000, total in 1u64..1_000_000_000_000, balance in 1u64..1_000_000_000_000) {
            let shares = shares_for_deposit(amount, total, balance).unwrap();
            let back = value_of_shares(shares, total + shares, balance + amount).unwrap();
            prop_assert!(back <= amount);
        }
    }
}
