//! False-discovery-rate control over a family of tests: Benjamini–Hochberg step-up adjusted
//! p-values (a test is a discovery at level q when its adjusted p-value is ≤ q).

/// BH-adjusted p-values, in the input order: q₍ᵢ₎ = min over j ≥ i of min(1, m·p₍ⱼ₎ / j).
pub fn bh_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let q = (p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(q);
        out[i] = running;
    }
    out
}

/// Bonferroni-adjusted p-values (for comparison in reports and tests).
pub fn bonferroni(p: &[f64]) -> Vec<f64> {
    let m = p.len() as f64;
    p.iter().map(|&x| (x * m).min(1.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjusted_values_are_monotone_in_p() {
        let p = [0.04, 0.01, 0.03, 0.5];
        let q = bh_adjust(&p);
        let want = [0.04 * 4.0 / 3.0, 0.04, 0.04 * 4.0 / 3.0, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{q:?}");
        }
        assert!(bh_adjust(&[]).is_empty());
    }
}
