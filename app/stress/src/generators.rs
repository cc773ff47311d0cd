//! Synthetic crash generators (seeded): Merton-style jump diffusion and GARCH(1,1)-like
//! volatility clustering. Prices start at 100.
use margin_engine_sdk::scenario::SplitMix;

/// Diffusion of 4% a day with a negative drift, plus Poisson jumps (about six a day) of
/// −4% ± 3%.
pub fn jump_diffusion(seed: u64, step_seconds: u64, total_seconds: u64) -> Vec<(u64, f64)> {
    let mut rng = SplitMix(seed);
    let dt = step_seconds as f64 / 86_400.0;
    let (sigma, drift, jumps_per_day) = (0.04, -0.10, 6.0);
    let mut p = 100.0;
    let mut out = vec![(0, p)];
    let mut t = step_seconds;
    while t <= total_seconds {
        let mut r = drift * dt + sigma * dt.sqrt() * rng.normal();
        if rng.uniform() < jumps_per_day * dt {
            r += -0.04 + 0.03 * rng.normal();
        }
        p *= (r).exp();
        out.push((t, p));
        t += step_seconds;
    }
    out
}

/// GARCH(1,1) on per-step returns: ω, α = 0.1, β = 0.88, long-run daily vol 5%, with a shock
/// that starts a high-volatility cluster a third of the way in.
pub fn garch(seed: u64, step_seconds: u64, total_seconds: u64) -> Vec<(u64, f64)> {
    let mut rng = SplitMix(seed);
    let steps_per_day = 86_400.0 / step_seconds as f64;
    let long_run = 0.05f64.powi(2) / steps_per_day;
    let (alpha, beta) = (0.1, 0.88);
    let omega = long_run * (1.0 - alpha - beta);
    let mut var = long_run;
    let mut p = 100.0;
    let mut out = vec![(0, p)];
    let mut t = step_seconds;
    let shock_at = total_seconds / 3;
    while t <= total_seconds {
        let mut r = var.sqrt() * rng.normal();
        if t >= shock_at && t < shock_at + step_seconds {
            r -= 0.08;
        }
        var = omega + alpha * r * r + beta * var;
        p *= r.exp();
        out.push((t, p));
        t += step_seconds;
    }
    out
}

/// Whipsaw: calm diffusion broken by violent swings, each a jump of 6–14% one way and most of it
/// back within minutes, about once an hour and in either direction. A breaker that trips on the
/// first leg and reopens into the second is what this path tests (oscillation).
pub fn whipsaw(seed: u64, step_seconds: u64, total_seconds: u64) -> Vec<(u64, f64)> {
    let mut rng = SplitMix(seed);
    let dt = step_seconds as f64 / 86_400.0;
    let (sigma, swings_per_day) = (0.04, 24.0);
    let mut p = 100.0;
    let mut out = vec![(0, p)];
    let mut t = step_seconds;
    // Log-return still to give back, and over how many steps.
    let (mut owed, mut steps_left) = (0.0f64, 0u64);
    let back_steps = (600 / step_seconds).max(1);
    while t <= total_seconds {
        let mut r = sigma * dt.sqrt() * rng.normal();
        if steps_left > 0 {
            let part = owed / steps_left as f64;
            r += part;
            owed -= part;
            steps_left -= 1;
        } else if rng.uniform() < swings_per_day * dt {
            let size = 0.06 + 0.08 * rng.uniform();
            let jump = if rng.uniform() < 0.5 { -size } else { size };
            r += jump;
            owed = -0.8 * jump;
            steps_left = back_steps;
        }
        p *= r.exp();
        out.push((t, p));
        t += step_seconds;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_seeded_and_positive() {
        let a = jump_diffusion(3, 10, 86_400);
        assert_eq!(a, jump_diffusion(3, 10, 86_400));
        assert_eq!(a.len(), 8_641);
        assert!(a.iter().all(|(_, p)| *p > 0.0));
        let g = garch(3, 10, 86_400);
        assert_eq!(g.len(), 8_641);
        // The shock a third of the way in starts a cluster: returns after it are wider.
        let spread =
            |w: &[(u64, f64)]| w.windows(2).map(|x| (x[1].1 / x[0].1).ln().abs()).sum::<f64>() / w.len() as f64;
        assert!(spread(&g[2_900..3_300]) > spread(&g[1_000..1_400]));
        let w = whipsaw(3, 60, 86_400);
        assert_eq!(w, whipsaw(3, 60, 86_400));
        // Swings both ways, each mostly given back: many 5%+ one-step moves, a path that ends
        // near where it started compared to the sum of its swings.
        let big: Vec<f64> = w.windows(2).map(|x| (x[1].1 / x[0].1).ln()).filter(|r| r.abs() > 0.05).collect();
        assert!(big.iter().any(|r| *r > 0.0) && big.iter().any(|r| *r < 0.0), "{big:?}");
        assert!(big.len() >= 5);
        assert!((w.last().unwrap().1 / 100.0).ln().abs() < big.iter().map(|r| r.abs()).sum::<f64>() / 2.0);
    }
}
