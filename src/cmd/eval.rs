//! `metrictree eval TREE [--period P] [--by DIM]`: node values for one period.

use super::{
    Failure, Outcome, known_dimension, load_tree, open_engine, print_warnings, resolve_period,
};
use crate::cli::{Format, TreeArgs};
use crate::report::style::Styles;

pub fn run(tree: &TreeArgs, period: Option<&str>, by: Option<&str>, format: Format) -> Outcome {
    let (g, report) = load_tree(tree)?;
    if let Some(d) = by {
        known_dimension(&g, d)?;
        if !g.splittable[g.root].contains(d) {
            eprintln!(
                "warning: the root `{}` cannot be split by `{d}` (not every leaf maps it); nodes that can are shown per segment",
                g.nodes[g.root].id
            );
        }
    }
    let engine = open_engine(&g, &report, &tree.access())?;
    let (p, _, complete) = resolve_period(&g, &report, &engine, period)?;
    let dims: Vec<String> = by.map(|d| vec![d.to_string()]).unwrap_or_default();
    let fail = |e: crate::eval::EvalError| Failure::runtime(e.to_string());
    let data = crate::eval::Dataset::load(&g, &engine, &[p], &dims).map_err(fail)?;
    let sets: Vec<Vec<String>> = dims.iter().map(|d| vec![d.clone()]).collect();
    let e = data.aggregate(&[vec![0]], &sets, &[]).map_err(fail)?;
    let all: Vec<usize> = (0..g.nodes.len()).collect();
    let coverage = data.coverage(&[vec![0]], &all).map_err(fail)?;
    let labels = [p.label()];
    print_warnings(
        &report,
        crate::report::coverage::warnings(&g, &coverage, &labels),
    );
    Ok(match format {
        Format::Json => {
            let mut j = crate::report::eval::json(&g, &e, complete, by);
            j.transfer_causes = crate::report::coverage::json(&g, &coverage, &labels);
            crate::text::json_safe(serde_json::to_string_pretty(&j).map_err(anyhow::Error::from)?)
                + "\n"
        }
        Format::Text => {
            let st = Styles::for_stdout();
            format!(
                "{}{}{}  {} ({})\n\n{}{}",
                st.bold,
                g.spec.title.clone().unwrap_or_else(|| g.spec.name.clone()),
                st.reset,
                p.label(),
                if complete { "complete" } else { "partial" },
                crate::report::eval::text(&g, &e, by, &st),
                crate::report::coverage::text(&g, &coverage, &labels, &st)
            )
        }
    })
}
