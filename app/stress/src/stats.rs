//! Mean and 95% confidence interval over seeds (Student's t, since a sweep has few seeds).

#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub mean: f64,
    /// Half-width of the 95% interval (0 with one sample).
    pub half_width: f64,
    pub n: usize,
}

/// Two-sided 95% critical value of Student's t with `df` degrees of freedom.
pub fn t_critical_95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

pub fn estimate(samples: &[f64]) -> Estimate {
    let n = samples.len();
    if n == 0 {
        return Estimate::default();
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate { mean, half_width: 0.0, n };
    }
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate { mean, half_width: t_critical_95(n - 1) * (var / n as f64).sqrt(), n }
}

impl Estimate {
    /// `mean ± half-width` with `decimals` decimals (the interval left out for one sample).
    pub fn show(&self, decimals: usize) -> String {
        if self.n <= 1 {
            format!("{:.*}", decimals, self.mean)
        } else {
            format!("{:.*} ± {:.*}", decimals, self.mean, decimals, self.half_width)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_interval() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        // s = 1.291, s/√4 = 0.6455, t(3) = 3.182.
        assert!((e.half_width - 3.182 * (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-9);
        assert_eq!(estimate(&[7.0]), Estimate { mean: 7.0, half_width: 0.0, n: 1 });
        assert_eq!(estimate(&[]).n, 0);
        assert_eq!(estimate(&[5.0, 5.0, 5.0]).half_width, 0.0);
        assert_eq!(estimate(&[1.0, 3.0]).show(1), "2.0 ± 12.7");
        assert!(t_critical_95(200) < t_critical_95(10));
    }
}
