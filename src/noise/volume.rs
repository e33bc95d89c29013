//! The common volume factor: when everyone's volume moves together (a holiday week), each
//! segment's contribution moves by K·ε even when nothing else changed. From a source's row
//! counts over the history: per consecutive pair its relative change ε, and σ²_ε beyond
//! Poisson noise, for widening segment tests by K²·σ²_ε.

use super::dispersion;

/// The volume factor of one source over its history.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeFactor {
    /// Per consecutive pair of periods: the relative change ε (`None` where a period is empty).
    pub eps: Vec<Option<f64>>,
    /// σ²_ε beyond Poisson: from the pairs' z-scores, σ² = (median(z²)/0.4549 − 1)·2/V̄; 0 when
    /// volumes are Poisson-steady or the history is short.
    pub sigma2: f64,
}

/// The volume factor of a source whose periods held `rows` rows each, in time order.
pub fn factor(rows: &[f64]) -> VolumeFactor {
    let mut eps = Vec::new();
    let mut z = Vec::new();
    let mut mean = Vec::new();
    for w in rows.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a > 0.0 && b > 0.0 {
            eps.push(Some((b - a) / ((a + b) / 2.0)));
            z.push((b - a) / (a + b).sqrt());
            mean.push((a + b) / 2.0);
        } else {
            eps.push(None);
        }
    }
    let d = dispersion::estimate(&z);
    let vbar = if mean.is_empty() {
        0.0
    } else {
        mean.iter().sum::<f64>() / mean.len() as f64
    };
    let sigma2 = if d.changes >= dispersion::MIN_HISTORY && vbar > 0.0 {
        (d.phi - 1.0) * 2.0 / vbar
    } else {
        0.0
    };
    VolumeFactor { eps, sigma2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_poisson_volumes_add_nothing() {
        let f = factor(&[1000.0, 1000.0, 1000.0]);
        assert_eq!(f.eps, vec![Some(0.0), Some(0.0)]);
        assert_eq!(f.sigma2, 0.0);
        // An empty period breaks the pair on both sides.
        assert_eq!(factor(&[10.0, 0.0, 10.0]).eps, vec![None, None]);
    }
}
