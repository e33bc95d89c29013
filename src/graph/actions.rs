//! Resolves a tree's actions against its graph: the node each one should move exists and can
//! be compared across periods (its leaves are counts, sums or means, which pool), the owner
//! exists, and every dimension of its segment is declared and splits the node.
//!
//! Kept apart from `build` because an actions file is a file of its own: its diagnostics
//! point into it, not into the tree.

use chrono::NaiveDate;

use super::{Def, MetricGraph};
use crate::diag::{Diagnostic, did_you_mean};
use crate::spec::actions::{ActionSpec, Expect};
use crate::spec::model::Agg;

/// An action whose names resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub id: String,
    pub node: usize,
    /// Who shipped it: the owner named, or the node's owner.
    pub owner: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub expect: Expect,
    pub size: Option<f64>,
    /// `dimension = value` parts in the tree's dimension order; empty: everyone.
    pub segment: Vec<(String, String)>,
    pub description: Option<String>,
    pub link: Option<String>,
}

/// Every action that resolves, and a diagnostic for each problem.
pub fn resolve(g: &MetricGraph, specs: &[ActionSpec]) -> (Vec<Action>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = Vec::new();
    let owner_ids = || g.spec.owners.iter().map(|o| o.id.as_str());
    let dim_ids = || g.spec.dimensions.iter().map(|d| d.id.as_str());
    for a in specs {
        let ctx = format!("action `{}`", a.id.value);
        let Some(node) = g.index(&a.node.value) else {
            diags.push(
                Diagnostic::error(
                    "E049",
                    format!("{ctx} names unknown node `{}`", a.node.value),
                )
                .at(a.node.pos)
                .help(did_you_mean(
                    &a.node.value,
                    g.nodes.iter().map(|n| n.id.as_str()),
                    "nodes",
                )),
            );
            continue;
        };
        let mut ok = true;
        if let Some(l) = g.subtree(node).into_iter().find(|&l| {
            matches!(&g.nodes[l].def, Def::Measure(m) if !matches!(m.agg, Agg::Count | Agg::Sum | Agg::Mean))
        }) {
            diags.push(
                Diagnostic::error(
                    "E049",
                    format!(
                        "{ctx}: `{}` cannot be pooled over periods or split into a control group (its leaf `{}` is not a count, sum or mean)",
                        a.node.value, g.nodes[l].id
                    ),
                )
                .at(a.node.pos)
                .help("point the action at a node built from counts, sums or means, e.g. a rate of two counts"),
            );
            ok = false;
        }
        let owner = match &a.owner {
            Some(o) if !owner_ids().any(|x| x == o.value) => {
                diags.push(
                    Diagnostic::error("E049", format!("{ctx} names unknown owner `{}`", o.value))
                        .at(o.pos)
                        .help(did_you_mean(&o.value, owner_ids(), "owners")),
                );
                ok = false;
                String::new()
            }
            Some(o) => o.value.clone(),
            None => g.nodes[node].owner.clone(),
        };
        let mut segment = Vec::new();
        for (d, v) in &a.segment {
            if !dim_ids().any(|x| x == d.value) {
                diags.push(
                    Diagnostic::error("E049", format!("{ctx}: unknown dimension `{}`", d.value))
                        .at(d.pos)
                        .help(did_you_mean(&d.value, dim_ids(), "dimensions")),
                );
                ok = false;
            } else if !g.splittable[node].contains(&d.value) {
                diags.push(
                    Diagnostic::error(
                        "E049",
                        format!("{ctx}: `{}` cannot be split by `{}`", a.node.value, d.value),
                    )
                    .at(d.pos)
                    .help("not every leaf under the node maps that dimension; map it under `dimensions:` of their sources, or leave the segment out"),
                );
                ok = false;
            } else if segment
                .iter()
                .any(|(x, _): &(String, String)| *x == d.value)
            {
                ok = false;
            } else {
                segment.push((d.value.clone(), v.clone()));
            }
        }
        // The tree's dimension order: one spelling per segment.
        let order = |d: &str| dim_ids().position(|x| x == d).unwrap_or(usize::MAX);
        segment.sort_by_key(|(d, _)| order(d));
        if ok {
            out.push(Action {
                id: a.id.value.clone(),
                node,
                owner,
                start: a.start,
                end: a.end,
                expect: a.expect,
                size: a.size,
                segment,
                description: a.description.clone(),
                link: a.link.clone(),
            });
        }
    }
    (out, diags)
}
