//! Cause coverage in the report models: per event-log source, how many transfers each cause
//! rule named and how many none did — the `transfer_causes` of `eval` and `why` (rendered
//! for people by `report::text::coverage`), and warning W013 when the unclassified share is
//! above `max_unclassified`.

use serde::Serialize;

use super::format::value;
use crate::diag::Diagnostic;
use crate::eval::CauseCoverage;
use crate::graph::MetricGraph;
use crate::spec::model::{SourceKind, Unit};

#[derive(Debug, Clone, Serialize)]
pub struct CoverageJson {
    pub source: String,
    pub max_unclassified: f64,
    /// One per period (or pooled baseline) reported.
    pub periods: Vec<CoveragePeriod>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoveragePeriod {
    pub period: String,
    /// Cases whose time falls in the period.
    pub cases: u64,
    /// Their transfers.
    pub transfers: u64,
    /// Per cause, `unclassified` last.
    pub causes: Vec<CauseCount>,
    /// Unclassified ÷ transfers; null without transfers.
    pub unclassified_share: Option<f64>,
    pub above_max: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseCount {
    pub cause: String,
    pub transfers: u64,
    /// Of all transfers; null without transfers.
    pub share: Option<f64>,
}

/// `labels[g]` names group `g` of each coverage.
pub fn json(g: &MetricGraph, cov: &[CauseCoverage], labels: &[String]) -> Vec<CoverageJson> {
    cov.iter()
        .map(|c| CoverageJson {
            source: g.spec.sources[c.source].id.clone(),
            max_unclassified: c.max_unclassified,
            periods: c
                .groups
                .iter()
                .enumerate()
                .map(|(i, gc)| CoveragePeriod {
                    period: labels.get(i).cloned().unwrap_or_default(),
                    cases: gc.cases.round() as u64,
                    transfers: gc.transfers.round() as u64,
                    causes: c
                        .causes
                        .iter()
                        .zip(&gc.by_cause)
                        .map(|(name, &n)| CauseCount {
                            cause: name.clone(),
                            transfers: n.round() as u64,
                            share: (gc.transfers > 0.0).then(|| n / gc.transfers),
                        })
                        .collect(),
                    unclassified_share: gc.unclassified_share(),
                    above_max: c.above_max(i),
                })
                .collect(),
        })
        .collect()
}

/// W013 for each period above `max_unclassified`, at the log's first cause rule (or its
/// `events` key when it has none).
pub fn warnings(g: &MetricGraph, cov: &[CauseCoverage], labels: &[String]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for c in cov {
        let s = &g.spec.sources[c.source];
        let SourceKind::EventLog(el) = &s.kind else {
            continue;
        };
        let pos = el.causes.first().map_or(el.events.pos, |(c, _)| c.pos);
        for (i, gc) in c.groups.iter().enumerate() {
            if !c.above_max(i) {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    "W013",
                    format!(
                        "{} of the {} transfers of source `{}` in {} match no cause rule, more than `max_unclassified` ({})",
                        value(gc.unclassified_share(), Unit::Percent),
                        value(Some(gc.transfers), Unit::Count),
                        s.id,
                        labels.get(i).map_or("", String::as_str),
                        value(Some(c.max_unclassified), Unit::Percent)
                    ),
                )
                .at(pos)
                .subject(format!("source `{}`", s.id))
                .help("branches that count transfers by cause explain only the classified part: add rules under `causes:` for the unmatched moves (their count per case is `unclassified_transfers`), or raise `max_unclassified`"),
            );
        }
    }
    out
}
