//! The `history` report model: node values per period (oldest first), optionally per
//! segment of one dimension. It is the JSON boundary (`schemas/history.schema.json`), what
//! the text and CSV outputs render, and where owner reports take their sparklines from.

use serde::Serialize;

use super::why::PeriodOut;
use crate::eval::{Evaluation, Segment, Status};
use crate::graph::MetricGraph;
use crate::period::Period;

/// Version of the `history` JSON.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub schema_version: u32,
    pub tree: String,
    pub grain: crate::period::Grain,
    pub timezone: String,
    /// Oldest first.
    pub periods: Vec<HistoryPeriod>,
    pub dimension: Option<String>,
    /// In display order (the root's tree, then the companions); one node with `--node`.
    pub nodes: Vec<HistoryNode>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPeriod {
    #[serde(flatten)]
    pub period: PeriodOut,
    /// Inside the data and matured.
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryNode {
    pub id: String,
    pub label: String,
    pub owner: String,
    /// The owner's name, or its id when the tree names none.
    pub owner_name: String,
    pub unit: crate::spec::model::Unit,
    /// One per period; `null` where undefined (see `statuses`).
    pub values: Vec<Option<f64>>,
    pub statuses: Vec<Status>,
    /// With a dimension the node can be split by: one series per segment value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<HistorySegment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistorySegment {
    pub value_of: Option<String>,
    pub values: Vec<Option<f64>>,
    pub statuses: Vec<Status>,
}

impl HistoryReport {
    /// The model of a history evaluation (one group per period); `nodes` restricts it.
    pub fn new(
        g: &MetricGraph,
        periods: &[Period],
        complete: &[bool],
        e: &Evaluation,
        only: Option<usize>,
        dim: Option<&str>,
    ) -> HistoryReport {
        let tz = g.spec.timezone;
        let mut seen = vec![false; g.nodes.len()];
        let order: Vec<usize> = match only {
            Some(n) => vec![n],
            None => super::eval::display_order(g)
                .into_iter()
                .map(|(n, _)| n)
                .filter(|&n| !std::mem::replace(&mut seen[n], true))
                .collect(),
        };
        let seg_values = dim.map(|d| e.segments(d)).unwrap_or_default();
        let series = |n: usize, seg: &Segment| -> (Vec<Option<f64>>, Vec<Status>) {
            (0..periods.len())
                .map(|p| match e.cell(p, seg) {
                    Some(c) => (c.values[n].value, c.values[n].status),
                    None => (None, Status::NoData),
                })
                .unzip()
        };
        let nodes = order
            .into_iter()
            .map(|n| {
                let node = &g.nodes[n];
                let (values, statuses) = series(n, &Segment::total());
                let segments = match dim {
                    Some(d) if g.splittable[n].contains(d) => seg_values
                        .iter()
                        .map(|v| {
                            let (values, statuses) = series(n, &Segment::one(d, v.clone()));
                            HistorySegment {
                                value_of: v.clone(),
                                values,
                                statuses,
                            }
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                HistoryNode {
                    id: node.id.clone(),
                    label: node.label.clone(),
                    owner: node.owner.clone(),
                    owner_name: g.owner_name(&node.owner),
                    unit: node.unit,
                    values,
                    statuses,
                    segments,
                }
            })
            .collect();
        HistoryReport {
            schema_version: SCHEMA_VERSION,
            tree: g.spec.name.clone(),
            grain: g.spec.grain,
            timezone: tz.name().to_string(),
            periods: periods
                .iter()
                .zip(complete)
                .map(|(p, &c)| HistoryPeriod {
                    period: PeriodOut::new(p, tz),
                    complete: c,
                })
                .collect(),
            dimension: dim.map(str::to_string),
            nodes,
        }
    }

    /// The JSON output (pretty, newline-ended, safe to print on a terminal).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        Ok(crate::text::json_safe(serde_json::to_string_pretty(self)?) + "\n")
    }

    pub fn node(&self, id: &str) -> Option<&HistoryNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}
