//! Exact attribution of a node's change between two periods, through the whole graph.
//!
//! Input: the graph and every node's value in the baseline and the current period. Output:
//! per node its change, its contribution to the explained node ("root"), and per input the
//! node-local share and the flow along the edge.
//!
//! The default is the Aumann–Shapley split along the straight line from the baseline to the
//! current leaves: C(i) = ∫₀¹ M_t(i)·dxᵢ(t), where M_t(i) = ∂root/∂xᵢ at the point t of the
//! line. It depends only on the root as a function of the leaves, not on how the formulas
//! are written. Where every nonlinear node sees straight-line inputs and only sums above it,
//! the chained closed forms of [`chained`] compute it exactly ([`Split::ClosedForm`]);
//! otherwise [`path`] integrates it numerically and reports the residual ([`Split::Path`]).
//! A node with `method: shapley` asks for node-local splits, chained ([`Split::Local`]).
//! Always: C(root) = Δroot, the flows into a node's inputs sum to C(node), every node's input
//! shares sum to its change, and the leaves' contributions sum to Δroot (to rounding, or to
//! the reported residual). Pure maths, no IO. See `docs/attribution.md`.

mod chained;
pub mod insights;
pub mod local;
mod path;
pub mod players;
pub mod quadrature;
pub mod segments;

use crate::graph::{Def, MetricGraph};
use crate::spec::formula::Shape;
use crate::spec::model::Method;

/// One input's share of its parent's change.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputShare {
    pub node: usize,
    /// Average gradient m(parent, input).
    pub gradient: f64,
    /// Its share of the parent's change: m·Δx.
    pub contribution: f64,
    /// The flow along the edge to the root: M(parent)·m·Δx.
    pub contribution_to_root: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeAttribution {
    pub node: usize,
    pub baseline: f64,
    pub current: f64,
    pub delta: f64,
    /// M(node): how much one unit of this node moves the root.
    pub multiplier: f64,
    /// C(node) = M·Δx.
    pub contribution: f64,
    pub method: &'static str,
    pub inputs: Vec<InputShare>,
}

/// How a split was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Aumann–Shapley along the straight line in leaf space, every node in closed form.
    ClosedForm,
    /// The same, integrated numerically (Gauss–Legendre) where no closed form exists.
    Path,
    /// Each node's own method, chained: a node asked for `method: shapley` or `lmdi`, or the
    /// straight line passes where a formula divides by zero.
    Local,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub root: usize,
    /// The root's subtree in topological order (root first).
    pub nodes: Vec<NodeAttribution>,
    pub split: Split,
    /// [`Split::Path`] only: the largest gap, relative to the node's change and its shares,
    /// between a node's change and the sum of its inputs' shares (or between the root's change
    /// and the leaves' contributions) that numerical integration left.
    pub residual: Option<f64>,
}

impl Attribution {
    pub fn get(&self, node: usize) -> Option<&NodeAttribution> {
        self.nodes.iter().find(|n| n.node == node)
    }
}

/// Which period an undefined value was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Baseline,
    Current,
    /// Defined in both periods, but a formula divides by zero between them and has too
    /// many inputs for the Shapley fallback.
    Path,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("node {node} is undefined in the {side:?} period")]
pub struct Undefined {
    pub node: usize,
    pub side: Side,
}

