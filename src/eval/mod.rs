//! Evaluation: every node's value for every period asked for, in total and per segment.
//!
//! Input: the graph, a registered [`Engine`], periods and dimensions. It runs one aggregate
//! query per source (see `plan` and `sql`), turns the rows into leaf values and statistics
//! (count, sum, sum of squares), then evaluates formulas in Rust in topological order, per
//! period and per segment. 0/0, empty periods and means of nothing are *undefined*: a value
//! of `None` with a [`Status`] saying why, never NaN.

mod periods;

use std::collections::BTreeMap;

use crate::engine::{Engine, QueryError};
use crate::graph::{Def, MetricGraph};
use crate::period::Period;
use crate::plan::{self, TimeMode};
use crate::spec::model::Agg;

pub use periods::{Completeness, DataExtent, data_extent, default_period};

/// Why a value is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// The source has no rows at all in the period.
    NoData,
    /// A ratio's denominator (or any division) is zero.
    ZeroDenominator,
    /// A mean, min or max over no rows.
    Empty,
    /// An input is undefined (see `NodeValue::cause`).
    InputUndefined,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeValue {
    pub value: Option<f64>,
    pub status: Status,
    /// For `InputUndefined`: the node where undefinedness started.
    pub cause: Option<usize>,
}

impl NodeValue {
    fn ok(v: f64) -> NodeValue {
        NodeValue {
            value: Some(v),
            status: Status::Ok,
            cause: None,
        }
    }

    fn undefined(status: Status, cause: Option<usize>) -> NodeValue {
        NodeValue {
            value: None,
            status,
            cause,
        }
    }
}

/// What the query returned for one leaf in one cell: enough for noise estimates later.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct LeafStats {
    /// Rows counted (non-null values for sum/mean/min/max).
    pub n: f64,
    pub sum: f64,
    pub sumsq: f64,
}

/// A segment: `None` is the whole population; otherwise a dimension and a value (`None` for
/// rows where the column is NULL).
pub type Segment = Option<(String, Option<String>)>;

#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub values: Vec<NodeValue>,
    pub stats: Vec<Option<LeafStats>>,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub periods: Vec<Period>,
    pub dims: Vec<String>,
    /// Keyed by (period index, segment).
    pub cells: BTreeMap<(usize, Segment), Cell>,
}

impl Evaluation {
    pub fn cell(&self, period: usize, segment: &Segment) -> Option<&Cell> {
        self.cells.get(&(period, segment.clone()))
    }

    /// The whole population in a period (`evaluate` creates one for every period it is given).
    pub fn total(&self, period: usize) -> &Cell {
        &self.cells[&(period, None)]
    }

