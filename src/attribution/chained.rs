//! The split by chaining node-local average gradients from the root down.
//!
//! With mᵢ from [`super::local::multipliers_guarded`]: M(root) = 1,
//! M(i) = Σ_parents M(p)·m(p,i), C(i) = M(i)·Δxᵢ, flow(p→i) = M(p)·m(p,i)·Δxᵢ. Where every
//! nonlinear node sees straight-line inputs and only sums above it ([`super::closed_form`]),
//! this *is* the Aumann–Shapley split along the straight line in leaf space, in closed form;
//! otherwise it depends on how the formulas are written, and is used only when a node asks for
//! its own method (`method: shapley`) or the straight line passes where the tree is undefined.

use super::local::{self, LocalError};
use super::{InputShare, NodeAttribution, Side, Undefined};
use crate::graph::{Def, MetricGraph};

/// The chained split of the nodes in `order` (the root's subtree, root first) between the
/// node values `v0` and `v1`.
pub(super) fn chain(
    graph: &MetricGraph,
    order: &[usize],
    v0: &[f64],
    v1: &[f64],
) -> Result<Vec<NodeAttribution>, Undefined> {
    let mut mult = vec![0.0; graph.nodes.len()];
    mult[order[0]] = 1.0;
    let mut out = Vec::with_capacity(order.len());
    for &i in order {
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
                let a: Vec<f64> = inputs.iter().map(|&j| v0[j]).collect();
                let b: Vec<f64> = inputs.iter().map(|&j| v1[j]).collect();
                let grads =
                    local::multipliers_guarded(expr, shape, node.method, node.on_zero, &a, &b)
                        .map_err(|LocalError| Undefined {
                            node: i,
                            side: Side::Path,
                        })?;
                let shares = inputs
                    .iter()
                    .zip(&grads)
                    .map(|(&j, &g)| {
                        let dx = v1[j] - v0[j];
                        mult[j] += m_i * g;
                        InputShare {
                            node: j,
                            gradient: g,
                            contribution: g * dx,
                            contribution_to_root: m_i * g * dx,
                        }
                    })
                    .collect();
                (local::method_name(shape, node.method, inputs.len()), shares)
            }
        };
        let delta = v1[i] - v0[i];
        out.push(NodeAttribution {
            node: i,
            baseline: v0[i],
            current: v1[i],
            delta,
            multiplier: m_i,
            contribution: m_i * delta,
            method,
            inputs,
        });
    }
    Ok(out)
}
