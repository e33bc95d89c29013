//! Which periods the data covers, and which one to explain by default.
//!
//! A period is complete when the data reaches its end plus the tree's `maturity` (e.g.
//! conversations must be 3 days old before their outcome counts). The default period is the
//! latest complete one. The data's end is the earliest of the sources' last timestamps, so a
//! source that stops early makes later periods partial rather than silently low.

use chrono::{NaiveDateTime, TimeZone};

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

/// The span covered by every source that feeds a measure.
pub fn data_extent(graph: &MetricGraph, engine: &Engine) -> Result<Option<DataExtent>, QueryError> {
    let mut extent: Option<DataExtent> = None;
    for (s, _) in graph.leaves_by_source() {
        let src = &graph.spec.sources[s];
        let Some(info) = &engine.info[s] else {
            continue;
        };
        let Some((lo, hi, _)) = engine.time_range(src, s)? else {
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
    Ok(extent)
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
