//! Evaluation: every node's value for every period asked for, in total and per segment.
//!
//! Input: the graph, a registered [`Engine`], periods and dimensions. [`Dataset::load`] reads
//! each source's rows once into memory (see `plan` and `sql`); [`Dataset::aggregate`] runs one
//! aggregate query per source over them — groups of periods × grouping sets — turns the rows
//! into leaf values and statistics (count, sum, sum of squares, noise sums), then evaluates
//! formulas in Rust in topological order, per group and per segment. 0/0, empty periods and means of nothing are *undefined*: a value
//! of `None` with a [`Status`] saying why, never NaN.

mod coverage;
mod periods;
mod segment;

use std::collections::BTreeMap;

use crate::engine::{Engine, QueryError};
use crate::graph::{Def, MetricGraph};
use crate::period::Period;
use crate::plan::{self, TimeMode};
use crate::spec::model::Agg;

pub use coverage::{CauseCoverage, GroupCoverage};
pub use periods::{Completeness, DataExtent, data_extent, default_period};
pub use segment::Segment;

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
    /// The value is not a finite number: a sum beyond ±1.8e308, `NaN` or `inf` in the data,
    /// or a formula that overflows. Never formatted as a number.
    NotFinite,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeValue {
    pub value: Option<f64>,
    pub status: Status,
    /// For `InputUndefined`: the node where undefinedness started.
    pub cause: Option<usize>,
}

impl NodeValue {
    /// A computed value: `NotFinite` (no number) unless it is finite.
    fn ok(v: f64) -> NodeValue {
        if !v.is_finite() {
            return NodeValue::undefined(Status::NotFinite, None);
        }
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
/// Raw, for the whole group of periods (never scaled).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct LeafStats {
    /// Rows counted (non-null values for sum/mean/min/max).
    pub n: f64,
    pub sum: f64,
    pub sumsq: f64,
}

/// One group of periods × one segment.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// Every node's value; counts and sums are per period (a pooled group's total ÷ its size).
    pub values: Vec<NodeValue>,
    /// Per leaf node, what the query returned (`None` when the source has no rows).
    pub stats: Vec<Option<LeafStats>>,
    /// Rows per source (raw; 0 where the source has none or is not split this way).
    pub rows: Vec<f64>,
    /// Per noise combination asked for (see [`Psi`]): Σ over rows of its squared value,
    /// summed over sources and scaled like the values (÷ size²).
    pub psi: Vec<f64>,
}

/// A per-row linear combination of leaves, Σ cₗ·xₗ, whose squares are summed per cell: the
/// delta-method variance of a contribution with those leaf multipliers.
#[derive(Debug, Clone, PartialEq)]
pub struct Psi {
    pub coef: Vec<(usize, f64)>,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The periods read.
    pub periods: Vec<Period>,
    /// Groups of period indexes (pooled); cells are keyed by group index.
    pub groups: Vec<Vec<usize>>,
    pub dims: Vec<String>,
    pub cells: BTreeMap<(usize, Segment), Cell>,
}

impl Evaluation {
    pub fn cell(&self, group: usize, segment: &Segment) -> Option<&Cell> {
        self.cells.get(&(group, segment.clone()))
    }

    /// The whole population in a group (every aggregation includes it).
    pub fn total(&self, group: usize) -> &Cell {
        &self.cells[&(group, Segment::total())]
    }

