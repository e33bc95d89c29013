//! `players:` resolved: factors made of several leaves, which the split moves together.
//!
//! Input: the spec's player groups and the graph's nodes. Output: per group its name and leaf
//! indices, or diagnostics (E050) naming the entry: an unknown node, a node that is not a
//! leaf, a leaf in two groups, an empty group, or more players under the root than Shapley
//! over groups handles.

use crate::diag::{Diagnostic, did_you_mean};
use crate::graph::MetricGraph;

/// The most players (groups, plus leaves under the root in no group) Shapley over groups
/// evaluates the tree for (2ⁿ corners).
pub const MAX_PLAYERS: usize = 12;

/// A factor and the leaves that carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct Players {
    pub name: String,
    pub leaves: Vec<usize>,
}

/// Resolves `g.spec.players` into `g.players`.
pub fn resolve(g: &mut MetricGraph) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut groups = Vec::new();
    let mut owner_of: Vec<Option<&str>> = vec![None; g.nodes.len()];
    for group in &g.spec.players {
        let name = group.name.value.as_str();
        if group.leaves.is_empty() {
            diags.push(
                Diagnostic::error("E050", format!("player `{name}` has no leaves"))
                    .at(group.name.pos)
                    .help(format!("list the leaves that carry `{name}`, e.g. `{name}: [{name}_1, {name}_2]`, or remove it")),
            );
            continue;
        }
        let mut leaves = Vec::new();
        for l in &group.leaves {
            let Some(i) = g.index(&l.value) else {
                diags.push(
                    Diagnostic::error(
                        "E050",
                        format!("unknown node `{}` in player `{name}`", l.value),
                    )
                    .at(l.pos)
                    .help(did_you_mean(
                        &l.value,
                        g.nodes.iter().map(|n| n.id.as_str()),
                        "nodes",
                    )),
                );
                continue;
            };
            if !g.nodes[i].is_leaf() {
                diags.push(
                    Diagnostic::error("E050", format!("`{}` in player `{name}` is a formula, not a leaf", l.value))
                        .at(l.pos)
                        .help("a player groups leaves (measures); list the leaves under this formula instead"),
                );
                continue;
            }
            if let Some(other) = owner_of[i] {
                diags.push(
                    Diagnostic::error(
                        "E050",
                        format!("leaf `{}` is in players `{other}` and `{name}`", l.value),
                    )
                    .at(l.pos)
                    .help("a leaf carries one factor; remove it from one of the two"),
                );
                continue;
            }
            owner_of[i] = Some(name);
            leaves.push(i);
        }
        groups.push(Players {
            name: name.to_string(),
            leaves,
        });
    }
    if !groups.is_empty() {
        let loose = g
            .subtree(g.root)
            .into_iter()
            .filter(|&i| g.nodes[i].is_leaf() && owner_of[i].is_none())
            .count();
        if groups.len() + loose > MAX_PLAYERS {
            let pos = g.spec.players[0].name.pos;
            diags.push(
                Diagnostic::error(
                    "E050",
                    format!(
                        "{} players and {loose} leaves in no player make {} players under the root",
                        groups.len(),
                        groups.len() + loose
                    ),
                )
                .at(pos)
                .help(format!("the split over players evaluates the tree at 2ⁿ points and takes at most {MAX_PLAYERS}; put the other leaves into players")),
            );
        }
    }
    g.players = groups;
    diags
}
