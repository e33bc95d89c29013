//! Cause coverage: how many of an event log's transfers the tree's cause rules name.
//!
//! Input: the graph, the engine, periods and groups of them (as for `Dataset::aggregate`).
//! Output: per event-log source that a measure reads, per group, the cases opened in it, their
//! transfers and the transfers per cause, `unclassified` last. Reports print it beside every
//! tree built on an event log, so a cause branch that looks small because the rules miss its
//! transfers is not mistaken for a small cause; above the log's `max_unclassified` it is a
//! warning (W013; `report::coverage` renders both). One small aggregation per source, run where the cases live.

use crate::engine::Engine;
use crate::graph::MetricGraph;
use crate::period::Period;
use crate::plan::{Aggregate, Bounds, PlannedMeasure, SourcePlan};
use crate::spec::model::{Agg, SourceKind};
use crate::sql::guard::parse_expr;

use super::EvalError;

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

/// The coverage of every event-log source read by a measure among `nodes`, for `groups` of
/// `periods`.
pub fn cause_coverage(
    graph: &MetricGraph,
    engine: &Engine,
    nodes: &[usize],
    periods: &[Period],
    groups: &[Vec<usize>],
) -> Result<Vec<CauseCoverage>, EvalError> {
    let mut out = Vec::new();
    for (s, leaves) in graph.leaves_by_source() {
        if !leaves.iter().any(|l| nodes.contains(l)) {
            continue;
        }
        let src = &graph.spec.sources[s];
        let SourceKind::EventLog(el) = &src.kind else {
            continue;
        };
        let Some(info) = engine.info[s].as_ref() else {
            return Err(EvalError::SourceUnavailable(src.id.clone()));
        };
        let causes = crate::sql::event_log::cause_names(el);
        let sum = |column: &str| PlannedMeasure {
            node: 0,
            agg: Agg::Sum,
            expr: parse_expr(&crate::sql::ident(column)).ok(),
            filter: None,
        };
        let mut measures = vec![sum("transfers")];
        measures.extend(causes.iter().map(|c| sum(&format!("{c}_transfers"))));
        let plan = SourcePlan {
            source: s,
            table: src.id.clone(),
            time_column: src.time.value.clone(),
            time_mode: info.time_mode,
            periods: periods
                .iter()
                .map(|p| Bounds::of(p, info.time_mode, graph.spec.timezone))
                .collect(),
            dims: Vec::new(),
            measures,
        };
        let agg = Aggregate {
            groups: groups.to_vec(),
            sets: vec![Vec::new()],
            psi: Vec::new(),
        };
        let rows = engine.aggregate_once(&plan, &agg)?;
        let mut found = vec![GroupCoverage::default(); groups.len()];
        for r in 0..rows.len {
            let Some(g) = rows.f64("__g", r).map(|g| g as usize) else {
                continue;
            };
            let Some(c) = found.get_mut(g) else { continue };
            c.cases = rows.f64("__rows", r).unwrap_or(0.0);
            c.transfers = rows.f64("m0_s", r).unwrap_or(0.0);
            c.by_cause = (1..=causes.len())
                .map(|j| rows.f64(&format!("m{j}_s"), r).unwrap_or(0.0))
                .collect();
        }
        for c in &mut found {
            c.by_cause.resize(causes.len(), 0.0);
        }
        out.push(CauseCoverage {
            source: s,
            causes,
            max_unclassified: el.max_unclassified,
            groups: found,
        });
    }
    Ok(out)
}
