//! The `eval` report model: every node's value for one period, optionally per segment of a
//! dimension, in display order. It is the JSON boundary (`schemas/eval.schema.json`) and what
//! the text table (`report::text::eval`) renders.

use serde::Serialize;

use super::why::PeriodOut;
use crate::eval::{CauseCoverage, Evaluation, NodeValue, Segment, Status};
use crate::graph::MetricGraph;

/// Version of the `eval` JSON (independent of `why`'s); 2 added the title, the display
/// rows, owner names and the segment values (see docs/output.md's changelog).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub schema_version: u32,
    pub tree: String,
    pub period: PeriodOut,
    pub complete: bool,
    pub dimension: Option<String>,
    pub nodes: Vec<EvalNode>,
    /// Per event-log source: the period's transfers per cause (see `report::coverage`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_causes: Vec<super::coverage::CoverageJson>,
    /// The tree's title, or its name (v2).
    pub title: String,
    /// With a dimension: its values, the columns of the table (`null` for rows without
    /// one) (v2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segment_values: Vec<Option<String>>,
    /// The table's rows: the root's tree depth-first (a node under two parents appears under
    /// both), then each companion's (v2).
    pub rows: Vec<EvalRow>,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct EvalRow {
    pub id: String,
    /// 0 for the root and companions.
    pub depth: usize,
    /// Under a companion, not the root.
    pub companion: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalNode {
    pub id: String,
    pub label: String,
    pub owner: String,
    /// The owner's name, or its id when the tree names none (v2).
    pub owner_name: String,
    pub unit: crate::spec::model::Unit,
    pub value: Option<f64>,
    pub status: Status,
    pub target: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<EvalSegment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalSegment {
    pub value_of: Option<String>,
    pub value: Option<f64>,
    pub status: Status,
}

/// Nodes in display order: the root's tree depth-first, then each companion's.
pub(crate) fn display_order(g: &MetricGraph) -> Vec<(usize, usize)> {
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

impl EvalReport {
    /// The model of one period's evaluation (`e`, one group) and its cause coverage.
    pub fn new(
        g: &MetricGraph,
        e: &Evaluation,
        coverage: &[CauseCoverage],
        complete: bool,
        dim: Option<&str>,
    ) -> EvalReport {
        let mut r = nodes(g, e, complete, dim);
        r.transfer_causes = super::coverage::json(g, coverage, &[e.periods[0].label()]);
        r
    }

    /// The JSON output (pretty, newline-ended, safe to print on a terminal).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        Ok(crate::text::json_safe(serde_json::to_string_pretty(self)?) + "\n")
    }

    pub fn node(&self, id: &str) -> Option<&EvalNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

fn nodes(g: &MetricGraph, e: &Evaluation, complete: bool, dim: Option<&str>) -> EvalReport {
    let order = display_order(g);
    let values: Vec<Option<String>> = dim.map(|d| e.segments(d)).unwrap_or_default();
    let mut ids = Vec::new();
    let nodes = order
        .iter()
        .copied()
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
                Some(d) if g.splittable[n].contains(d) => values
                    .iter()
                    .map(|s| {
                        let key = Segment::one(d, s.clone());
                        let v = e.cell(0, &key).map(|c| c.values[n]);
                        EvalSegment {
                            value_of: s.clone(),
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
                owner_name: g.owner_name(&node.owner),
                unit: node.unit,
                value: v.value,
                status: v.status,
                target: node.target,
                segments,
            }
        })
        .collect();
    let mut companion = false;
    let rows = order
        .iter()
        .map(|&(n, depth)| {
            companion |= depth == 0 && n != g.root;
            EvalRow {
                id: g.nodes[n].id.clone(),
                depth,
                companion,
            }
        })
        .collect();
    EvalReport {
        schema_version: SCHEMA_VERSION,
        tree: g.spec.name.clone(),
        period: PeriodOut::new(&e.periods[0], g.spec.timezone),
        complete,
        dimension: dim.map(str::to_string),
        nodes,
        transfer_causes: Vec::new(),
        title: g.spec.title.clone().unwrap_or_else(|| g.spec.name.clone()),
        segment_values: values,
        rows,
    }
}
