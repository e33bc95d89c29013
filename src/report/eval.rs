//! `eval` output: every node's value for one period, optionally per segment of a dimension —
//! as an indented table for people, or as JSON.

use serde::Serialize;

use super::format::value;
use super::style::Styles;
use super::why::PeriodOut;
use crate::eval::{Evaluation, NodeValue, Segment, Status};
use crate::graph::MetricGraph;

/// Version of the `eval` JSON (independent of `why`'s).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct EvalJson {
    pub schema_version: u32,
    pub tree: String,
    pub period: PeriodOut,
    pub complete: bool,
    pub dimension: Option<String>,
    pub nodes: Vec<EvalNode>,
    /// Per event-log source: the period's transfers per cause (see `report::coverage`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_causes: Vec<super::coverage::CoverageJson>,
}

#[derive(Debug, Serialize)]
pub struct EvalNode {
    pub id: String,
    pub label: String,
    pub owner: String,
    pub unit: crate::spec::model::Unit,
    pub value: Option<f64>,
    pub status: Status,
    pub target: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<EvalSegment>,
}

#[derive(Debug, Serialize)]
pub struct EvalSegment {
    pub value_of: Option<String>,
    pub value: Option<f64>,
    pub status: Status,
}

/// Nodes in display order: the root's tree depth-first, then each companion's.
fn display_order(g: &MetricGraph) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut seen = vec![false; g.nodes.len()];
    fn walk(
        g: &MetricGraph,
        n: usize,
        depth: usize,
        seen: &mut [bool],
        out: &mut Vec<(usize, usize)>,
    ) {
        out.push((n, depth));
        if std::mem::replace(&mut seen[n], true) {
            return;
        }
        for &i in g.nodes[n].inputs() {
            walk(g, i, depth + 1, seen, out);
        }
    }
    walk(g, g.root, 0, &mut seen, &mut out);
    for &c in &g.companions {
        walk(g, c, 0, &mut seen, &mut out);
    }
    out
}

pub fn json(g: &MetricGraph, e: &Evaluation, complete: bool, dim: Option<&str>) -> EvalJson {
    let mut ids = Vec::new();
    let nodes = display_order(g)
        .into_iter()
        .filter(|(n, _)| {
            let new = !ids.contains(n);
            ids.push(*n);
            new
        })
        .map(|(n, _)| {
            let node = &g.nodes[n];
            let v = e.total(0).values.get(n).copied().unwrap_or(NodeValue {
                value: None,
                status: Status::NoData,
                cause: None,
            });
            let segments = match dim {
                Some(d) if g.splittable[n].contains(d) => e
                    .segments(d)
                    .into_iter()
                    .map(|s| {
                        let key = Segment::one(d, s.clone());
                        let v = e.cell(0, &key).map(|c| c.values[n]);
                        EvalSegment {
                            value_of: s,
                            value: v.and_then(|v| v.value),
                            status: v.map(|v| v.status).unwrap_or(Status::NoData),
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            EvalNode {
                id: node.id.clone(),
                label: node.label.clone(),
                owner: node.owner.clone(),
                unit: node.unit,
                value: v.value,
                status: v.status,
                target: node.target,
                segments,
            }
        })
        .collect();
    EvalJson {
        schema_version: SCHEMA_VERSION,
        tree: g.spec.name.clone(),
        period: PeriodOut::new(&e.periods[0], g.spec.timezone),
        complete,
        dimension: dim.map(str::to_string),
        nodes,
        transfer_causes: Vec::new(),
    }
}

pub fn text(g: &MetricGraph, e: &Evaluation, dim: Option<&str>, st: &Styles) -> String {
    let g = &super::terminal::escaped(g);
    let period = &e.periods[0];
    let segs: Vec<Option<String>> = dim.map(|d| e.segments(d)).unwrap_or_default();
    let mut header = vec!["Node".to_string(), "Owner".to_string(), period.label()];
    header.extend(segs.iter().map(|s| {
        s.as_deref()
            .map_or("(null)".into(), |v| crate::text::escape(v).into_owned())
    }));
    header.push("Target".into());
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut companions_started = false;
    for (n, depth) in display_order(g) {
        if depth == 0 && n != g.root && !companions_started {
            companions_started = true;
            rows.push(vec![String::new()]);
            rows.push(vec!["Companions".into()]);
        }
        let node = &g.nodes[n];
        let v = e.total(0).values[n];
        let mut row = vec![
            format!("{}{}", "  ".repeat(depth), node.label),
            g.owner(&node.owner)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| node.owner.clone()),
            value(v.value, node.unit),
        ];
        for s in &segs {
            let key = Segment::one(dim.unwrap_or_default(), s.clone());
            let cell = if g.splittable[n].contains(dim.unwrap_or_default()) {
                value(e.cell(0, &key).and_then(|c| c.values[n].value), node.unit)
            } else {
                "n/a".into()
            };
            row.push(cell);
        }
        row.push(
            node.target
                .map(|t| value(Some(t), node.unit))
                .unwrap_or_default(),
        );
        rows.push(row);
    }
    let cols = header.len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            std::iter::once(&header)
                .chain(rows.iter().filter(|r| r.len() == cols))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let fmt = |r: &Vec<String>| {
        if r.len() != cols {
            return format!("{}\n", r.first().cloned().unwrap_or_default());
        }
        let mut s = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c < 2 {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
            s.push_str("  ");
        }
        format!("{}\n", s.trim_end())
    };
    let mut out = format!("{}{}{}", st.dim, fmt(&header), st.reset);
    for r in &rows {
        out.push_str(&fmt(r));
    }
    out
}
