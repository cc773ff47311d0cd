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

/// `a * b / d` on u128 with the given rounding; `d` must be non-zero.
pub fn mul_div_u128(a: u128, b: u128, d: u128, rounding: Rounding) -> MathResult<u128> {
    if d == 0 {
        return Err(ErrorCode::MathOverflow);
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
    let product = a.checked_mul(b).ok_or(ErrorCode::MathOverflow)?;
    div_i128(product, d, rounding)
}

/// `n / d` on i128 with `d > 0` and explicit rounding.
pub fn div_i128(n: i128, d: i128, rounding: Rounding) -> MathResult<i128> {
    if d <= 0 {
        return Err(ErrorCode::MathOverflow);
    }
    let q = n / d; // truncates toward zero
    let r = n % d;
    Ok(match rounding {
        Rounding::Down if r < 0 => q - 1,
        Rounding::Up if r > 0 => q + 1,
        _ => q,
    })
}

/// Floor of the square root (Newton's method; exact for every u128).
pub fn isqrt_u128(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    // Start above the root: 2^(ceil(bits/2)).
    let bits = 128 - n.leading_zeros();
    let mut x: u128 = 1u128 << bits.div_ceil(2);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
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