    /// The values of one dimension seen in any group, in order.
    pub fn segments(&self, dim: &str) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .cells
            .keys()
            .filter(|(_, s)| s.depth() == 1 && s.0[0].0 == dim)
            .map(|(_, s)| s.0[0].1.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Two populations of one group as two groups (`why --compare`): the cells of group 0
    /// whose segment fixes `dim` to `values[0]` become group 0 and those fixing it to
    /// `values[1]` group 1, each with that part dropped (so `dim = A` is group 0's whole
    /// population and `dim = A ∧ channel = chat` its `channel = chat`). Every grouping set
    /// aggregated must include `dim`. Err: the value (0 or 1) with no row at all.
    pub fn populations(&self, dim: &str, values: [&str; 2]) -> Result<Evaluation, usize> {
        let mut cells = BTreeMap::new();
        for ((g, seg), cell) in &self.cells {
            if *g != 0 {
                continue;
            }
            let Some(at) = seg.0.iter().position(|(d, _)| d == dim) else {
                continue;
            };
            let Some(side) = values
                .iter()
                .position(|v| seg.0[at].1.as_deref() == Some(*v))
            else {
                continue;
            };
            let mut rest = seg.0.clone();
            rest.remove(at);
            cells.insert((side, Segment(rest)), cell.clone());
        }
        for side in 0..2 {
            let total = cells.get(&(side, Segment::total()));
            if total.is_none_or(|c| c.rows.iter().all(|&r| r <= 0.0)) {
                return Err(side);
            }
        }
        Ok(Evaluation {
            periods: self.periods.clone(),
            groups: vec![self.groups[0].clone(), self.groups[0].clone()],
            dims: self.dims.iter().filter(|d| *d != dim).cloned().collect(),
            cells,
        })
    }

    /// Every segment (not the total) present in group `g`.
    pub fn segments_in(&self, g: usize) -> impl Iterator<Item = &Segment> {
        self.cells
            .keys()
            .filter(move |(k, s)| *k == g && !s.is_total())
            .map(|(_, s)| s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("source `{0}` could not be registered; run `metrictree check` for details")]
    SourceUnavailable(String),
    /// Rows whose weight (`weight:`) is missing, negative or not finite.
    #[error(
        "source `{source_id}`: {rows} rows in {periods} have a weight (column `{column}`) that is missing, negative or not a finite number{lines}; fix those rows, or leave them out with a SQL source (`WHERE {column} >= 0`)"
    )]
    BadWeight {
        source_id: String,
        column: String,
        rows: u64,
        periods: String,
        /// `; the file's first: line 4 (negative), …` for a CSV file, else empty.
        lines: String,
    },
}

/// The rows of every source for a set of periods, read once into memory (see
/// `sql::materialize`); [`Dataset::aggregate`] then evaluates cells from them.
pub struct Dataset<'a> {
    graph: &'a MetricGraph,
    engine: &'a Engine,
    plans: Vec<plan::SourcePlan>,
    pub periods: Vec<Period>,
    pub dims: Vec<String>,
}

