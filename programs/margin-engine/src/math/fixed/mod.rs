//! Checked fixed-point helpers with explicit rounding direction.
use super::MathResult;
use crate::error::ErrorCode;

/// Which way a division rounds. `Down` is toward negative infinity, `Up` toward positive
/// infinity, for signed values too: callers pick the direction that favours the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    Down,
    Up,
}

// SBF has native 64-bit division but none for 128 bits: a `u128 /` is a software routine of
// several hundred compute units. Every helper below first tries an exact 64-bit route and falls
// back to 128-bit arithmetic only when the operands need it; both routes give identical results
// (property-tested against the plain 128-bit formulas in tests.rs).

/// `a * b / d` for `a, b < 2^64`, `0 < d`: the quotient and whether it is exact. 64-bit
/// divisions only, when the product fits 64 bits or `d < 2^32` (splitting `a` and `b` by `d`:
/// `a·b = d·(a_hi·b + a_lo·b_hi) + a_lo·b_lo` with `a_lo·b_lo < d² < 2^64`). None otherwise.
#[inline]
pub fn mul_div_u64_route(a: u64, b: u64, d: u64) -> Option<(u128, bool)> {
    if let Some(p) = a.checked_mul(b) {
        return Some(((p / d) as u128, p % d == 0));
    }
    if d > u32::MAX as u64 {
        return None;
    }
    let (a_hi, a_lo) = (a / d, a % d);
    let (b_hi, b_lo) = (b / d, b % d);
    let low = a_lo * b_lo;
    let q = a_hi as u128 * b as u128 + a_lo as u128 * b_hi as u128 + (low / d) as u128;
    Some((q, low % d == 0))
}

/// `a * b / d` on u128 with the given rounding; `d` must be non-zero.
pub fn mul_div_u128(a: u128, b: u128, d: u128, rounding: Rounding) -> MathResult<u128> {
    if d == 0 {
        return Err(ErrorCode::MathOverflow);
    }
    if let (Ok(a64), Ok(b64), Ok(d64)) = (u64::try_from(a), u64::try_from(b), u64::try_from(d)) {
        if let Some((quotient, exact)) = mul_div_u64_route(a64, b64, d64) {
            return match rounding {
                Rounding::Up if !exact => quotient.checked_add(1).ok_or(ErrorCode::MathOverflow),
                _ => Ok(quotient),
            };
        }
    }
    let product = a.checked_mul(b).ok_or(ErrorCode::MathOverflow)?;
    let quotient = product / d;
    match rounding {
        Rounding::Up if product % d != 0 => quotient.checked_add(1).ok_or(ErrorCode::MathOverflow),
        _ => Ok(quotient),
    }
}

/// `a * b / d` on i128 with `d > 0`, rounding toward -inf (`Down`) or +inf (`Up`).
pub fn mul_div_i128(a: i128, b: i128, d: i128, rounding: Rounding) -> MathResult<i128> {
    if d <= 0 {
        return Err(ErrorCode::MathOverflow);
    }
    // Operands in i64 range: their product cannot overflow i128, so the 64-bit route on the
    // magnitudes agrees with the checked 128-bit one.
    if let (Ok(a64), Ok(b64), Ok(d64)) = (i64::try_from(a), i64::try_from(b), u64::try_from(d)) {
        if let Some((magnitude, exact)) = mul_div_u64_route(a64.unsigned_abs(), b64.unsigned_abs(), d64) {
            let q = magnitude as i128; // < 2^126 / d
            let negative = (a64 < 0) != (b64 < 0);
            return Ok(match (negative, rounding, exact) {
                (false, Rounding::Up, false) => q + 1,
                (false, _, _) => q,
                (true, Rounding::Down, false) => -q - 1,
                (true, _, _) => -q,
            });
        }
    }
    let product = a.checked_mul(b).ok_or(ErrorCode::MathOverflow)?;
    div_i128(product, d, rounding)
}

