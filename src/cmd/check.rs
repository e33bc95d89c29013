//! `metrictree check TREE`: every problem, with place and fix; exit 0 only when valid.

use super::{Failure, Outcome};
use crate::cli::TreeArgs;
use crate::diag::Report;
use crate::engine::{Engine, check_measures, check_pushdown};
use crate::report::style::Styles;

pub fn run(tree: &TreeArgs, no_data: bool) -> Outcome {
    let path = tree.tree.as_path();
    let shown = crate::text::escape(&path.display().to_string()).into_owned();
    let text = super::read_tree(path)?;
    let mut report = Report::new(path, &text);
    let (spec, diags) = crate::spec::parse(path, &text);
    report.extend(diags);
    let mut summary = None;
    if let Some(mut spec) = spec {
        if let Some(env) = &tree.postgres_env {
            spec.files_from_postgres(env);
        }
        let (graph, diags) = crate::graph::build(spec);
        report.extend(diags);
        if let Some(g) = graph {
            let leaves = g.nodes.iter().filter(|n| n.is_leaf()).count();
            summary = Some(format!(
                "{} nodes ({} measures, {} formulas), {} sources, {} owners, root `{}`",
                g.nodes.len(),
                leaves,
                g.nodes.len() - leaves,
                g.spec.sources.len(),
                g.spec.owners.len(),
                g.nodes[g.root].id
            ));
            // The data is only opened for a tree without errors: no cascade of engine errors
            // from a mistake already reported.
            if !no_data && !report.has_errors() {
                let (engine, diags): (Engine, _) = Engine::open(&g, &tree.access());
                report.extend(diags);
                let measures = check_measures(&engine, &g);
                // The database's own plan is only worth asking for once the tree plans.
                if !measures.iter().any(|d| d.is_error()) {
                    report.extend(check_pushdown(&engine, &g));
                }
                report.extend(measures);
            }
        }
    }
    report.sort();
    let st = Styles::for_stderr();
    let rendered = report.render(st.enabled());
    if report.has_errors() {
        return Err(Failure::invalid(format!(
            "{rendered}error: {} error(s), {} warning(s) in {}",
            report.errors(),
            report.warnings(),
            shown
        )));
    }
    eprint!("{rendered}");
    Ok(format!(
        "ok: {} is valid{} ({} warning(s)){}\n",
        shown,
        if no_data { " (data not checked)" } else { "" },
        report.warnings(),
        summary.map(|s| format!("\n    {s}")).unwrap_or_default()
    ))
}
