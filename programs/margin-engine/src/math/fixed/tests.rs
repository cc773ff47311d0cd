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

// The 64-bit routes must agree with the plain 128-bit formulas everywhere.
fn reference_mul_div_u128(a: u128, b: u128, d: u128, rounding: Rounding) -> MathResult<u128> {
    let product = a.checked_mul(b).ok_or(ErrorCode::MathOverflow)?;
    let q = product / d;
    Ok(if rounding == Rounding::Up && product % d != 0 { q + 1 } else { q })
}

fn reference_div_i128(n: i128, d: i128, rounding: Rounding) -> i128 {
    let (q, r) = (n / d, n % d);
    match rounding {
        Rounding::Down if r < 0 => q - 1,
        Rounding::Up if r > 0 => q + 1,
        _ => q,
    }
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![Just(Rounding::Down), Just(Rounding::Up)]
}

/// Operands spread over every magnitude, with the 2^32 / 2^64 edges over-represented.
fn wide_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..1_000_000,
        (0u32..64).prop_map(|s| 1u64 << s),
        (1u64 << 32) - 2..(1u64 << 32) + 2,
        u64::MAX - 3..=u64::MAX
    ]
}

#[test]
fn fast_routes_hit_edges() {
    for &(a, b, d) in &[
        (u64::MAX, u64::MAX, 1u64),
        (u64::MAX, u64::MAX, u32::MAX as u64),
        (u64::MAX, 3, u32::MAX as u64 + 1),
        (1 << 40, 1 << 40, 1_000_000_000),
    ] {
        for r in [Rounding::Down, Rounding::Up] {
            let (a, b, d) = (a as u128, b as u128, d as u128);
            assert_eq!(mul_div_u128(a, b, d, r), reference_mul_div_u128(a, b, d, r));
        }
    }
    assert_eq!(mul_div_i128(i64::MIN as i128, i64::MIN as i128, 1, Rounding::Down).unwrap(), 1i128 << 126);
    assert_eq!(
        mul_div_i128(i64::MIN as i128, i64::MAX as i128, 7, Rounding::Down).unwrap(),
        reference_div_i128(i64::MIN as i128 * i64::MAX as i128, 7, Rounding::Down)
    );
    assert_eq!(isqrt_u128((u64::MAX as u128) + 1), 1 << 32);
    assert_eq!(isqrt_u64(u64::MAX), u32::MAX as u64);
}

proptest! {
    #[test]
    fn mul_div_u128_fast_route_matches_reference(a in wide_u64(), b in wide_u64(), d in wide_u64(), r in rounding()) {
        prop_assume!(d > 0);
        let (a, b, d) = (a as u128, b as u128, d as u128);
        prop_assert_eq!(mul_div_u128(a, b, d, r), reference_mul_div_u128(a, b, d, r));
    }

    #[test]
    fn mul_div_u128_wide_operands_match_reference(a in any::<u128>(), b in any::<u64>(), d in 1u128..u128::MAX, r in rounding()) {
        prop_assert_eq!(mul_div_u128(a, b as u128, d, r), reference_mul_div_u128(a, b as u128, d, r));
    }

    #[test]
    fn mul_div_i128_fast_route_matches_reference(a in any::<i64>(), b in any::<i64>(), d in wide_u64(), r in rounding()) {
        prop_assume!(d > 0 && d <= i64::MAX as u64);
        let expected = reference_div_i128(a as i128 * b as i128, d as i128, r);
        prop_assert_eq!(mul_div_i128(a as i128, b as i128, d as i128, r).unwrap(), expected);
    }

    #[test]
    fn mul_div_i128_small_operands_match_reference(a in -1_000_000_000_000i128..1_000_000_000_000, b in -1_000_000i128..1_000_000, d in 1i128..2_000_000_000, r in rounding()) {
        prop_assert_eq!(mul_div_i128(a, b, d, r).unwrap(), reference_div_i128(a * b, d, r));
    }

    #[test]
    fn div_i128_matches_reference(n in any::<i128>(), d in 1i128..i128::MAX, small in any::<i64>(), small_d in 1i64..i64::MAX, r in rounding()) {
        prop_assert_eq!(div_i128(n, d, r).unwrap(), reference_div_i128(n, d, r));
        prop_assert_eq!(div_i128(small as i128, small_d as i128, r).unwrap(), reference_div_i128(small as i128, small_d as i128, r));
    }

    #[test]
    fn isqrt_u64_is_floor_root(n in wide_u64()) {
        let r = isqrt_u64(n) as u128;
        prop_assert!(r * r <= n as u128 && (r + 1) * (r + 1) > n as u128);
        prop_assert_eq!(isqrt_u128(n as u128), r);
    }

    #[test]
    fn isqrt_above_two_to_the_64_is_floor_root(hi in 1u64..=u64::MAX, lo in any::<u64>()) {
        let n = ((hi as u128) << 64) | lo as u128;
        let r = isqrt_u128(n);
        prop_assert!(r * r <= n);
        prop_assert!((r + 1).checked_mul(r + 1).map_or(true, |sq| sq > n));
    }
}

proptest! {
    #[test]
    fn bytes32_eq_is_slice_equality(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), flip in 0usize..32) {
        prop_assert_eq!(bytes32_eq(&a, &b), a == b);
        prop_assert!(bytes32_eq(&a, &a));
        let mut c = a;
        c[flip] ^= 1;
        prop_assert!(!bytes32_eq(&c, &a));
        prop_assert!(!bytes32_eq(&a[..31], &a));
    }
}

proptest! {
    /// The word reader equals `u64::from_le_bytes` at every offset, whether the slice starts
    /// aligned (one or two aligned loads) or not (bytes), and the 32-byte comparison agrees with `==`.
    #[test]
    fn word_reads_equal_byte_reads(bytes in proptest::collection::vec(any::<u8>(), 48), skew in 0usize..8, at in 0usize..33) {
        let words: Vec<u64> = bytes.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        let aligned: &[u8] = bytemuck::cast_slice(&words);
        let data = &aligned[skew..];
        if at + 8 <= data.len() {
            prop_assert_eq!(le_u64_at(data, at), u64::from_le_bytes(data[at..at + 8].try_into().unwrap()));
        }
        let key: [u8; 32] = aligned[8..40].try_into().unwrap();
        prop_assert_eq!(bytes32_eq_at(data, at, &key), data.len() >= at + 32 && data[at..at + 32] == key);
    }
}
