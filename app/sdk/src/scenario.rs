//! Price-path scenarios: the `seconds,price` CSV format of the shipped crash paths, parsed with
//! line-numbered errors and interpolated to any step.
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Waypoint {
    pub seconds: u64,
    pub price: f64,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Parses `seconds,price` rows; `#` lines are comments; a `seconds,price` header is optional.
/// Seconds must strictly increase and prices be positive and finite.
pub fn parse(text: &str) -> Result<Vec<Waypoint>, ScenarioError> {
    let mut points: Vec<Waypoint> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') || row.eq_ignore_ascii_case("seconds,price") {
            continue;
        }
        let err = |message: String| ScenarioError { line, message };
        let mut cols = row.split(',').map(str::trim);
        let (Some(s), Some(p), None) = (cols.next(), cols.next(), cols.next()) else {
            return Err(err(format!("expected `seconds,price`, got `{row}`")));
        };
        let seconds: u64 = s.parse().map_err(|_| err(format!("seconds `{s}` is not a whole number")))?;
        let price: f64 = p.parse().map_err(|_| err(format!("price `{p}` is not a number")))?;
        if !(price.is_finite() && price > 0.0) {
            return Err(err(format!("price {price} must be positive")));
        }
        if let Some(last) = points.last() {
            if seconds <= last.seconds {
                return Err(err(format!("seconds {seconds} do not increase (previous {})", last.seconds)));
            }
        }
        points.push(Waypoint { seconds, price });
    }
    if points.len() < 2 {
        return Err(ScenarioError { line: text.lines().count(), message: "need at least two waypoints".into() });
    }
    Ok(points)
}

/// Linear interpolation every `step_seconds`, from the first waypoint to the last inclusive.
pub fn interpolate(points: &[Waypoint], step_seconds: u64) -> Vec<(u64, f64)> {
    let end = points.last().map_or(0, |p| p.seconds);
    let mut out = Vec::new();
    let mut seg = 0;
    let mut t = points[0].seconds;
    while t <= end {
        while seg + 1 < points.len() - 1 && t > points[seg + 1].seconds {
            seg += 1;
        }
        let (a, b) = (&points[seg], &points[(seg + 1).min(points.len() - 1)]);
        let w = if b.seconds > a.seconds {
            (t.saturating_sub(a.seconds)) as f64 / (b.seconds - a.seconds) as f64
        } else {
            0.0
        };
        out.push((t, a.price + (b.price - a.price) * w.clamp(0.0, 1.0)));
        t += step_seconds.max(1);
    }
    out
}

/// Seeded multiplicative noise on an interpolated path, heavier where the path moves fast
/// (volatility clusters in crashes): per-step return noise with σ = `base_sigma` + `drift_factor`
/// × |the path's own return over that step|. Deterministic for a seed.
pub fn with_noise(path: &[(u64, f64)], seed: u64, base_sigma: f64, drift_factor: f64) -> Vec<(u64, f64)> {
    let mut rng = SplitMix(seed);
    let mut out = Vec::with_capacity(path.len());
    for (i, &(t, p)) in path.iter().enumerate() {
        if i == 0 {
            out.push((t, p));
            continue;
        }
        let drift = (p - path[i - 1].1).abs() / path[i - 1].1;
        let sigma = base_sigma + drift_factor * drift;
        out.push((t, (p * (1.0 + sigma * rng.normal())).max(p * 0.01)));
    }
    out
}

/// SplitMix64 with a Box–Muller normal: small, seedable, no dependency.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Price in the program's 1e6 fixed point.
pub fn to_price_1e6(price: f64) -> u64 {
    (price * 1e6).round().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_interpolates() {
        let p = parse("# c\nseconds,price\n0,100\n10,110\n30,90\n").unwrap();
        assert_eq!(p.len(), 3);
        let path = interpolate(&p, 5);
        assert_eq!(path, vec![(0, 100.0), (5, 105.0), (10, 110.0), (15, 105.0), (20, 100.0), (25, 95.0), (30, 90.0)]);
    }

    #[test]
    fn noise_is_seeded_and_heavier_where_the_path_moves() {
        let flat: Vec<(u64, f64)> = (0..2_000).map(|i| (i, 100.0)).collect();
        let a = with_noise(&flat, 7, 0.001, 3.0);
        assert_eq!(a, with_noise(&flat, 7, 0.001, 3.0));
        assert_ne!(a, with_noise(&flat, 8, 0.001, 3.0));
        let spread = |v: &[(u64, f64)]| v.iter().map(|(_, p)| (p - 100.0).abs()).sum::<f64>() / v.len() as f64;
        let falling: Vec<(u64, f64)> = (0..2_000).map(|i| (i, 100.0 * (1.0 - 0.0002 * i as f64))).collect();
        let noisy_fall = with_noise(&falling, 7, 0.001, 3.0);
        let fall_dev = noisy_fall.iter().zip(&falling).map(|(n, f)| (n.1 - f.1).abs() / f.1).sum::<f64>() / 2_000.0;
        assert!(spread(&a) / 100.0 < fall_dev, "a falling path is noisier than a flat one");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("seconds,price\n0,100\n5,abc\n").unwrap_err().line, 3);
        assert_eq!(parse("0,100\n0,101\n").unwrap_err().line, 2);
        assert_eq!(parse("0,100\n5,-1\n").unwrap_err().line, 2);
        assert_eq!(parse("0,100\n5,1,2\n").unwrap_err().line, 2);
        assert!(parse("0,100\n").is_err());
    }
}