impl<'a> Dataset<'a> {
    /// Reads every source's rows in `periods`, with the dimensions `dims`.
    pub fn load(
        graph: &'a MetricGraph,
        engine: &'a Engine,
        periods: &[Period],
        dims: &[String],
    ) -> Result<Dataset<'a>, EvalError> {
        let modes: Vec<TimeMode> = engine
            .info
            .iter()
            .map(|i| i.as_ref().map(|i| i.time_mode).unwrap_or(TimeMode::Local))
            .collect();
        let plans = plan::plan(graph, periods, dims, &modes);
        for sp in &plans {
            if engine.info[sp.source].is_none() {
                return Err(EvalError::SourceUnavailable(sp.table.clone()));
            }
            engine.load_rows(sp)?;
        }
        Ok(Dataset {
            graph,
            engine,
            plans,
            periods: periods.to_vec(),
            dims: dims.to_vec(),
        })
    }

    /// Evaluates every node for each group of periods, for the whole population and for each
    /// grouping set in `sets` (lists of dimension ids, in `dims` order; `[]` is implied), with
    /// the noise sums of `psi`.
    pub fn aggregate(
        &self,
        groups: &[Vec<usize>],
        sets: &[Vec<String>],
        psi: &[Psi],
    ) -> Result<Evaluation, EvalError> {
        let graph = self.graph;
        let n = graph.nodes.len();
        let n_sources = graph.spec.sources.len();
        let blank = || Cell {
            values: vec![NodeValue::undefined(Status::NoData, None); n],
            stats: vec![None; n],
            rows: vec![0.0; n_sources],
            psi: vec![0.0; psi.len()],
        };
        let mut cells: BTreeMap<(usize, Segment), Cell> = BTreeMap::new();
        for g in 0..groups.len() {
            cells.insert((g, Segment::total()), blank());
        }
        let mut has_rows = vec![vec![false; groups.len()]; n_sources];
        for sp in self.plans.iter().filter(|_| !groups.is_empty()) {
            let mut agg_sets = vec![Vec::new()];
            for set in sets.iter().filter(|s| !s.is_empty()) {
                if let Some(pos) = sp.set_positions(set) {
                    agg_sets.push(pos);
                }
            }
            let measure_of = |leaf: usize| sp.measures.iter().position(|m| m.node == Some(leaf));
            let agg = plan::Aggregate {
                groups: groups.to_vec(),
                sets: agg_sets,
                psi: psi
                    .iter()
                    .map(|p| {
                        p.coef
                            .iter()
                            .filter_map(|&(leaf, c)| measure_of(leaf).map(|j| (j, c)))
                            .collect()
                    })
                    .collect(),
            };
            let rows = self.engine.aggregate(sp, &agg)?;
            let col = |name: String| rows.column(&name);
            if let Some(column) = &sp.weight {
                let c_bad = col("__bad_w".into());
                let c_grp = col("__g".into());
                let mut bad = 0.0;
                let mut where_ = std::collections::BTreeSet::new();
                for r in 0..rows.len {
                    // The whole population's rows only (grouping sets repeat them).
                    let total = (0..sp.dims.len())
                        .all(|k| rows.f64_at(col(format!("g{k}")), r) != Some(0.0));
                    let b = rows.f64_at(c_bad, r).unwrap_or(0.0);
                    if total && b > 0.0 {
                        bad += b;
                        if let Some(g) = rows.f64_at(c_grp, r) {
                            for &p in &groups[g as usize] {
                                where_.insert(self.periods[p].label());
                            }
                        }
                    }
                }
                if bad > 0.0 {
                    let lines: Vec<String> = self
                        .engine
                        .bad_weight_lines(sp.source, column)
                        .into_iter()
                        .map(|(line, why)| format!("line {line} ({why})"))
                        .collect();
                    return Err(EvalError::BadWeight {
                        source_id: graph.spec.sources[sp.source].id.clone(),
                        column: column.clone(),
                        rows: bad as u64,
                        periods: where_.into_iter().collect::<Vec<_>>().join(", "),
                        lines: if lines.is_empty() {
                            String::new()
                        } else {
                            format!("; the file's first such rows: {}", lines.join(", "))
                        },
                    });
                }
            }
            let c_g = col("__g".into());
            let c_rows = col("__rows".into());
            let c_dims: Vec<_> = (0..sp.dims.len())
                .map(|k| (col(format!("g{k}")), col(format!("d{k}"))))
                .collect();
            let c_meas: Vec<_> = (0..sp.measures.len())
                .map(|j| {
                    [
                        col(format!("m{j}_n")),
                        col(format!("m{j}_s")),
                        col(format!("m{j}_ss")),
                        col(format!("m{j}_v")),
                    ]
                })
                .collect();
            let c_psi: Vec<_> = (0..psi.len()).map(|i| col(format!("q{i}"))).collect();
            for r in 0..rows.len {
                let Some(g) = rows.f64_at(c_g, r).map(|g| g as usize) else {
                    continue;
                };
                let scale = 1.0 / groups[g].len().max(1) as f64;
                let mut parts = Vec::new();
                for (k, (dim, _)) in sp.dims.iter().enumerate() {
                    if rows.f64_at(c_dims[k].0, r) == Some(0.0) {
                        parts.push((dim.clone(), rows.text_at(c_dims[k].1, r)));
                    }
                }
                let segment = Segment(parts);
                let n_rows = rows.f64_at(c_rows, r).unwrap_or(0.0);
                if segment.is_total() {
                    has_rows[sp.source][g] = n_rows > 0.0;
                }
                let cell = cells.entry((g, segment)).or_insert_with(blank);
                cell.rows[sp.source] = n_rows;
                for (i, c) in c_psi.iter().enumerate() {
                    cell.psi[i] += rows.f64_at(*c, r).unwrap_or(0.0) * scale * scale;
                }
                for (j, m) in sp.measures.iter().enumerate() {
                    let Some(node) = m.node else { continue };
                    let [cn, cs, css, cv] = c_meas[j];
                    let stats = LeafStats {
                        n: rows.f64_at(cn, r).unwrap_or(0.0),
                        sum: rows.f64_at(cs, r).unwrap_or(0.0),
                        sumsq: rows.f64_at(css, r).unwrap_or(0.0),
                    };
                    // Counts are 0/1 per row: their sum of squares is the count.
                    let stats = if m.agg == Agg::Count {
                        LeafStats {
                            sum: stats.n,
                            sumsq: stats.n,
                            ..stats
                        }
                    } else {
                        stats
                    };
                    cell.stats[node] = Some(stats);
                    cell.values[node] = leaf_value(m.agg, &stats, rows.f64_at(cv, r), scale);
                    if cell.values[node].status == Status::NotFinite {
                        cell.values[node].cause = Some(node);
                    }
                }
            }
        }
        // Leaves with no row in a cell are zero if their source has rows in that group and is
        // split by every dimension of the segment; otherwise they stay undefined (no data).
        for ((g, seg), cell) in cells.iter_mut() {
            let scale = 1.0 / groups[*g].len().max(1) as f64;
            for sp in &self.plans {
                let splits = seg.dims().all(|d| sp.dims.iter().any(|(x, _)| x == d));
                for m in &sp.measures {
                    let Some(node) = m.node else { continue };
                    if !has_rows[sp.source][*g] {
                        cell.stats[node] = None;
                        cell.values[node] = NodeValue::undefined(Status::NoData, None);
                    } else if splits && cell.stats[node].is_none() {
                        cell.stats[node] = Some(LeafStats::default());
                        cell.values[node] = leaf_value(m.agg, &LeafStats::default(), None, scale);
                    }
                }
            }
            eval_formulas(graph, &mut cell.values);
        }
        Ok(Evaluation {
            periods: self.periods.clone(),
            groups: groups.to_vec(),
            dims: self.dims.clone(),
            cells,
        })
    }
}

