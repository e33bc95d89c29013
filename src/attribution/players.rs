//! The split over players: groups of leaves that carry one factor each (`players:`), moved
//! together. This is Das Gupta's multi-factor standardization: Shapley over the groups, each
//! group taking all of its leaves from the baseline or all from the current period.
//!
//! Input: the graph, the explained node, both periods' node values. Output: per player its
//! effect; the effects add up to the node's change exactly (Shapley is efficient). Leaves
//! under the node in no group play alone. Pure maths, no IO.

use super::local::shapley_weight;
use crate::eval::{NodeValue, Status, eval_formulas};
use crate::graph::MetricGraph;

/// One player's share of the explained node's change.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlayerEffect {
    /// The group's name, or the leaf's id for a leaf in no group.
    pub name: String,
    /// Its leaves under the explained node.
    pub leaves: Vec<usize>,
    pub effect: f64,
}

/// The players' effects on `root`'s change, or `None` when the tree declares no players.
/// `Err` names the node that is not finite at a point mixing the two periods.
pub fn effects(
    graph: &MetricGraph,
    root: usize,
    v0: &[f64],
    v1: &[f64],
) -> Option<Result<Vec<PlayerEffect>, usize>> {
    if graph.players.is_empty() {
        return None;
    }
    let order = graph.subtree(root);
    let under = |i: usize| order.contains(&i);
    let mut players: Vec<PlayerEffect> = graph
        .players
        .iter()
        .map(|p| PlayerEffect {
            name: p.name.clone(),
            leaves: p.leaves.iter().copied().filter(|&l| under(l)).collect(),
            effect: 0.0,
        })
        .filter(|p| !p.leaves.is_empty())
        .collect();
    let grouped: Vec<usize> = graph
        .players
        .iter()
        .flat_map(|p| p.leaves.clone())
        .collect();
    for &i in order.iter().rev() {
        if graph.nodes[i].is_leaf() && !grouped.contains(&i) {
            players.push(PlayerEffect {
                name: graph.nodes[i].id.clone(),
                leaves: vec![i],
                effect: 0.0,
            });
        }
    }
    let k = players.len();
    let mut values = Vec::with_capacity(1 << k);
    let mut x = v0.to_vec();
    for mask in 0..1usize << k {
        for (b, p) in players.iter().enumerate() {
            let from = if mask & (1 << b) != 0 { v1 } else { v0 };
            for &l in &p.leaves {
                x[l] = from[l];
            }
        }
        match evaluate(graph, root, &x) {
            Ok(v) => values.push(v),
            Err(node) => return Some(Err(node)),
        }
    }
    for (b, p) in players.iter_mut().enumerate() {
        let bit = 1 << b;
        p.effect = (0..1usize << k)
            .filter(|m| m & bit == 0)
            .map(|m| shapley_weight(k, m.count_ones() as usize) * (values[m | bit] - values[m]))
            .sum();
    }
    Some(Ok(players))
}

/// The value of `root` with the leaves in `x`, by the evaluator `eval` uses (a division by
/// zero becomes the node's `on_zero`). `Err` names the node where it became undefined.
fn evaluate(graph: &MetricGraph, root: usize, x: &[f64]) -> Result<f64, usize> {
    let mut values: Vec<NodeValue> = x
        .iter()
        .map(|&v| NodeValue {
            value: Some(v),
            status: Status::Ok,
            cause: None,
        })
        .collect();
    eval_formulas(graph, &mut values);
    let r = &values[root];
    r.value.ok_or(r.cause.unwrap_or(root))
}
