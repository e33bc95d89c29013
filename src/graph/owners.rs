//! Owner resolution: a node without an owner inherits its parent's when it has exactly one
//! parent (transitively); otherwise it falls back to the root's owner, with a warning, since
//! nobody chose that. The root itself must name an owner.

use super::MetricGraph;
use crate::diag::Diagnostic;

pub(super) fn resolve(g: &mut MetricGraph) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let root = g.root;
    if g.nodes[root].owner.is_empty() {
        diags.push(
            Diagnostic::error(
                "E020",
                format!("the root `{}` has no owner", g.nodes[root].id),
            )
            .at(g.nodes[root].pos)
            .help("add `owner:` with a team from `owners:`; nodes without an owner inherit it"),
        );
        return diags;
    }
    let order = g.order.clone();
    let single_owner = g.spec.owners.len() <= 1;
    let mut fallen: Vec<usize> = Vec::new();
    for i in order {
        if !g.nodes[i].owner_inherited || i == root {
            continue;
        }
        let parents = g.parents(i);
        if let [p] = parents.as_slice() {
            g.nodes[i].owner = g.nodes[*p].owner.clone();
        } else {
            g.nodes[i].owner = g.nodes[root].owner.clone();
            if single_owner {
                // With one owner in the tree, falling back to it changes nothing: said once.
                fallen.push(i);
                continue;
            }
            let why = if parents.is_empty() {
                "it has no parent".to_string()
            } else {
                let names: Vec<&str> = parents.iter().map(|&p| g.nodes[p].id.as_str()).collect();
                format!("it has {} parents ({})", parents.len(), names.join(", "))
            };
            diags.push(
                Diagnostic::warning(
                    "W001",
                    format!("node `{}` falls back to the root's owner", g.nodes[i].id),
                )
                .at(g.nodes[i].pos)
                .note(format!("{why}, so it cannot inherit one parent's owner"))
                .help(format!(
                    "add `owner:` to `{}` to say who acts on it",
                    g.nodes[i].id
                )),
            );
        }
    }
    if !fallen.is_empty() {
        let mut ids: Vec<&str> = fallen.iter().map(|&i| g.nodes[i].id.as_str()).collect();
        ids.sort_unstable();
        let shown = if ids.len() > 10 {
            format!("{}, ... ({} in all)", ids[..10].join(", "), ids.len())
        } else {
            ids.join(", ")
        };
        diags.push(
            Diagnostic::warning(
                "W001",
                format!(
                    "{} node(s) without a single parent fall back to the root's owner `{}`, the tree's only owner",
                    fallen.len(),
                    g.nodes[root].owner
                ),
            )
            .at(g.nodes[root].pos)
            .note(format!("they are: {shown}"))
            .help("declare more owners (`owners:`) and give these nodes `owner:` when other teams act on them"),
        );
    }
    diags
}
