//! Where a node's change happened: its change split over segments (one dimension, or a
//! conjunction of several).
//!
//! Every (leaf × segment) value is a player. The node depends on a leaf's segments only
//! through their sum, so along the straight path from baseline to current each player's
//! average gradient is its leaf's multiplier M(ℓ) from the branch attribution, and a
//! segment's contribution is Σₗ M(ℓ)·Δxₗ,ₛ — no per-segment division, so segments that
//! appear or vanish are fine, and within one dimension the contributions sum exactly to the
//! node's change. For a rate (a ratio over a volume) the contribution splits into
//! **rate** = w̄ₛ·Δrₛ (the segment's own rate moving, weighted by its mean volume share; 0 when
//! the segment is absent in either period) and **mix** = contribution − rate. Summable nodes
//! also get BigQuery contribution analysis's difference, unexpected difference and a-priori
//! support; rates get the segment's ratio over the rest of the population. Pure maths.

use serde::Serialize;

use crate::eval::{Cell, NodeValue, eval_formulas};
use crate::graph::{Def, MetricGraph};
use crate::spec::formula::Shape;
use crate::spec::model::Agg;

/// How a node's segments are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NodeKind {
    /// Counts, sums and their linear combinations: segments add up to the node.
    Summable,
    /// A rate over a volume node (a ratio's denominator, shared by a sum of such rates).
    Rate { volume: usize },
    /// Anything else: contribution only.
    Other,
}

/// Whether `node` can be split by segments: every leaf under it must be additive (a count or
/// a sum). Returns the first leaf that is not.
pub fn non_additive_leaf(g: &MetricGraph, node: usize) -> Option<usize> {
    g.subtree(node).into_iter().find(
        |&l| matches!(&g.nodes[l].def, Def::Measure(m) if !matches!(m.agg, Agg::Count | Agg::Sum)),
    )
}

/// Classifies a node (see [`NodeKind`]).
pub fn kind(g: &MetricGraph, node: usize) -> NodeKind {
    match &g.nodes[node].def {
        Def::Measure(m) if matches!(m.agg, Agg::Count | Agg::Sum) => NodeKind::Summable,
        Def::Measure(_) => NodeKind::Other,
        Def::Formula { inputs, shape, .. } => match shape {
            Shape::Linear { coef } => {
                let kinds: Vec<NodeKind> = coef.iter().map(|&(i, _)| kind(g, inputs[i])).collect();
                if kinds.iter().all(|k| *k == NodeKind::Summable) {
                    NodeKind::Summable
                } else if let Some(NodeKind::Rate { volume }) = kinds.first()
                    && kinds
                        .iter()
                        .all(|k| *k == NodeKind::Rate { volume: *volume })
                {
                    NodeKind::Rate { volume: *volume }
                } else {
                    NodeKind::Other
                }
            }
            Shape::Ratio { den, .. } if kind(g, inputs[*den]) == NodeKind::Summable => {
                NodeKind::Rate {
                    volume: inputs[*den],
                }
            }
            _ => NodeKind::Other,
        },
    }
}

/// BigQuery ML contribution analysis's columns for a summable metric (test = current,
/// control = baseline).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summable {
    pub difference: f64,
    pub relative_difference: Option<f64>,
    /// The segment's change beyond what the rest of the population's growth predicts:
    /// m_t − m_c·(M_t − m_t)/(M_c − m_c).
    pub unexpected_difference: Option<f64>,
    pub relative_unexpected_difference: Option<f64>,
    /// max(m_t/M_t, m_c/M_c).
    pub apriori_support: Option<f64>,
}

/// One segment's part in a node's change.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentChange {
    /// The node's value within the segment (`None`: undefined there, e.g. absent).
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Σₗ M(ℓ)·Δxₗ,ₛ.
    pub contribution: f64,
    /// Rates only: w̄ₛ·Δrₛ and the rest.
    pub rate: Option<f64>,
    pub mix: Option<f64>,
    /// The segment's share of the node's volume (rates), of the node itself (summable) or of
    /// its source's rows (other), per period.
    pub share: [f64; 2],
    /// Raw rows of the node's count source in the segment, per period.
    pub count: [f64; 2],
    pub summable: Option<Summable>,
    /// Rates: the segment's rate over the rest of the population's, in the current period.
    pub ratio_to_rest: Option<f64>,
}

