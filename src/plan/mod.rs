//! The query plan: what to aggregate from each source, engine-neutral.
//!
//! Input: the graph, the periods and the dimensions asked for. Output: one [`SourcePlan`] per
//! source — all of that source's leaf measures, for all periods and all segmentations, in one
//! aggregate query (grouping sets). Besides each measure's value it asks for the count, sum
//! and sum of squares that noise estimates need, so statistics never need a second scan.
//! Rendering to SQL text is `sql::render`; running it is `engine`.

use chrono::NaiveDateTime;

use crate::graph::{Def, MetricGraph};
use crate::period::{Period, local_to_utc};
use crate::spec::model::Agg;

/// How a source's time column relates to the tree's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeMode {
    /// Wall-clock times without an offset, read in the tree's zone.
    Local,
    /// Instants, held by the engine as UTC wall-clock values.
    Utc,
}

/// One period's `[start, end)` in the frame of a source's time column.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

impl Bounds {
    pub fn of(period: &Period, mode: TimeMode, tz: chrono_tz::Tz) -> Bounds {
        let (s, e) = period.local_bounds();
        match mode {
            TimeMode::Local => Bounds { start: s, end: e },
            TimeMode::Utc => Bounds {
                start: local_to_utc(tz, s).naive_utc(),
                end: local_to_utc(tz, e).naive_utc(),
            },
        }
    }
}

/// A leaf measure as the query computes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMeasure {
    /// The graph node this measure is.
    pub node: usize,
    pub agg: Agg,
    pub expr: Option<String>,
    pub filter: Option<String>,
}

/// Everything one source must aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePlan {
    pub source: usize,
    pub table: String,
    pub time_column: String,
    /// Periods, in the frame of the time column; their index is the `__p` output column.
    pub periods: Vec<Bounds>,
    /// `(dimension id, column)`; grouped by each one separately (and by none: the total).
    pub dims: Vec<(String, String)>,
    pub measures: Vec<PlannedMeasure>,
}

/// Plans the aggregate queries for `periods`, split by `dims` (dimension ids; a source that
/// does not map one simply is not split by it).
pub fn plan(
    graph: &MetricGraph,
    periods: &[Period],
    dims: &[String],
    time_modes: &[TimeMode],
) -> Vec<SourcePlan> {
    graph
        .leaves_by_source()
        .into_iter()
        .map(|(s, leaves)| {
            let src = &graph.spec.sources[s];
            let mode = time_modes.get(s).copied().unwrap_or(TimeMode::Local);
            SourcePlan {
                source: s,
                table: src.id.clone(),
                time_column: src.time.value.clone(),
                periods: periods
                    .iter()
                    .map(|p| Bounds::of(p, mode, graph.spec.timezone))
                    .collect(),
                dims: dims
                    .iter()
                    .filter_map(|d| {
                        src.dimensions
                            .iter()
                            .find(|(id, _)| &id.value == d)
                            .map(|(id, col)| (id.value.clone(), col.value.clone()))
                    })
                    .collect(),
                measures: leaves
                    .into_iter()
                    .filter_map(|n| match &graph.nodes[n].def {
                        Def::Measure(m) => Some(PlannedMeasure {
                            node: n,
                            agg: m.agg,
                            expr: m.expr.as_ref().map(|e| e.value.clone()),
                            filter: m.filter.as_ref().map(|f| f.value.clone()),
                        }),
                        Def::Formula { .. } => None,
                    })
                    .collect(),
            }
        })
        .collect()
}
