//! Cause coverage: how many of an event log's transfers the tree's cause rules name.
//!
//! Input: a loaded [`Dataset`] and groups of its periods (as for `Dataset::aggregate`).
//! Output: per event-log source that a measure reads, per group, the cases opened in it, their
//! transfers and the transfers per cause, `unclassified` last. Reports print it beside every
//! tree built on an event log, so a cause branch that looks small because the rules miss its
//! transfers is not mistaken for a small cause; above the log's `max_unclassified` it is a
//! warning (W013; `report::coverage` renders both). The sums ride along in the rows each source
//! reads once; coverage is one more small aggregation of them, where the cases live.

use crate::plan::Aggregate;
use crate::spec::model::SourceKind;

use super::{Dataset, EvalError};

/// One event-log source's coverage, per group of periods.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseCoverage {
    /// The source's index in the spec.
    pub source: usize,
    /// The cause names, in the rules' order, `unclassified` last.
    pub causes: Vec<String>,
    pub max_unclassified: f64,
    /// Per group, in the order asked for.
    pub groups: Vec<GroupCoverage>,
}

/// The cases of one group of periods (pooled, not averaged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupCoverage {
    pub cases: f64,
    pub transfers: f64,
    /// Transfers per cause, in `CauseCoverage::causes` order.
    pub by_cause: Vec<f64>,
}

impl GroupCoverage {
    /// Transfers no rule named.
    pub fn unclassified(&self) -> f64 {
        self.by_cause.last().copied().unwrap_or(0.0)
    }

    /// Their share of all transfers; undefined without transfers.
    pub fn unclassified_share(&self) -> Option<f64> {
        (self.transfers > 0.0).then(|| self.unclassified() / self.transfers)
    }
}

impl CauseCoverage {
    /// Whether group `g` has more unclassified transfers than the log allows.
    pub fn above_max(&self, g: usize) -> bool {
        self.groups[g]
            .unclassified_share()
            .is_some_and(|s| s > self.max_unclassified)
    }
}

impl Dataset<'_> {
    /// The cause coverage of every event-log source read by a measure among `nodes`, for
    /// `groups` of the dataset's periods: one aggregation of the rows already read (the
    /// coverage sums ride along in each event-log source's plan, see
    /// `plan::coverage_columns`), so the derivation is not run again.
    pub fn coverage(
        &self,
        groups: &[Vec<usize>],
        nodes: &[usize],
    ) -> Result<Vec<CauseCoverage>, EvalError> {
        let mut out = Vec::new();
        for sp in &self.plans {
            let src = &self.graph.spec.sources[sp.source];
            let SourceKind::EventLog(el) = &src.kind else {
                continue;
            };
            if !sp
                .measures
                .iter()
                .any(|m| m.node.is_some_and(|n| nodes.contains(&n)))
            {
                continue;
            }
            // The coverage sums are the plan's last measures: transfers, then per cause.
            let causes = crate::spec::event_log::cause_names(el);
            let first = sp.measures.len() - crate::plan::coverage_columns(&src.kind).len();
            let agg = Aggregate {
                groups: groups.to_vec(),
                sets: vec![Vec::new()],
                psi: Vec::new(),
            };
            let rows = self.engine.aggregate(sp, &agg)?;
            let mut found = vec![GroupCoverage::default(); groups.len()];
            for r in 0..rows.len {
                let Some(g) = rows.f64("__g", r).map(|g| g as usize) else {
                    continue;
                };
                let Some(c) = found.get_mut(g) else { continue };
                let sum = |j: usize| rows.f64(&format!("m{j}_s"), r).unwrap_or(0.0);
                c.cases = rows.f64("__rows", r).unwrap_or(0.0);
                c.transfers = sum(first);
                c.by_cause = (1..=causes.len()).map(|k| sum(first + k)).collect();
            }
            for c in &mut found {
                c.by_cause.resize(causes.len(), 0.0);
            }
            out.push(CauseCoverage {
                source: sp.source,
                causes,
                max_unclassified: el.max_unclassified,
                groups: found,
            });
        }
        Ok(out)
    }
}
