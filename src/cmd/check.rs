//! `metrictree check TREE`: every problem, with place and fix; exit 0 only when valid.

use super::{Outcome, source};
use crate::cli::TreeArgs;
use crate::error::Error;
use crate::report::style::Styles;

pub fn run(tree: &TreeArgs, no_data: bool) -> Outcome {
    let checked = crate::session::check(&source(tree), no_data)?;
    let report = &checked.report;
    let shown = crate::text::escape(&tree.tree.display().to_string()).into_owned();
    let rendered = report.render(Styles::for_stderr().enabled());
    if report.has_errors() {
        return Err(Error::InvalidTree {
            rendered: format!(
                "{rendered}error: {} error(s), {} warning(s) in {shown}",
                report.errors(),
                report.warnings(),
            ),
        });
    }
    eprint!("{rendered}");
    let summary = checked.shape.map(|t| {
        format!(
            "\n    {} nodes ({} measures, {} formulas), {} sources, {} owners, root `{}`",
            t.nodes, t.measures, t.formulas, t.sources, t.owners, t.root
        )
    });
    Ok(format!(
        "ok: {shown} is valid{} ({} warning(s)){}\n",
        if no_data { " (data not checked)" } else { "" },
        report.warnings(),
        summary.unwrap_or_default()
    ))
}
