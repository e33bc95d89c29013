//! Tests for one change: the two-proportion z test for rates, Welch's t test for means and
//! the delta method for everything else (ratios, sums of rates, contributions). Each gives
//! a standard error, a 95 % interval and a two-sided p-value for "current − baseline".

use serde::Serialize;

use super::dist::{normal_quantile, normal_two_sided, t_quantile, t_two_sided};

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Two-proportion z test with the pooled proportion (interval from the unpooled error).
    TwoProportionZ,
    /// Welch's unequal-variance t test.
    Welch,
    /// First-order delta method with rows as independent draws (normal approximation).
    Delta,
}

/// The result of testing one change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Test {
    pub method: Method,
    /// The change tested (current − baseline), or a contribution.
    pub estimate: f64,
    /// Its standard error, widened by `sqrt(dispersion)`.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Degrees of freedom (Welch only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    pub p: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// The over-dispersion factor applied to the variance (1 = binomial/Poisson noise).
    pub dispersion: f64,
}

impl Test {
    /// A normal-approximation test of `estimate` with standard error `se` (`test_se` is the
    /// error under the null, used for the statistic; the interval uses `se`).
    fn normal(method: Method, estimate: f64, se: f64, test_se: f64) -> Option<Test> {
        if !(se.is_finite() && test_se.is_finite()) || se <= 0.0 || test_se <= 0.0 {
            return None;
        }
        let z = estimate / test_se;
        let q = normal_quantile(0.5 + LEVEL / 2.0);
        Some(Test {
            method,
            estimate,
            se,
            statistic: z,
            df: None,
            p: normal_two_sided(z),
            ci_low: estimate - q * se,
            ci_high: estimate + q * se,
            dispersion: 1.0,
        })
    }

    /// The same test with its variance multiplied by `phi` (≥ 1).
    pub fn widened(self, phi: f64) -> Test {
        if phi <= 1.0 {
            return self;
        }
        let k = phi.sqrt();
        let stat = self.statistic / k;
        let half = (self.ci_high - self.ci_low) / 2.0 * k;
        let p = match self.df {
            Some(df) => t_two_sided(stat, df),
            None => normal_two_sided(stat),
        };
        Test {
            se: self.se * k,
            statistic: stat,
            p,
            ci_low: self.estimate - half,
            ci_high: self.estimate + half,
            dispersion: phi * self.dispersion,
            ..self
        }
    }
}

/// Two-proportion z test of `x1/n1 − x0/n0` (pooled proportion under the null).
pub fn two_proportion_z(x0: f64, n0: f64, x1: f64, n1: f64) -> Option<Test> {
    if n0 <= 0.0 || n1 <= 0.0 {
        return None;
    }
    let (p0, p1) = (x0 / n0, x1 / n1);
    let pooled = (x0 + x1) / (n0 + n1);
    let null_se = (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
    let se = (p0 * (1.0 - p0) / n0 + p1 * (1.0 - p1) / n1).sqrt();
    // With no events (or only events) in both periods there is nothing to test.
    let se = if se > 0.0 { se } else { null_se };
    Test::normal(Method::TwoProportionZ, p1 - p0, se, null_se)
}

/// Moments of a sample: count, sum and sum of squares.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    pub n: f64,
    pub sum: f64,
    pub sumsq: f64,
}

impl Moments {
    pub fn mean(&self) -> f64 {
        self.sum / self.n
    }

    /// The unbiased sample variance.
    pub fn variance(&self) -> f64 {
        ((self.sumsq - self.sum * self.sum / self.n) / (self.n - 1.0)).max(0.0)
    }
}

/// Welch's t test of `mean(current) − mean(baseline)`.
pub fn welch(baseline: Moments, current: Moments) -> Option<Test> {
    if baseline.n < 2.0 || current.n < 2.0 {
        return None;
    }
    let (v0, v1) = (
        baseline.variance() / baseline.n,
        current.variance() / current.n,
    );
    let se = (v0 + v1).sqrt();
    if se <= 0.0 || !se.is_finite() {
        return None;
    }
    let df = (v0 + v1).powi(2) / (v0 * v0 / (baseline.n - 1.0) + v1 * v1 / (current.n - 1.0));
    let d = current.mean() - baseline.mean();
    let t = d / se;
    let q = t_quantile(0.5 + LEVEL / 2.0, df);
    Some(Test {
        method: Method::Welch,
        estimate: d,
        se,
        statistic: t,
        df: Some(df),
        p: t_two_sided(t, df),
        ci_low: d - q * se,
        ci_high: d + q * se,
        dispersion: 1.0,
    })
}

/// A delta-method test of `estimate` with variance `variance`.
pub fn delta(estimate: f64, variance: f64) -> Option<Test> {
    let se = variance.max(0.0).sqrt();
    Test::normal(Method::Delta, estimate, se, se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_scales_the_interval_and_the_statistic() {
        let t = delta(1.0, 0.25).unwrap();
        let w = t.widened(4.0);
        assert!((w.se - 1.0).abs() < 1e-12);
        assert!((w.statistic - 1.0).abs() < 1e-12);
        assert!(((w.ci_high - w.ci_low) - 2.0 * (t.ci_high - t.ci_low)).abs() < 1e-12);
        assert!(w.p > t.p);
        assert_eq!(t.widened(0.5), t);
    }

    #[test]
    fn degenerate_inputs_give_no_test() {
        assert!(two_proportion_z(0.0, 0.0, 1.0, 10.0).is_none());
        assert!(two_proportion_z(0.0, 10.0, 0.0, 10.0).is_none());
        assert!(delta(0.0, 0.0).is_none());
        let one = Moments {
            n: 1.0,
            sum: 1.0,
            sumsq: 1.0,
        };
        assert!(welch(one, one).is_none());
    }
}