    /// The segments of one dimension seen in any period, in order.
    pub fn segments(&self, dim: &str) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .cells
            .keys()
            .filter_map(|(_, s)| s.as_ref().filter(|(d, _)| d == dim).map(|(_, v)| v.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("source `{0}` could not be registered; run `metrictree check` for details")]
    SourceUnavailable(String),
}

/// Evaluates every node for `periods`, in total and split by each of `dims`.
pub fn evaluate(
    graph: &MetricGraph,
    engine: &Engine,
    periods: &[Period],
    dims: &[String],
) -> Result<Evaluation, EvalError> {
    let n = graph.nodes.len();
    let modes: Vec<TimeMode> = engine
        .info
        .iter()
        .map(|i| i.as_ref().map(|i| i.time_mode).unwrap_or(TimeMode::Local))
        .collect();
    let plans = plan::plan(graph, periods, dims, &modes);

    // Per source: which periods have any rows, and per cell the leaf stats.
    let mut cells: BTreeMap<(usize, Segment), Cell> = BTreeMap::new();
    let mut has_rows: Vec<Vec<bool>> = vec![vec![false; periods.len()]; graph.spec.sources.len()];
    let blank = || Cell {
        values: vec![NodeValue::undefined(Status::NoData, None); n],
        stats: vec![None; n],
    };
    for p in 0..periods.len() {
        cells.insert((p, None), blank());
    }
    let mut raw: Vec<(usize, Segment, usize, LeafStats, Option<f64>)> = Vec::new();
    for sp in &plans {
        if engine.info[sp.source].is_none() {
            return Err(EvalError::SourceUnavailable(sp.table.clone()));
        }
        let rows = engine.query(&sp.table, &crate::sql::render(sp))?;
        for r in 0..rows.len {
            let Some(p) = rows.f64("__p", r).map(|p| p as usize) else {
                continue;
            };
            let mut segment: Segment = None;
            for (k, (dim, _)) in sp.dims.iter().enumerate() {
                if rows.f64(&format!("g{k}"), r) == Some(0.0) {
                    segment = Some((dim.clone(), rows.text(&format!("d{k}"), r)));
                }
            }
            if segment.is_none() {
                has_rows[sp.source][p] = rows.f64("__rows", r).unwrap_or(0.0) > 0.0;
            }
            for (j, m) in sp.measures.iter().enumerate() {
                let stats = LeafStats {
                    n: rows.f64(&format!("m{j}_n"), r).unwrap_or(0.0),
                    sum: rows.f64(&format!("m{j}_s"), r).unwrap_or(0.0),
                    sumsq: rows.f64(&format!("m{j}_ss"), r).unwrap_or(0.0),
                };
                raw.push((
                    p,
                    segment.clone(),
                    m.node,
                    stats,
                    rows.f64(&format!("m{j}_v"), r),
                ));
            }
        }
    }
    for (p, seg, _, _, _) in &raw {
        cells.entry((*p, seg.clone())).or_insert_with(blank);
    }
    // Leaves with no row in a cell: zero counts if their source has data in that period.
    let leaf_source: Vec<Option<(usize, Agg)>> = graph
        .nodes
        .iter()
        .map(|x| match &x.def {
            Def::Measure(m) => Some((m.source, m.agg)),
            _ => None,
        })
        .collect();
    for ((p, _), cell) in cells.iter_mut() {
        for (i, ls) in leaf_source.iter().enumerate() {
            if let Some((s, agg)) = ls
                && has_rows[*s][*p]
            {
                cell.stats[i] = Some(LeafStats::default());
                cell.values[i] = leaf_value(*agg, &LeafStats::default(), None);
            }
        }
    }
    for (p, seg, node, stats, v) in raw {
        let Some((s, agg)) = leaf_source[node] else {
            continue;
        };
        if !has_rows[s][p] {
            continue;
        }
        if let Some(cell) = cells.get_mut(&(p, seg)) {
            cell.stats[node] = Some(stats);
            cell.values[node] = leaf_value(agg, &stats, v);
        }
    }
    for cell in cells.values_mut() {
        eval_formulas(graph, &mut cell.values);
    }
    Ok(Evaluation {
        periods: periods.to_vec(),
        dims: dims.to_vec(),
        cells,
    })
}

fn leaf_value(agg: Agg, s: &LeafStats, v: Option<f64>) -> NodeValue {
    match agg {
        Agg::Count => NodeValue::ok(s.n),
        Agg::Sum => NodeValue::ok(if s.n > 0.0 { s.sum } else { 0.0 }),
        Agg::Mean if s.n > 0.0 => NodeValue::ok(s.sum / s.n),
        Agg::CountDistinct => NodeValue::ok(v.unwrap_or(0.0)),
        Agg::Min | Agg::Max => match v {
            Some(v) => NodeValue::ok(v),
            None => NodeValue::undefined(Status::Empty, None),
        },
        Agg::Mean => NodeValue::undefined(Status::Empty, None),
    }
}

/// Evaluates formula nodes from their inputs, inputs first.
pub fn eval_formulas(graph: &MetricGraph, values: &mut [NodeValue]) {
    for &i in graph.order.iter().rev() {
        let Def::Formula { expr, inputs, .. } = &graph.nodes[i].def else {
            continue;
        };
        let mut x = Vec::with_capacity(inputs.len());
        let mut undefined = None;
        for &j in inputs {
            match values[j].value {
                Some(v) => x.push(v),
                None => {
                    undefined = Some(values[j].cause.unwrap_or(j));
                    break;
                }
            }
        }
        values[i] = match undefined {
            Some(cause) => NodeValue::undefined(Status::InputUndefined, Some(cause)),
            None => {
                let v = expr.eval(&x);
                if v.is_finite() {
                    NodeValue::ok(v)
                } else if let Some(z) = graph.nodes[i].on_zero {
                    NodeValue::ok(z)
                } else {
                    NodeValue::undefined(Status::ZeroDenominator, Some(i))
                }
            }
        };
    }
}
