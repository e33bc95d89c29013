//! The Aumann–Shapley split along the straight line in leaf space, integrated numerically.
//!
//! The leaves move on the line x(t) = x⁰ + t·Δx, t ∈ [0, 1]; every other node follows as
//! its formula of its inputs. At each point t the exact local gradients gₚᵢ = ∂p/∂i come from
//! dual numbers, a node's speed from the chain rule (dp/dt = Σᵢ gₚᵢ·di/dt, leaves: Δx), and
//! its sensitivity from the root down (M_t(root) = 1, M_t(i) = Σₚ M_t(p)·gₚᵢ). Integrated over
//! t by [`super::quadrature`]:
//!
//! - input i's share of p's change: ∫ gₚᵢ·di/dt dt (they sum to Δp: the chain rule);
//! - the flow p → i: ∫ M_t(p)·gₚᵢ·di/dt dt (they sum to C(p));
//! - C(i) = ∫ M_t(i)·di/dt dt, and for a leaf C(i) = Δxᵢ·∫ M_t(i) dt.
//!
//! Only the root as a function of the leaves enters, so any rewrite of the formulas gives
//! the same leaf contributions. Pure maths, no IO.

use super::quadrature::integrate;
use super::{InputShare, NodeAttribution};
use crate::graph::{Def, MetricGraph};
use crate::spec::formula::Shape;

/// Integration tolerance, relative to the integrands' size.
const REL_TOL: f64 = 1e-14;

/// The split of the nodes in `order` (the root's subtree, root first) between the node
/// values `v0` and `v1`, with the largest relative residual; `None` where a formula is not
/// finite somewhere on the line (it divides by zero there).
pub(super) fn along_line(
    graph: &MetricGraph,
    order: &[usize],
    v0: &[f64],
    v1: &[f64],
) -> Option<(Vec<NodeAttribution>, f64)> {
    let n = order.len();
    let mut pos = vec![usize::MAX; graph.nodes.len()];
    for (a, &i) in order.iter().enumerate() {
        pos[i] = a;
    }
    // Layout of the integrand: per node C and M; per formula input: share, flow, gradient.
    let mut offset = vec![0; n];
    let mut len = 2 * n;
    for (a, &i) in order.iter().enumerate() {
        offset[a] = len;
        len += 3 * graph.nodes[i].inputs().len();
    }
    let mut val = vec![0.0; n];
    let mut speed = vec![0.0; n];
    let mut sens = vec![0.0; n];
    // The same sums over absolute terms: the scale their rounding is relative to, where
    // terms cancel (a node that does not move, a leaf the root does not depend on).
    let mut speed_abs = vec![0.0; n];
    let mut sens_abs = vec![0.0; n];
    // gradient of node a with respect to its input k, at offset[a] + k.
    let mut grad = vec![0.0; len];
    let mut xin: Vec<f64> = Vec::new();
    let integral = integrate(
        &mut |t, out, mag| {
            for a in (0..n).rev() {
                let i = order[a];
                match &graph.nodes[i].def {
                    Def::Measure(_) => {
                        let d = v1[i] - v0[i];
                        val[a] = v0[i] + t * d;
                        speed[a] = d;
                        speed_abs[a] = d.abs();
                    }
                    Def::Formula { expr, inputs, .. } => {
                        xin.clear();
                        xin.extend(inputs.iter().map(|&j| val[pos[j]]));
                        val[a] = expr.eval(&xin);
                        let (mut s, mut s_abs) = (0.0, 0.0);
                        for (k, &j) in inputs.iter().enumerate() {
                            let g = expr.eval_dual(&xin, k).d;
                            grad[offset[a] + k] = g;
                            s += g * speed[pos[j]];
                            s_abs += g.abs() * speed_abs[pos[j]];
                        }
                        speed[a] = s;
                        speed_abs[a] = s_abs;
                    }
                }
                if !val[a].is_finite() {
                    return false;
                }
            }
            sens.iter_mut().for_each(|m| *m = 0.0);
            sens_abs.iter_mut().for_each(|m| *m = 0.0);
            sens[0] = 1.0;
            sens_abs[0] = 1.0;
            for a in 0..n {
                for (k, &j) in graph.nodes[order[a]].inputs().iter().enumerate() {
                    let b = pos[j];
                    let g = grad[offset[a] + k];
                    sens[b] += sens[a] * g;
                    sens_abs[b] += sens_abs[a] * g.abs();
                    let o = offset[a] + 3 * k;
                    out[o] = g * speed[b];
                    out[o + 1] = sens[a] * g * speed[b];
                    out[o + 2] = g;
                    mag[o] = g.abs() * speed_abs[b];
                    mag[o + 1] = sens_abs[a] * g.abs() * speed_abs[b];
                    mag[o + 2] = g.abs();
                }
                out[a] = sens[a] * speed[a];
                out[n + a] = sens[a];
                mag[a] = sens_abs[a] * speed_abs[a];
                mag[n + a] = sens_abs[a];
            }
            true
        },
        len,
        REL_TOL,
    )
    .ok()?;
    let q = &integral.values;
    let qm = &integral.magnitudes;
    let mut residual: f64 = 0.0;
    // The gap between a change and the sum of its parts, relative to the parts' size before
    // any cancellation (`scale`: their integrated magnitudes, plus a millionth of the node's
    // values, below which a gap is the rounding of a formula that cancels inside itself).
    let mut gap = |delta: f64, parts: &mut dyn Iterator<Item = f64>, scale: f64| {
        let (mut sum, mut size) = (0.0, delta.abs() + scale);
        for p in parts {
            sum += p;
            size += p.abs();
        }
        if size > 0.0 {
            residual = residual.max((delta - sum).abs() / size);
        }
    };
    let mut nodes = Vec::with_capacity(n);
    for (a, &i) in order.iter().enumerate() {
        let node = &graph.nodes[i];
        let delta = v1[i] - v0[i];
        let multiplier = q[n + a];
        let (method, contribution, inputs) = match &node.def {
            Def::Measure(_) => ("leaf", multiplier * delta, Vec::new()),
            Def::Formula { inputs, shape, .. } => {
                let shares: Vec<InputShare> = inputs
                    .iter()
                    .enumerate()
                    .map(|(k, &j)| {
                        let o = offset[a] + 3 * k;
                        InputShare {
                            node: j,
                            gradient: q[o + 2],
                            contribution: q[o],
                            contribution_to_root: q[o + 1],
                        }
                    })
                    .collect();
                let scale: f64 = (0..inputs.len())
                    .map(|k| qm[offset[a] + 3 * k])
                    .sum::<f64>()
                    + 1e-6 * (v0[i].abs() + v1[i].abs());
                gap(delta, &mut shares.iter().map(|s| s.contribution), scale);
                let method = match shape {
                    Shape::Linear { .. } => "sum",
                    _ => "aumann_shapley",
                };
                (method, q[a], shares)
            }
        };
        nodes.push(NodeAttribution {
            node: i,
            baseline: v0[i],
            current: v1[i],
            delta,
            multiplier,
            contribution,
            method,
            inputs,
        });
    }
    let leaves: Vec<usize> = (0..n)
        .filter(|&a| graph.nodes[order[a]].is_leaf())
        .collect();
    let root = order[0];
    let scale: f64 =
        leaves.iter().map(|&a| qm[a]).sum::<f64>() + 1e-6 * (v0[root].abs() + v1[root].abs());
    gap(
        nodes[0].delta,
        &mut leaves.iter().map(|&a| nodes[a].contribution),
        scale,
    );
    Some((nodes, residual))
}
