//! Which test fits which node: Welch for a mean, the two-proportion z test for a ratio of two
//! counts from one source (the numerator a subset of the denominator's rows), the delta
//! method (with the node's noise combination) for everything else.

use crate::eval::{Cell, LeafStats};
use crate::graph::{Def, MetricGraph};
use crate::noise::inference::{self, Moments, Test};
use crate::spec::formula::Shape;
use crate::spec::model::Agg;

fn moments(s: Option<LeafStats>) -> Option<Moments> {
    s.map(|s| Moments {
        n: s.n,
        sum: s.sum,
        sumsq: s.sumsq,
    })
}

/// The noise model's extra terms for one test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Over-dispersion of the node's own changes (multiplies the sampling variance).
    pub phi: f64,
    /// Variance from the common volume factor (delta method only): K²·σ²_ε.
    pub volume_var: f64,
    /// Subtracted from the change before testing (delta method only): the common volume
    /// factor's realized effect K·ε, when estimating over-dispersion from history.
    pub shift: f64,
}

impl Noise {
    pub const NONE: Noise = Noise {
        phi: 1.0,
        volume_var: 0.0,
        shift: 0.0,
    };
}

/// Tests the change of node `n` from cell `a` (baseline) to `b` (current). `psi` is the
/// node's noise combination's index in the cells, if it has one.
pub fn node_test(
    g: &MetricGraph,
    n: usize,
    a: &Cell,
    b: &Cell,
    psi: Option<usize>,
    noise: Noise,
) -> Option<Test> {
    let (va, vb) = (a.values[n].value?, b.values[n].value?);
    let t = match &g.nodes[n].def {
        Def::Measure(m) if m.agg == Agg::Mean => {
            inference::welch(moments(a.stats[n])?, moments(b.stats[n])?)
        }
        Def::Measure(m) if !matches!(m.agg, Agg::Count | Agg::Sum) => None,
        Def::Formula {
            inputs,
            shape: Shape::Ratio { constant, num, den },
            ..
        } if proportion(g, inputs[*num], inputs[*den], a, b) => {
            let (x0, n0) = (a.stats[inputs[*num]]?.n, a.stats[inputs[*den]]?.n);
            let (x1, n1) = (b.stats[inputs[*num]]?.n, b.stats[inputs[*den]]?.n);
            inference::two_proportion_z(x0, n0, x1, n1).map(|t| scale(t, *constant))
        }
        _ => return delta(vb - va, a.psi.get(psi?)? + b.psi.get(psi?)?, noise),
    };
    t.map(|t| t.widened(noise.phi))
}

/// The delta-method test of a change or contribution with sampling variance `sampling`
/// (Σψ²), widened by φ, plus the volume factor's variance, less its realized shift.
pub fn delta(estimate: f64, sampling: f64, noise: Noise) -> Option<Test> {
    let phi = noise.phi.max(1.0);
    inference::delta(estimate - noise.shift, phi * sampling + noise.volume_var).map(|t| Test {
        dispersion: phi,
        ..t
    })
}

/// A ratio of two counts over one source with the numerator never above the denominator.
fn proportion(g: &MetricGraph, num: usize, den: usize, a: &Cell, b: &Cell) -> bool {
    let count = |i: usize| match &g.nodes[i].def {
        Def::Measure(m) if m.agg == Agg::Count => Some(m.source),
        _ => None,
    };
    let fits = |c: &Cell| match (c.stats[num], c.stats[den]) {
        (Some(x), Some(n)) => x.n <= n.n,
        _ => false,
    };
    count(num).is_some() && count(num) == count(den) && fits(a) && fits(b)
}

/// A test of `c·x` from a test of `x`.
fn scale(t: Test, c: f64) -> Test {
    let (lo, hi) = (t.ci_low * c, t.ci_high * c);
    Test {
        estimate: t.estimate * c,
        se: t.se * c.abs(),
        ci_low: lo.min(hi),
        ci_high: lo.max(hi),
        ..t
    }
}
