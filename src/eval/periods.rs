//! Which periods the data covers, and which one to explain by default.
//!
//! A period is complete when the data reaches its end plus the tree's `maturity` (e.g.
//! conversations must be 3 days old before their outcome counts). The default period is the
//! latest complete one. The data's end is the earliest of the sources' last timestamps, so a
//! source that stops early makes later periods partial rather than silently low.

use chrono::{NaiveDateTime, TimeZone};

use crate::diag::Diagnostic;
use crate::engine::{Engine, QueryError};
use crate::graph::MetricGraph;
use crate::period::Period;
use crate::plan::TimeMode;

/// The local (tree-zone) span of the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataExtent {
    pub first: NaiveDateTime,
    pub last: NaiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// The data does not reach the period's end plus maturity.
    Partial,
    /// The period lies entirely outside the data.
    Outside,
}

/// The span covered by every source that feeds a measure, and what the time columns hold
/// that no period can: rows without a time (W014) and rows with an implausible one (W015),
/// each counted and said, never dropped silently.
pub fn data_extent(
    graph: &MetricGraph,
    engine: &Engine,
) -> Result<(Option<DataExtent>, Vec<Diagnostic>), QueryError> {
    let mut extent: Option<DataExtent> = None;
    let mut warnings = Vec::new();
    for (s, _) in graph.leaves_by_source() {
        let src = &graph.spec.sources[s];
        let Some(info) = &engine.info[s] else {
            continue;
        };
        let range = engine.time_range(src, s)?;
        let share = |k: u64| 100.0 * k as f64 / range.rows.max(1) as f64;
        if range.untimed > 0 {
            warnings.push(
                Diagnostic::warning(
                    "W014",
                    format!(
                        "source `{}`: {} of {} rows ({:.2}%) have no `{}` and are in no period",
                        src.id,
                        range.untimed,
                        range.rows,
                        share(range.untimed),
                        src.time.value
                    ),
                )
                .at(src.time.pos)
                .help("fill the time in the export, or filter those rows out in a SQL source if they are not meant to count"),
            );
        }
        if range.outside > 0 {
            let (from, to) = crate::sql::PLAUSIBLE_TIMES;
            warnings.push(
                Diagnostic::warning(
                    "W015",
                    format!(
                        "source `{}`: {} of {} rows ({:.2}%) have a `{}` before {} or from {} on, and are in no period",
                        src.id,
                        range.outside,
                        range.rows,
                        share(range.outside),
                        src.time.value,
                        &from[..4],
                        &to[..4]
                    ),
                )
                .at(src.time.pos)
                .help("such a time is usually a placeholder (2300-01-01) or a mis-read date format: fix the export, or set `time_format`"),
            );
        }
        let Some((lo, hi)) = range.span else {
            continue;
        };
        let local = |t: NaiveDateTime| match info.time_mode {
            TimeMode::Local => t,
            TimeMode::Utc => graph.spec.timezone.from_utc_datetime(&t).naive_local(),
        };
        let (lo, hi) = (local(lo), local(hi));
        extent = Some(match extent {
            None => DataExtent {
                first: lo,
                last: hi,
            },
            Some(e) => DataExtent {
                first: e.first.min(lo),
                last: e.last.min(hi),
            },
        });
    }
    Ok((extent, warnings))
}

impl DataExtent {
    pub fn completeness(&self, p: &Period, maturity: chrono::TimeDelta) -> Completeness {
        let (start, end) = p.local_bounds();
        if start > self.last || end <= self.first {
            Completeness::Outside
        } else if end + maturity <= self.last {
            Completeness::Complete
        } else {
            Completeness::Partial
        }
    }
}

/// The latest complete period, if the data holds one.
pub fn default_period(graph: &MetricGraph, extent: &DataExtent) -> Option<Period> {
    let mut p = Period::containing(graph.spec.grain, extent.last.date());
    for _ in 0..1000 {
        match extent.completeness(&p, graph.spec.maturity) {
            Completeness::Complete => return Some(p),
            Completeness::Partial => p = p.prev(),
            Completeness::Outside => return None,
        }
    }
    None
}