/// Attributes the change of `root` between `x0` (baseline) and `x1` (current), where
/// `x0[i]`/`x1[i]` are node values (`None` = undefined).
pub fn attribute(
    graph: &MetricGraph,
    root: usize,
    x0: &[Option<f64>],
    x1: &[Option<f64>],
) -> Result<Attribution, Undefined> {
    let order = graph.subtree(root);
    for &i in &order {
        if x0[i].is_none() {
            return Err(Undefined {
                node: i,
                side: Side::Baseline,
            });
        }
        if x1[i].is_none() {
            return Err(Undefined {
                node: i,
                side: Side::Current,
            });
        }
    }
    let v0: Vec<f64> = x0.iter().map(|v| v.unwrap_or(0.0)).collect();
    let v1: Vec<f64> = x1.iter().map(|v| v.unwrap_or(0.0)).collect();
    let local = order.iter().any(|&i| {
        matches!(graph.nodes[i].method, Method::Shapley | Method::Lmdi) && !graph.nodes[i].is_leaf()
    });
    if !local && closed_form(graph, &order, &v0, &v1) {
        return Ok(Attribution {
            root,
            nodes: chained::chain(graph, &order, &v0, &v1)?,
            split: Split::ClosedForm,
            residual: None,
        });
    }
    // The line must start and end where every formula is finite (not on an `on_zero`
    // substitute), and the integration must close to 1e-9; otherwise the node-local rules
    // (which handle those points exactly) split it.
    if !local
        && finite_ends(graph, &order, &v0, &v1)
        && let Some((nodes, residual)) = path::along_line(graph, &order, &v0, &v1)
        && residual <= MAX_RESIDUAL
    {
        return Ok(Attribution {
            root,
            nodes,
            split: Split::Path,
            residual: Some(residual),
        });
    }
    Ok(Attribution {
        root,
        nodes: chained::chain(graph, &order, &v0, &v1)?,
        split: Split::Local,
        residual: None,
    })
}

/// The largest residual a numerical split may leave before the node-local rules take over.
const MAX_RESIDUAL: f64 = 1e-9;

/// Whether every formula in `order` is finite at both periods' input values.
fn finite_ends(graph: &MetricGraph, order: &[usize], v0: &[f64], v1: &[f64]) -> bool {
    order.iter().all(|&i| match &graph.nodes[i].def {
        Def::Measure(_) => true,
        Def::Formula { expr, inputs, .. } => [v0, v1].iter().all(|v| {
            let x: Vec<f64> = inputs.iter().map(|&j| v[j]).collect();
            expr.eval(&x).is_finite()
        }),
    })
}

/// Whether the chained closed forms equal the Aumann–Shapley split along the straight line
/// in leaf space: every product or ratio sees inputs that move on straight lines (leaves, or
/// sums of them) and has only sums above it, so its sensitivity to the root is constant
/// along the line; other formulas have no closed form here.
fn closed_form(graph: &MetricGraph, order: &[usize], v0: &[f64], v1: &[f64]) -> bool {
    let n = graph.nodes.len();
    let linear = |i: usize| match &graph.nodes[i].def {
        Def::Measure(_) => true,
        Def::Formula { shape, .. } => matches!(shape, Shape::Linear { .. }),
    };
    // straight[i]: node i moves on a straight line (a leaf, or a sum of such nodes).
    let mut straight = vec![false; n];
    for &i in order.iter().rev() {
        straight[i] = linear(i) && graph.nodes[i].inputs().iter().all(|&j| straight[j]);
    }
    // sums_above[i]: every path from the root to i passes only through sums.
    let mut sums_above = vec![false; n];
    let mut reached = vec![false; n];
    sums_above[order[0]] = true;
    reached[order[0]] = true;
    for &p in order {
        for &j in graph.nodes[p].inputs() {
            let via = sums_above[p] && linear(p);
            sums_above[j] = if reached[j] {
                sums_above[j] && via
            } else {
                via
            };
            reached[j] = true;
        }
    }
    order.iter().all(|&p| match &graph.nodes[p].def {
        Def::Measure(_) => true,
        Def::Formula { shape, inputs, .. } => match shape {
            Shape::Linear { .. } => true,
            Shape::Product { .. } => sums_above[p] && inputs.iter().all(|&j| straight[j]),
            Shape::Ratio { den, .. } => {
                let d = inputs[*den];
                sums_above[p]
                    && inputs.iter().all(|&j| straight[j])
                    && local::log_mean(v0[d], v1[d]).is_some()
            }
            Shape::General => false,
        },
    })
}
