//! Adaptive Gauss–Legendre quadrature of a vector-valued function over [0, 1].
//!
//! Input: an integrand that fills one vector per point t, with the magnitude of the terms
//! each component sums (or refuses, where a value is not finite). Output: the integral of
//! every component and of its magnitude, how many points it took, and whether the estimate
//! met the tolerance. A panel is integrated with the 16-point Gauss–Legendre
//! rule (exact for polynomials of degree 31) and split in two while its two halves disagree
//! with it by more than the tolerance; the halves' sum is kept. Pure maths, no IO.

use std::sync::OnceLock;

/// Points per panel.
const POINTS: usize = 16;
/// At most this many panels (16 points each) before the estimate is returned as not converged.
const MAX_PANELS: usize = 4096;

/// The integral of each component over [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Integral {
    pub values: Vec<f64>,
    /// ∫ of each component's magnitude: the scale its rounding is relative to.
    pub magnitudes: Vec<f64>,
    /// Points the integrand was evaluated at.
    pub points: usize,
    /// Whether every panel met the tolerance (otherwise `values` is the best estimate).
    pub converged: bool,
}

/// An integrand: `f(t, out, mag)` writes each component at t and the magnitude of its terms,
/// and returns false where a value is not finite.
pub type Integrand<'a> = dyn FnMut(f64, &mut [f64], &mut [f64]) -> bool + 'a;

/// The integrand was not finite at some point of the path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotFinite {
    pub t: f64,
}

/// The 16-point rule on [0, 1]: (node, weight) pairs, computed once by Newton's method on the
/// Legendre polynomial P₁₆ (accurate to a few ulps).
fn rule() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = POINTS;
        let mut out = Vec::with_capacity(n);
        for i in 1..=n {
            let mut x = (std::f64::consts::PI * (i as f64 - 0.25) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                let (p, d) = legendre(n, x);
                dp = d;
                let step = p / d;
                x -= step;
                if step.abs() <= 1e-16 {
                    break;
                }
            }
            let (_, d) = legendre(n, x);
            if d.is_finite() {
                dp = d;
            }
            let w = 2.0 / ((1.0 - x * x) * dp * dp);
            out.push(((1.0 - x) / 2.0, w / 2.0));
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    })
}

/// Pₙ(x) and Pₙ′(x) by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    for k in 2..=n {
        let k = k as f64;
        let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

/// Integrates `f` over [0, 1]. `f(t, out, mag)` writes the `len` components at t and, in
/// `mag`, the magnitude of the terms each one sums (at least its absolute value; larger where
/// terms cancel), and returns false where one is not finite. Panels are split until, for
/// every component, the halves agree with the whole to `rel_tol` of that component's size
/// (∫ mag as the first panel estimates it, so components of very different sizes each get
/// their own accuracy, and one that is rounding noise between cancelling terms is not chased
/// below that rounding), or until [`MAX_PANELS`] are used.
pub fn integrate(f: &mut Integrand, len: usize, rel_tol: f64) -> Result<Integral, NotFinite> {
    let mut q = Quadrature {
        f,
        len,
        buf: vec![0.0; len],
        mag: vec![0.0; len],
        points: 0,
    };
    let (whole, size) = q.panel(0.0, 1.0)?;
    let tol: Vec<f64> = size.iter().map(|s| rel_tol * s).collect();
    let mut values = vec![0.0; len];
    let mut magnitudes = vec![0.0; len];
    let mut panels = 1;
    let mut converged = true;
    // Depth-first, left to right, so the sum is the same on every run.
    let mut stack = vec![(0.0, 1.0, whole)];
    while let Some((a, b, est)) = stack.pop() {
        let mid = 0.5 * (a + b);
        let (left, left_size) = q.panel(a, mid)?;
        let (right, right_size) = q.panel(mid, b)?;
        // Per component: the tolerance's share for this panel, and never below the rounding
        // of the panel's own sums.
        let ok = (0..len).all(|k| {
            let err = (left[k] + right[k] - est[k]).abs();
            let allowed =
                (tol[k] * (b - a)).max(64.0 * f64::EPSILON * (left_size[k] + right_size[k]));
            err <= allowed
        });
        if ok || panels >= MAX_PANELS || mid <= a || mid >= b {
            if !ok {
                converged = false;
            }
            for (v, (l, r)) in values.iter_mut().zip(left.iter().zip(&right)) {
                *v += l + r;
            }
            for (m, (l, r)) in magnitudes.iter_mut().zip(left_size.iter().zip(&right_size)) {
                *m += l + r;
            }
        } else {
            panels += 1;
            stack.push((mid, b, right));
            stack.push((a, mid, left));
        }
    }
    Ok(Integral {
        values,
        magnitudes,
        points: q.points,
        converged,
    })
}

struct Quadrature<'a> {
    f: &'a mut Integrand<'a>,
    len: usize,
    buf: Vec<f64>,
    mag: Vec<f64>,
    points: usize,
}

impl Quadrature<'_> {
    /// The rule on [a, b]: the integral of each component, and of its magnitude.
    fn panel(&mut self, a: f64, b: f64) -> Result<(Vec<f64>, Vec<f64>), NotFinite> {
        let h = b - a;
        let mut sum = vec![0.0; self.len];
        let mut size = vec![0.0; self.len];
        for &(t, w) in rule() {
            let t = a + h * t;
            self.buf.iter_mut().for_each(|v| *v = 0.0);
            self.mag.iter_mut().for_each(|v| *v = 0.0);
            self.points += 1;
            if !(self.f)(t, &mut self.buf, &mut self.mag) || self.buf.iter().any(|v| !v.is_finite())
            {
                return Err(NotFinite { t });
            }
            for (k, v) in self.buf.iter().enumerate() {
                sum[k] += w * h * v;
                size[k] += w * h * v.abs().max(self.mag[k]);
            }
        }
        Ok((sum, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_integrates_polynomials_up_to_degree_31_exactly() {
        let total: f64 = rule().iter().map(|&(_, w)| w).sum();
        assert!((total - 1.0).abs() < 1e-15);
        for deg in [1, 5, 17, 31] {
            let got: f64 = rule().iter().map(|&(t, w)| w * t.powi(deg)).sum();
            let want = 1.0 / f64::from(deg + 1);
            assert!((got - want).abs() < 1e-15, "degree {deg}: {got} vs {want}");
        }
    }

    #[test]
    fn a_pole_just_past_the_end_is_integrated_by_splitting() {
        // ∫₀¹ dt/(1.001 − t) = ln(1001): the integrand grows 1000-fold near t = 1.
        let i = integrate(
            &mut |t, out, _| {
                out[0] = 1.0 / (1.001 - t);
                true
            },
            1,
            1e-14,
        )
        .unwrap();
        assert!(i.converged);
        assert!(i.points > 16);
        let want = 1001f64.ln();
        assert!((i.values[0] - want).abs() < 1e-12 * want, "{}", i.values[0]);
    }

    #[test]
    fn a_non_finite_point_is_reported() {
        let r = integrate(
            &mut |t, out, _| {
                out[0] = 1.0 / (t - 0.5);
                t < 0.5
            },
            1,
            1e-14,
        );
        assert!(r.is_err());
    }
}
