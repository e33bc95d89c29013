//! Which segments to show: the search over combinations of dimensions, pruned and folded.
//!
//! Candidates are every segment up to the search depth whose support (share of volume) and
//! size pass the minimums. Rules, applied to candidates ranked by |contribution|:
//! - **drop** a segment that adds nothing over a broader parent: same direction, and no more
//!   of the parent's contribution than its share of the parent's volume (+25 %) — it only
//!   repeats the parent's uniform movement;
//! - **fold** a parent into a more specific child that explains most of it (≥ `fold_share`
//!   of the parent's contribution, default 85 %), or at least half of it when the rest of
//!   the parent is within noise: the child is shown, carrying the parent;
//! - keep the top K of the rest.

use crate::eval::Segment;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// The most dimensions combined (1–3).
    pub depth: usize,
    /// Minimum share of volume in either period.
    pub min_support: f64,
    /// Minimum rows in the larger period; smaller segments are never reported.
    pub min_count: f64,
    /// Insights shown per node.
    pub top: usize,
    pub fold_share: f64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            depth: 2,
            min_support: 0.01,
            min_count: 30.0,
            top: 5,
            fold_share: 0.85,
        }
    }
}

/// What the selection needs of a candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub segment: Segment,
    pub contribution: f64,
    /// Mean share of the node's volume over the two periods.
    pub share: f64,
    /// Variance of the contribution (after over-dispersion), for the remainder rule.
    pub variance: f64,
}

/// A segment shown, with the broader segments folded into it and the share of each one's
/// contribution it explains.
#[derive(Debug, Clone, PartialEq)]
pub struct Insight {
    pub index: usize,
    pub folds: Vec<(usize, f64)>,
}

/// Applies the drop and fold rules and returns the top insights (indexes into `cands`).
pub fn select(cands: &[Candidate], opts: &SearchOptions) -> Vec<Insight> {
    let find = |s: &Segment| cands.iter().position(|c| &c.segment == s);
    let parents: Vec<Vec<usize>> = cands
        .iter()
        .map(|c| {
            c.segment
                .parents()
                .iter()
                .filter_map(find)
                .filter(|&p| !cands[p].segment.is_total())
                .collect()
        })
        .collect();
    // Drop: a child that only repeats a parent's movement.
    let dropped: Vec<bool> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            parents[i].iter().any(|&p| {
                let parent = &cands[p];
                if parent.share <= 0.0 {
                    return false;
                }
                let v = c.share / parent.share;
                if parent.contribution == 0.0 {
                    return c.contribution == 0.0;
                }
                let k = c.contribution / parent.contribution;
                k >= 0.0 && k <= 1.25 * v
            })
        })
        .collect();
    // Fold: a parent explained by one child.
    let mut folded_into: Vec<Option<(usize, f64)>> = vec![None; cands.len()];
    for (i, c) in cands.iter().enumerate() {
        if dropped[i] {
            continue;
        }
        for &p in &parents[i] {
            let parent = &cands[p];
            if parent.contribution == 0.0 {
                continue;
            }
            let k = c.contribution / parent.contribution;
            let rest = parent.contribution - c.contribution;
            let rest_sd = (parent.variance - c.variance).max(0.0).sqrt();
            let quiet_rest = rest.abs() < 1.96 * rest_sd;
            if (k >= opts.fold_share || (k >= 0.5 && quiet_rest))
                && folded_into[p].is_none_or(|(_, best)| k > best)
            {
                folded_into[p] = Some((i, k));
            }
        }
    }
    // A parent folds into its child; the child absorbs the parent's own folds.
    let resolve = |mut i: usize| {
        while let Some((c, _)) = folded_into[i] {
            i = c;
        }
        i
    };
    let mut order: Vec<usize> = (0..cands.len())
        .filter(|&i| !dropped[i] && folded_into[i].is_none())
        .collect();
    order.sort_by(|&a, &b| {
        cands[b]
            .contribution
            .abs()
            .total_cmp(&cands[a].contribution.abs())
            .then_with(|| cands[a].segment.cmp(&cands[b].segment))
    });
    order
        .into_iter()
        .take(opts.top)
        .map(|i| Insight {
            index: i,
            folds: (0..cands.len())
                .filter(|&p| folded_into[p].is_some() && resolve(p) == i)
                .map(|p| (p, cands[i].contribution / cands[p].contribution))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(parts: &[(&str, &str)], c: f64, share: f64) -> Candidate {
        Candidate {
            segment: Segment(
                parts
                    .iter()
                    .map(|(d, v)| (d.to_string(), Some(v.to_string())))
                    .collect(),
            ),
            contribution: c,
            share,
            variance: 0.0,
        }
    }

    #[test]
    fn a_concentrated_child_absorbs_its_parents() {
        let cands = vec![
            cand(&[("channel", "chat")], 3.0, 0.4),
            cand(&[("category", "billing")], 2.9, 0.25),
            cand(&[("channel", "chat"), ("category", "billing")], 2.8, 0.1),
            cand(&[("channel", "chat"), ("category", "tech")], 0.2, 0.1),
            cand(&[("channel", "email")], -0.1, 0.2),
        ];
        let got = select(&cands, &SearchOptions::default());
        assert_eq!(got[0].index, 2);
        assert_eq!(
            got[0].folds.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![0, 1]
        );
        // chat × tech is 7% of chat's change on 25% of its volume: a quiet slice, dropped.
        assert!(!got.iter().any(|i| i.index == 3));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_uniform_child_is_dropped() {
        let cands = vec![
            cand(&[("channel", "chat")], 3.0, 0.4),
            cand(&[("channel", "chat"), ("tier", "free")], 1.5, 0.2),
            cand(&[("tier", "free")], 1.4, 0.5),
        ];
        let got = select(&cands, &SearchOptions::default());
        assert!(!got.iter().any(|i| i.index == 1));
        assert_eq!(got[0].index, 0);
    }
}
