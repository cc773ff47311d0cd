use super::*;
use proptest::prelude::*;

#[test]
fn mul_div_rounds_as_asked() {
    assert_eq!(mul_div_u128(7, 3, 2, Rounding::Down).unwrap(), 10);
    assert_eq!(mul_div_u128(7, 3, 2, Rounding::Up).unwrap(), 11);
    assert_eq!(mul_div_u128(8, 3, 2, Rounding::Up).unwrap(), 12);
    assert_eq!(mul_div_i128(-7, 3, 2, Rounding::Down).unwrap(), -11);
    assert_eq!(mul_div_i128(-7, 3, 2, Rounding::Up).unwrap(), -10);
    assert_eq!(mul_div_i128(7, 3, 2, Rounding::Down).unwrap(), 10);
    assert_eq!(mul_div_i128(-8, 3, 2, Rounding::Down).unwrap(), -12);
}

#[test]
fn mul_div_rejects_overflow_and_zero_divisor() {
    assert_eq!(mul_div_u128(u128::MAX, 2, 1, Rounding::Down), Err(ErrorCode::MathOverflow));
    assert_eq!(mul_div_u128(1, 1, 0, Rounding::Down), Err(ErrorCode::MathOverflow));
    assert_eq!(mul_div_i128(1, 1, -1, Rounding::Down), Err(ErrorCode::MathOverflow));
    assert_eq!(i128_to_i64(i64::MAX as i128 + 1), Err(ErrorCode::MathOverflow));
}

#[test]
fn isqrt_known_values() {
    assert_eq!(isqrt_u128(0), 0);
    assert_eq!(isqrt_u128(1), 1);
    assert_eq!(isqrt_u128(15), 3);
    assert_eq!(isqrt_u128(16), 4);
    assert_eq!(isqrt_u128(1_000_000_000_000_000_000), 1_000_000_000);
    assert_eq!(isqrt_u128(u128::MAX), u64::MAX as u128);
}

proptest! {
    #[test]
    fn isqrt_is_floor_root(n in any::<u128>()) {
        let r = isqrt_u128(n);
        prop_assert!(r.checked_mul(r).map_or(false, |sq| sq <= n));
        let next = r + 1;
        prop_assert!(next.checked_mul(next).map_or(true, |sq| sq > n));
    }

    #[test]
    fn signed_rounding_brackets_exact_quotient(n in -1_000_000_000_000i128..1_000_000_000_000, d in 1i128..1_000_000) {
        let down = div_i128(n, d, Rounding::Down).unwrap();
        let up = div_i128(n, d, Rounding::Up).unwrap();
        prop_assert!(down * d <= n && n < (down + 1) * d);
        prop_assert!(up * d >= n && n > (up - 1) * d);
        prop_assert!(up - down <= 1);
    }
}
