//! Over-dispersion: how much noisier a node's week-over-week changes are, in its own history,
//! than binomial/Poisson sampling says. For each pair of consecutive history periods the
//! change is divided by its model standard error (z). Under the model z² averages 1 and has
//! median 0.4549 (the χ²₁ median); φ = median(z²) / 0.4549, floored at 1. The median keeps a
//! few genuinely eventful weeks from counting as noise. Variances are multiplied by φ.
//!
//! A few weeks of one node give a noisy φ, so a node's own estimate is shrunk toward the
//! tree's (pooled over all its branches' z-scores): φ = (k·φ_node + K₀·φ_tree)/(k + K₀) with
//! k the node's own changes and K₀ = 14 (two nodes' worth of history). A node (or a tree)
//! with fewer than [`MIN_HISTORY`] usable changes contributes no estimate: a node takes the
//! tree's φ, and with neither φ is 1.

use serde::Serialize;

/// The median of the χ² distribution with one degree of freedom.
pub const CHI2_1_MEDIAN: f64 = 0.454_936_423_119_572_7;

/// Fewer quiet-period z-scores than this leave φ at 1.
pub const MIN_HISTORY: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Dispersion {
    /// The variance factor (≥ 1).
    pub phi: f64,
    /// How many week-over-week changes it was estimated from.
    pub changes: usize,
}

impl Dispersion {
    pub const NONE: Dispersion = Dispersion {
        phi: 1.0,
        changes: 0,
    };
}

/// Weight of the tree-wide estimate, in changes.
pub const PRIOR_CHANGES: f64 = 14.0;

/// A node's φ from its own z-scores, shrunk toward the tree's pooled estimate.
pub fn shrunk(own: &[f64], tree: Dispersion) -> Dispersion {
    // Fewer than MIN_HISTORY changes of its own say nothing about a node: it takes the
    // tree's φ (or 1), never an estimate from one or two changes.
    let raw = raw_phi(own).filter(|r| r.1 >= MIN_HISTORY);
    let k = raw.map_or(0, |r| r.1) as f64;
    let own_phi = raw.map_or(1.0, |r| r.0);
    let prior = if tree.changes >= MIN_HISTORY {
        tree.phi
    } else {
        1.0
    };
    Dispersion {
        phi: ((k * own_phi + PRIOR_CHANGES * prior) / (k + PRIOR_CHANGES)).max(1.0),
        changes: k as usize,
    }
}

/// median(z²)/0.4549 (unfloored) and how many finite z-scores it used.
fn raw_phi(z: &[f64]) -> Option<(f64, usize)> {
    let mut sq: Vec<f64> = z.iter().filter(|v| v.is_finite()).map(|v| v * v).collect();
    if sq.is_empty() {
        return None;
    }
    sq.sort_by(f64::total_cmp);
    let n = sq.len();
    let median = if n % 2 == 1 {
        sq[n / 2]
    } else {
        (sq[n / 2 - 1] + sq[n / 2]) / 2.0
    };
    Some((median / CHI2_1_MEDIAN, n))
}

/// Estimates φ from history z-scores (non-finite ones are ignored).
pub fn estimate(z: &[f64]) -> Dispersion {
    match raw_phi(z) {
        Some((phi, n)) if n >= MIN_HISTORY => Dispersion {
            phi: phi.max(1.0),
            changes: n,
        },
        raw => Dispersion {
            phi: 1.0,
            changes: raw.map_or(0, |r| r.1),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nodes_phi_is_shrunk_toward_the_trees() {
        let tree = Dispersion {
            phi: 1.0,
            changes: 70,
        };
        let d = shrunk(&[3.0; 7], tree);
        let own = 9.0 / CHI2_1_MEDIAN;
        assert!((d.phi - (7.0 * own + 14.0) / 21.0).abs() < 1e-12);
        assert_eq!(shrunk(&[], tree).phi, 1.0);
        let noisy_tree = Dispersion {
            phi: 2.0,
            changes: 70,
        };
        assert!((shrunk(&[], noisy_tree).phi - 2.0).abs() < 1e-12);
        // One or three changes of a node's own are not an estimate: the tree's φ, or 1.
        assert_eq!(shrunk(&[8.0], tree).phi, 1.0);
        assert_eq!(shrunk(&[8.0, 9.0, 7.0], tree).changes, 0);
        assert!((shrunk(&[8.0], noisy_tree).phi - 2.0).abs() < 1e-12);
        assert_eq!(shrunk(&[8.0], Dispersion::NONE).phi, 1.0);
    }

    #[test]
    fn phi_is_the_median_ratio_floored_at_one() {
        let d = estimate(&[2.0, -2.0, 2.0, 0.1, 3.0]);
        assert!((d.phi - 4.0 / CHI2_1_MEDIAN).abs() < 1e-12);
        assert_eq!(estimate(&[0.1, 0.2, 0.1, 0.3]).phi, 1.0);
        assert_eq!(estimate(&[5.0, 5.0]).phi, 1.0);
    }
}
