//! The query plan: what to aggregate from each source, engine-neutral.
//!
//! Input: the graph, the periods and the dimensions asked for. Output: one [`SourcePlan`] per
//! source — the rows to read once (period tag, dimensions, each leaf measure's per-row value)
//! — and [`Aggregate`]s over them: periods pooled into groups, grouping sets (every
//! combination of dimensions up to a depth) and the per-row linear combinations whose squares
//! noise estimates need. Besides each measure's value an aggregate returns its count, sum and
//! sum of squares. Rendering to SQL text is `sql`; running it is `engine`.

use chrono::NaiveDateTime;

use crate::graph::{Def, MetricGraph};
use crate::period::{Period, local_to_utc};
use crate::spec::model::{Agg, SourceKind};
use crate::spec::sql_expr::SqlExpr;

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
    /// The graph node this measure is; `None` for the sums an event-log source adds for its
    /// cause coverage (see [`coverage_columns`]).
    pub node: Option<usize>,
    pub agg: Agg,
    pub expr: Option<SqlExpr>,
    pub filter: Option<SqlExpr>,
}

/// Everything one source contributes: the rows of the periods asked for, tagged with their
/// period, with each dimension as text and each leaf measure's per-row value (see
/// `sql::materialize`). Aggregations ([`Aggregate`]) then run over those rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePlan {
    pub source: usize,
    pub table: String,
    pub time_column: String,
    pub time_mode: TimeMode,
    /// Periods, in the frame of the time column; their index is the `__p` column.
    pub periods: Vec<Bounds>,
    /// `(dimension id, column)` for the dimensions asked for that this source maps.
    pub dims: Vec<(String, String)>,
    pub measures: Vec<PlannedMeasure>,
    /// The weight column (`weight:`): how many conversations a row stands for.
    pub weight: Option<String>,
}

impl SourcePlan {
    /// The name of the in-memory table holding this source's materialized rows.
    pub fn mem_table(&self) -> String {
        format!("__rows_{}", self.source)
    }

    /// A grouping set (dimension ids) as positions into `dims`, if this source maps them all.
    pub fn set_positions(&self, set: &[String]) -> Option<Vec<usize>> {
        set.iter()
            .map(|d| self.dims.iter().position(|(id, _)| id == d))
            .collect()
    }
}

/// One aggregation over materialized rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Aggregate {
    /// Groups of period indexes: rows of every period in a group are pooled under the group's
    /// index (the `__g` output column). Groups must not overlap.
    pub groups: Vec<Vec<usize>>,
    /// Grouping sets, as positions into the plan's `dims`; `[]` is the whole population.
    pub sets: Vec<Vec<usize>>,
    /// Linear combinations of measures (positions into `measures`, coefficient) whose squared
    /// per-row value is summed: the delta-method variance of a contribution (`q{i}` columns).
    pub psi: Vec<Vec<(usize, f64)>>,
}

/// Plans each source's rows for `periods`, with the dimensions `dims` (dimension ids; a
/// source that does not map one simply lacks it).
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
                time_mode: mode,
                weight: src.weight.as_ref().map(|w| w.value.clone()),
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
                            node: Some(n),
                            agg: m.agg,
                            expr: m.expr_sql.clone(),
                            filter: m.filter_sql.clone(),
                        }),
                        Def::Formula { .. } => None,
                    })
                    .chain(
                        coverage_columns(&src.kind)
                            .into_iter()
                            .map(|c| PlannedMeasure {
                                node: None,
                                agg: Agg::Sum,
                                expr: Some(SqlExpr::Column(c.clone())),
                                filter: None,
                            }),
                    )
                    .collect(),
            }
        })
        .collect()
}

/// The columns an event-log source's cases are summed over for its cause coverage, in
/// order: `transfers`, then `<cause>_transfers` per cause (`unclassified` last). They ride
/// along in the source's plan so the derivation runs once; none for other sources.
pub fn coverage_columns(kind: &SourceKind) -> Vec<String> {
    let SourceKind::EventLog(el) = kind else {
        return Vec::new();
    };
    std::iter::once("transfers".to_string())
        .chain(
            crate::spec::event_log::cause_names(el)
                .into_iter()
                .map(|c| crate::spec::event_log::cause_column(&c)),
        )
        .collect()
}

/// Every combination of `1..=depth` of the `n` dimensions, plus the empty one first; each
/// combination in increasing order (so a segment's parts follow the dimensions' order).
pub fn combinations(n: usize, depth: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    let mut frontier: Vec<Vec<usize>> = vec![Vec::new()];
    for _ in 0..depth.min(n) {
        let mut next = Vec::new();
        for c in &frontier {
            let from = c.last().map_or(0, |&l| l + 1);
            for k in from..n {
                let mut d = c.clone();
                d.push(k);
                next.push(d);
            }
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_up_to_depth() {
        assert_eq!(combinations(3, 1), vec![vec![], vec![0], vec![1], vec![2]]);
        let c = combinations(4, 2);
        assert_eq!(c.len(), 1 + 4 + 6);
        assert!(c.contains(&vec![1, 3]));
        assert_eq!(combinations(10, 2).len(), 1 + 10 + 45);
        assert_eq!(combinations(2, 3).len(), 1 + 2 + 1);
    }
}
