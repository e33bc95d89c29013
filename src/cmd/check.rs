//! `metrictree check TREE`: every problem, with place and fix; exit 0 only when valid.

use std::path::Path;

use super::{Failure, Outcome};
use crate::diag::Report;
use crate::engine::{Engine, check_measures};
use crate::report::style::Styles;

pub fn run(path: &Path, data_dir: Option<&Path>, no_data: bool) -> Outcome {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::runtime(format!("cannot read tree file `{}`: {e}", path.display()))
    })?;
    let mut report = Report::new(path, &text);
    let (spec, diags) = crate::spec::parse(path, &text);
    report.extend(diags);
    let mut summary = None;
    if let Some(spec) = spec {
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
            if !no_data {
                let (engine, diags): (Engine, _) = Engine::open(&g, data_dir);
                report.extend(diags);
                report.extend(check_measures(&engine, &g));
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
            path.display()
        )));
    }
    eprint!("{rendered}");
    Ok(format!(
        "ok: {} is valid{} ({} warning(s)){}\n",
        path.display(),
        if no_data { " (data not checked)" } else { "" },
        report.warnings(),
        summary.map(|s| format!("\n    {s}")).unwrap_or_default()
    ))
}
