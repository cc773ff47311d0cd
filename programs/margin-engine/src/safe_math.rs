//! Checked arithmetic for handlers and controllers (Drift's `SafeMath`): an overflow is still the
//! one `MathOverflow` error, but the program log names the file and line that overflowed, so a
//! failed transaction says where. Pure `math/` keeps returning `MathResult` without logging.
use anchor_lang::prelude::*;
use core::panic::Location;

use crate::error::ErrorCode;

#[cold]
fn overflow(at: &'static Location<'static>) -> Error {
    msg!("math overflow at {}:{}", at.file(), at.line());
    ErrorCode::MathOverflow.into()
}

pub trait SafeMath: Sized {
    fn safe_add(self, rhs: Self) -> Result<Self>;
    fn safe_sub(self, rhs: Self) -> Result<Self>;
    fn safe_mul(self, rhs: Self) -> Result<Self>;
}

macro_rules! safe_math {
    ($($t:ty),*) => {$(
        impl SafeMath for $t {
            #[track_caller]
            #[inline]
            fn safe_add(self, rhs: Self) -> Result<Self> {
                match self.checked_add(rhs) {
                    Some(v) => Ok(v),
                    None => Err(overflow(Location::caller())),
                }
            }
            #[track_caller]
            #[inline]
            fn safe_sub(self, rhs: Self) -> Result<Self> {
                match self.checked_sub(rhs) {
                    Some(v) => Ok(v),
                    None => Err(overflow(Location::caller())),
                }
            }
            #[track_caller]
            #[inline]
            fn safe_mul(self, rhs: Self) -> Result<Self> {
                match self.checked_mul(rhs) {
                    Some(v) => Ok(v),
                    None => Err(overflow(Location::caller())),
                }
            }
        }
    )*};
}
safe_math!(u16, u32, u64, i64, u128, i128);

/// Lossless conversion to `i64` or `u64`, or `MathOverflow` naming the caller.
pub trait SafeCast {
    fn safe_i64(self) -> Result<i64>;
    fn safe_u64(self) -> Result<u64>;
}

macro_rules! safe_cast {
    ($($t:ty),*) => {$(
        impl SafeCast for $t {
            #[track_caller]
            #[inline]
            fn safe_i64(self) -> Result<i64> {
                i64::try_from(self).map_err(|_| overflow(Location::caller()))
            }
            #[track_caller]
            #[inline]
            fn safe_u64(self) -> Result<u64> {
                u64::try_from(self).map_err(|_| overflow(Location::caller()))
            }
        }
    )*};
}
safe_cast!(u64, i64, u128, i128);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_math_overflow_and_values_pass_through() {
        assert_eq!(2u64.safe_add(3).unwrap(), 5);
        assert_eq!(i64::MIN.safe_sub(1), Err(ErrorCode::MathOverflow.into()));
        assert_eq!(u64::MAX.safe_mul(2), Err(ErrorCode::MathOverflow.into()));
        assert_eq!(u64::MAX.safe_i64(), Err(ErrorCode::MathOverflow.into()));
        assert_eq!((-1i64).safe_u64(), Err(ErrorCode::MathOverflow.into()));
        assert_eq!(7u128.safe_i64().unwrap(), 7);
    }
}
