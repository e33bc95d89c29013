//! Exact attribution of a node's change between two periods, through the whole graph.
//!
//! Input: the graph and every node's value in the baseline and the current period. Output:
//! per node its change, its contribution to the explained node ("root"), and per input the
//! node-local share and the flow along the edge. With mᵢ from [`local::multipliers`]:
//! M(root) = 1, M(i) = Σ_parents M(p)·m(p,i), C(i) = M(i)·Δxᵢ, flow(p→i) = M(p)·m(p,i)·Δxᵢ.
//! Then C(root) = Δroot, the flows into a node's inputs sum to C(node), and the leaves'
//! contributions sum to Δroot. Nothing divides by a node's change. Pure maths, no IO.
//! See `docs/attribution.md`.

pub mod insights;
pub mod local;
pub mod segments;

use crate::graph::{Def, MetricGraph};

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

#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub root: usize,
    /// The root's subtree in topological order (root first).
    pub nodes: Vec<NodeAttribution>,
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
    let v0 = |i: usize| x0[i].unwrap_or(0.0);
    let v1 = |i: usize| x1[i].unwrap_or(0.0);
    let mut mult = vec![0.0; graph.nodes.len()];
    mult[root] = 1.0;
    let mut out = Vec::with_capacity(order.len());
    for &i in &order {
        let node = &graph.nodes[i];
        let m_i = mult[i];
        let (method, inputs) = match &node.def {
            Def::Measure(_) => ("leaf", Vec::new()),
            Def::Formula {
                expr,
                inputs,
                shape,
                ..
            } => {
                let a: Vec<f64> = inputs.iter().map(|&j| v0(j)).collect();
                let b: Vec<f64> = inputs.iter().map(|&j| v1(j)).collect();
                let grads =
                    local::multipliers_guarded(expr, shape, node.method, node.on_zero, &a, &b);
                let shares = inputs
                    .iter()
                    .zip(&grads)
                    .map(|(&j, &g)| {
                        let dx = v1(j) - v0(j);
                        mult[j] += m_i * g;
                        InputShare {
                            node: j,
                            gradient: g,
                            contribution: g * dx,
                            contribution_to_root: m_i * g * dx,
                        }
                    })
                    .collect();
                (local::method_name(shape, node.method), shares)
            }
        };
        let delta = v1(i) - v0(i);
        out.push(NodeAttribution {
            node: i,
            baseline: v0(i),
            current: v1(i),
            delta,
            multiplier: m_i,
            contribution: m_i * delta,
            method,
            inputs,
        });
    }
    Ok(Attribution { root, nodes: out })
}