/// One cell from signed sums of single-period cells, as if their rows had been read as one
/// group of `periods` periods: counts, sums, sums of squares, rows and noise sums add (with
/// the signs: a total minus a segment is the rest of the population), leaves are valued
/// per period, formulas evaluated. Only counts, sums and means pool; other leaves are
/// undefined. A leaf without stats in any part is undefined (no data).
pub fn pooled(graph: &MetricGraph, parts: &[(&Cell, f64)], periods: usize) -> Cell {
    let n = graph.nodes.len();
    let scale = 1.0 / periods.max(1) as f64;
    let first = parts.first().map(|p| p.0);
    let mut cell = Cell {
        values: vec![NodeValue::undefined(Status::NoData, None); n],
        stats: vec![None; n],
        rows: vec![0.0; first.map_or(0, |c| c.rows.len())],
        psi: vec![0.0; first.map_or(0, |c| c.psi.len())],
    };
    for (c, k) in parts {
        for (r, x) in cell.rows.iter_mut().zip(&c.rows) {
            *r += k * x;
        }
        for (q, x) in cell.psi.iter_mut().zip(&c.psi) {
            *q += k * x * scale * scale;
        }
    }
    for i in 0..n {
        let Def::Measure(m) = &graph.nodes[i].def else {
            continue;
        };
        let mut acc = Some(LeafStats::default());
        for (c, k) in parts {
            acc = match (acc, c.stats[i]) {
                (Some(a), Some(s)) => Some(LeafStats {
                    n: a.n + k * s.n,
                    sum: a.sum + k * s.sum,
                    sumsq: a.sumsq + k * s.sumsq,
                }),
                _ => None,
            };
        }
        if let Some(s) = acc.filter(|_| !parts.is_empty()) {
            cell.stats[i] = Some(s);
            cell.values[i] = match m.agg {
                Agg::Count | Agg::Sum | Agg::Mean => leaf_value(m.agg, &s, None, scale),
                _ => NodeValue::undefined(Status::Empty, None),
            };
        }
    }
    eval_formulas(graph, &mut cell.values);
    cell
}

/// A leaf's value from its stats; `scale` turns a pooled group's count or sum into a per-period
/// one (1 ÷ the number of periods pooled).
fn leaf_value(agg: Agg, s: &LeafStats, v: Option<f64>, scale: f64) -> NodeValue {
    match agg {
        Agg::Count => NodeValue::ok(s.n * scale),
        Agg::Sum => NodeValue::ok(if s.n > 0.0 { s.sum * scale } else { 0.0 }),
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
                } else if !expr.divides_by_zero(&x) {
                    // Finite inputs, no division by zero: the formula overflows.
                    NodeValue::undefined(Status::NotFinite, Some(i))
                } else if let Some(z) = graph.nodes[i].on_zero {
                    NodeValue::ok(z)
                } else {
                    NodeValue::undefined(Status::ZeroDenominator, Some(i))
                }
            }
        };
    }
}
