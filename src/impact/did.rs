//! The arithmetic of one impact check, apart from data: a difference-in-differences
//! estimate and its model variance, calibrated by in-time placebos, and the verdict.
//!
//! Week-to-week values are serially correlated, so the model's variance of a before/after
//! comparison (rows as independent draws) is too small, and naive difference-in-differences
//! intervals give far too many false positives (Bertrand, Duflo & Mullainathan, 2004). Here
//! the same estimator is computed at past dates with no action (placebos); each placebo
//! estimate divided by its model standard error is a z-score that should be standard normal
//! if the model were right. Their over-dispersion φ = median(z²)/χ²₁ median (floored at 1,
//! as for `why`) multiplies the model variance of the real estimate. The median keeps a
//! placebo window that straddles a genuine event from counting as noise. Pure maths.

use serde::Serialize;

use crate::noise::dist::normal_quantile;
use crate::noise::inference::{self, LEVEL, Test};
use crate::noise::{Dispersion, dispersion};
use crate::spec::actions::Expect;

/// An estimate with its model variance (rows as independent draws, no over-dispersion).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub var: f64,
}

impl Estimate {
    /// The difference of two estimates from disjoint rows (their variances add).
    pub fn minus(self, other: Estimate) -> Estimate {
        Estimate {
            value: self.value - other.value,
            var: self.var + other.var,
        }
    }
}

/// A test calibrated by placebos.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibrated {
    pub test: Test,
    /// φ from the placebos (1 when there were too few to say).
    pub dispersion: Dispersion,
    /// Placebo dates used.
    pub placebos: usize,
    /// How many placebo estimates the calibrated test would have called beyond noise.
    pub placebos_beyond: usize,
}

/// Tests `estimate`, widened by the over-dispersion its placebos show.
pub fn calibrate(estimate: Estimate, placebos: &[Estimate]) -> Option<Calibrated> {
    let z: Vec<f64> = placebos
        .iter()
        .filter(|p| p.var > 0.0 && p.value.is_finite())
        .map(|p| p.value / p.var.sqrt())
        .collect();
    let d = dispersion::estimate(&z);
    let test = inference::delta(estimate.value, estimate.var * d.phi)?;
    let test = Test {
        dispersion: d.phi,
        ..test
    };
    let crit = normal_quantile(0.5 + LEVEL / 2.0);
    let placebos_beyond = z.iter().filter(|z| z.abs() / d.phi.sqrt() > crit).count();
    Some(Calibrated {
        test,
        dispersion: d,
        placebos: z.len(),
        placebos_beyond,
    })
}

/// What an action did, as far as the data can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Moved the expected way, beyond noise.
    Verified,
    /// Not beyond noise (yet).
    NoEffectYet,
    /// Moved the other way, beyond noise.
    MovedTheWrongWay,
    /// Fewer periods since the start than the minimum.
    TooEarly,
    /// A value needed is undefined, or there is no period before the start.
    Undefined,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::NoEffectYet => "no effect yet",
            Verdict::MovedTheWrongWay => "moved the wrong way",
            Verdict::TooEarly => "too early",
            Verdict::Undefined => "cannot tell",
        }
    }
}

/// The verdict of a calibrated test at level `alpha` (two-sided) for an expected direction.
pub fn verdict(t: &Test, expect: Expect, alpha: f64) -> Verdict {
    if t.p > alpha {
        Verdict::NoEffectYet
    } else if t.estimate * expect.sign() > 0.0 {
        Verdict::Verified
    } else {
        Verdict::MovedTheWrongWay
    }
}

/// How the effect compares with the size the action's owner expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeCheck {
    /// The expected effect lies inside the interval.
    AsExpected,
    /// The whole interval is short of the expected effect.
    Smaller,
    /// The whole interval is beyond the expected effect.
    Larger,
}

/// Compares the interval with the expected effect `expect.sign() · size`.
pub fn size_check(t: &Test, expect: Expect, size: f64) -> SizeCheck {
    let e = expect.sign() * size;
    if t.ci_low <= e && e <= t.ci_high {
        SizeCheck::AsExpected
    } else if (expect == Expect::Up && e > t.ci_high) || (expect == Expect::Down && e < t.ci_low) {
        SizeCheck::Smaller
    } else {
        SizeCheck::Larger
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placebos_widen_the_interval_by_their_over_dispersion() {
        let e = Estimate {
            value: -0.1,
            var: 0.0004,
        };
        // Placebo z-scores 1, −2, 2, 3, −1: median z² = 4, φ = 4/0.4549.
        let p: Vec<Estimate> = [1.0, -2.0, 2.0, 3.0, -1.0]
            .iter()
            .map(|z| Estimate {
                value: z * 0.01,
                var: 0.0001,
            })
            .collect();
        let c = calibrate(e, &p).unwrap();
        let phi = 4.0 / dispersion::CHI2_1_MEDIAN;
        assert!((c.dispersion.phi - phi).abs() < 1e-12);
        assert!((c.test.se - (0.0004 * phi).sqrt()).abs() < 1e-12);
        assert_eq!(c.placebos, 5);
        // |z|/√φ > 1.96 ⇔ |z| > 5.81: none.
        assert_eq!(c.placebos_beyond, 0);
        // Too few placebos: the model's variance.
        let c = calibrate(e, &p[..3]).unwrap();
        assert_eq!(c.dispersion.phi, 1.0);
        assert!((c.test.se - 0.02).abs() < 1e-12);
        assert_eq!(verdict(&c.test, Expect::Down, 0.05), Verdict::Verified);
        assert_eq!(
            verdict(&c.test, Expect::Up, 0.05),
            Verdict::MovedTheWrongWay
        );
        // −0.1 ± 0.039: an expected 0.12 lies inside, 0.2 beyond it (the effect is smaller),
        // 0.03 short of it (the effect is larger).
        assert_eq!(
            size_check(&c.test, Expect::Down, 0.12),
            SizeCheck::AsExpected
        );
        assert_eq!(size_check(&c.test, Expect::Down, 0.2), SizeCheck::Smaller);
        assert_eq!(size_check(&c.test, Expect::Down, 0.03), SizeCheck::Larger);
    }
}