/// `n / d` on i128 with `d > 0` and explicit rounding.
pub fn div_i128(n: i128, d: i128, rounding: Rounding) -> MathResult<i128> {
    if d <= 0 {
        return Err(ErrorCode::MathOverflow);
    }
    // Truncating toward zero, on magnitudes: SBPF has no signed division (a signed `/` becomes
    // a software routine), and d > 0 so only n's sign matters.
    let (magnitude, remainder) = match (u64::try_from(n.unsigned_abs()), u64::try_from(d)) {
        (Ok(n64), Ok(d64)) => ((n64 / d64) as u128, n64 % d64 != 0),
        _ => (n.unsigned_abs() / d as u128, n.unsigned_abs() % d as u128 != 0),
    };
    let overflow = ErrorCode::MathOverflow;
    if n < 0 {
        let q = 0i128.checked_sub_unsigned(magnitude).ok_or(overflow)?;
        match rounding {
            Rounding::Down if remainder => q.checked_sub(1).ok_or(overflow),
            _ => Ok(q),
        }
    } else {
        let q = i128::try_from(magnitude).map_err(|_| overflow)?;
        match rounding {
            Rounding::Up if remainder => q.checked_add(1).ok_or(overflow),
            _ => Ok(q),
        }
    }
}

/// Floor of the square root of a u64 (Newton's method from above, 64-bit divisions).
pub fn isqrt_u64(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let bits = 64 - n.leading_zeros();
    let mut x: u64 = 1u64 << bits.div_ceil(2);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// Floor of the square root (Newton's method; exact for every u128). Values above 2^64 start
/// from the root of their top 62 bits, which is within 2^-30 of the answer, so one or two
/// 128-bit divisions finish it instead of a dozen.
pub fn isqrt_u128(n: u128) -> u128 {
    if let Ok(small) = u64::try_from(n) {
        return isqrt_u64(small) as u128;
    }
    // An even shift leaving 61–62 significant bits: sqrt(n) < (isqrt(top) + 1) · 2^(shift/2).
    let shift = (128 - n.leading_zeros() - 61) & !1;
    let top = (n >> shift) as u64;
    let mut x: u128 = (isqrt_u64(top) as u128 + 1) << (shift / 2);
    // From above, Newton decreases monotonically to the floor root.
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// The little-endian u64 at byte `at` of `data` (`at + 8 <= data.len()`). SBF has no unaligned
/// 64-bit load: `u64::from_le_bytes` of a byte slice becomes eight byte loads and fourteen shifts
/// and ors. Account data and keys start 8-aligned in the SBF input buffer, so when `data` does,
/// the word is one aligned load, or two and a funnel shift when `at` is not a multiple of 8 (the
/// Borsh fields of a Pyth update). Anything else (native tests, sub-slices) reads byte by byte.
#[inline(always)]
pub fn le_u64_at(data: &[u8], at: usize) -> u64 {
    let shift = at % 8;
    let base = at - shift;
    if shift == 0 {
        if let Ok(word) = bytemuck::try_from_bytes::<u64>(&data[at..at + 8]) {
            return u64::from_le(*word);
        }
    } else if base + 16 <= data.len() {
        if let Ok(words) = bytemuck::try_cast_slice::<u8, u64>(&data[base..base + 16]) {
            let (low, high) = (u64::from_le(words[0]), u64::from_le(words[1]));
            return (low >> (8 * shift)) | (high << (64 - 8 * shift));
        }
    }
    u64::from_le_bytes(data[at..at + 8].try_into().unwrap())
}

/// Equality of 32 bytes (a key, a feed id) as four 64-bit words ([`le_u64_at`]): a fraction of
/// the cost of a byte-wise or `memcmp` comparison on SBF. False when `a` is not 32 bytes long.
#[inline]
pub fn bytes32_eq(a: &[u8], b: &[u8; 32]) -> bool {
    a.len() == 32 && bytes32_eq_at(a, 0, b)
}

/// [`bytes32_eq`] of `data[at..at + 32]`; false when `data` is shorter.
#[inline]
pub fn bytes32_eq_at(data: &[u8], at: usize, b: &[u8; 32]) -> bool {
    if data.len() < at + 32 {
        return false;
    }
    (0..4).all(|i| le_u64_at(data, at + 8 * i) == le_u64_at(b, 8 * i))
}

pub fn i128_to_i64(v: i128) -> MathResult<i64> {
    i64::try_from(v).map_err(|_| ErrorCode::MathOverflow)
}

pub fn u128_to_u64(v: u128) -> MathResult<u64> {
    u64::try_from(v).map_err(|_| ErrorCode::MathOverflow)
}

pub fn u128_to_i128(v: u128) -> MathResult<i128> {
    i128::try_from(v).map_err(|_| ErrorCode::MathOverflow)
}

#[cfg(test)]
mod tests;