impl SegmentChange {
    /// The larger of the two period shares (a-priori support).
    pub fn support(&self) -> f64 {
        self.share[0].max(self.share[1])
    }
}

/// What is fixed for one node while its segments are analysed.
pub struct NodeContext<'a> {
    pub graph: &'a MetricGraph,
    pub node: usize,
    pub kind: NodeKind,
    /// (leaf, M(ℓ)) for the leaves under the node.
    pub multipliers: Vec<(usize, f64)>,
    /// The source whose rows count a segment's size.
    pub count_source: usize,
    /// The whole population, baseline and current.
    pub totals: [&'a Cell; 2],
}

impl NodeContext<'_> {
    /// Analyses one segment from its cells (`None`: the segment has no rows in that period).
    pub fn segment(&self, cells: [Option<&Cell>; 2]) -> SegmentChange {
        let leaf = |c: Option<&Cell>, l: usize| c.and_then(|c| c.values[l].value).unwrap_or(0.0);
        let value = |c: Option<&Cell>, n: usize| c.and_then(|c| c.values[n].value);
        let contribution: f64 = self
            .multipliers
            .iter()
            .map(|&(l, m)| m * (leaf(cells[1], l) - leaf(cells[0], l)))
            .sum();
        let baseline = value(cells[0], self.node);
        let current = value(cells[1], self.node);
        let rows = |s: usize| cells[s].map_or(0.0, |c| c.rows[self.count_source]);
        let count = [rows(0), rows(1)];
        let share_of =
            |n: usize, s: usize| match (value(cells[s], n), self.totals[s].values[n].value) {
                (Some(a), Some(b)) if b != 0.0 => a / b,
                _ => 0.0,
            };
        let mut out = SegmentChange {
            baseline,
            current,
            contribution,
            rate: None,
            mix: None,
            share: [0.0; 2],
            count,
            summable: None,
            ratio_to_rest: None,
        };
        match self.kind {
            NodeKind::Rate { volume } => {
                out.share = [share_of(volume, 0), share_of(volume, 1)];
                let rate = match (baseline, current) {
                    (Some(r0), Some(r1)) if count[0] > 0.0 && count[1] > 0.0 => {
                        0.5 * (out.share[0] + out.share[1]) * (r1 - r0)
                    }
                    _ => 0.0,
                };
                out.rate = Some(rate);
                out.mix = Some(contribution - rate);
                out.ratio_to_rest = self.ratio_to_rest(cells[1]);
            }
            NodeKind::Summable => {
                out.share = [share_of(self.node, 0), share_of(self.node, 1)];
                let m_c = baseline.unwrap_or(0.0);
                let m_t = current.unwrap_or(0.0);
                let big_c = self.totals[0].values[self.node].value.unwrap_or(0.0);
                let big_t = self.totals[1].values[self.node].value.unwrap_or(0.0);
                let ratio = |a: f64, b: f64| (b != 0.0).then(|| a / b);
                let expected = ratio(m_c * (big_t - m_t), big_c - m_c);
                let unexpected = expected.map(|e| m_t - e);
                out.summable = Some(Summable {
                    difference: m_t - m_c,
                    relative_difference: ratio(m_t - m_c, m_c),
                    unexpected_difference: unexpected,
                    relative_unexpected_difference: unexpected
                        .zip(expected)
                        .and_then(|(u, e)| ratio(u, e)),
                    apriori_support: match (ratio(m_t, big_t), ratio(m_c, big_c)) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    },
                });
            }
            NodeKind::Other => {
                let total = |s: usize| self.totals[s].rows[self.count_source];
                let share = |s: usize| {
                    if total(s) > 0.0 {
                        count[s] / total(s)
                    } else {
                        0.0
                    }
                };
                out.share = [share(0), share(1)];
            }
        }
        out
    }

    /// The node's value in the segment over its value in the rest of the population.
    fn ratio_to_rest(&self, cell: Option<&Cell>) -> Option<f64> {
        let cell = cell?;
        let total = self.totals[1];
        let mut rest: Vec<NodeValue> = total.values.clone();
        for &(l, _) in &self.multipliers {
            if let (Some(t), Some(s)) = (total.values[l].value, cell.values[l].value) {
                rest[l].value = Some(t - s);
            }
        }
        eval_formulas(self.graph, &mut rest);
        let r = rest[self.node].value?;
        let s = cell.values[self.node].value?;
        (r != 0.0).then(|| s / r)
    }
}
