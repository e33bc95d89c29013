//! `metrictree check TREE`: every problem, with place and fix; exit 0 only when valid.

use super::{Outcome, source};
use crate::cli::TreeArgs;
use crate::error::Error;
use crate::report::style::Styles;

pub fn run(tree: &TreeArgs, no_data: bool) -> Outcome {
    let checked = crate::session::check(&source(tree), no_data)?;
    let report = &checked.report;
    let shown = crate::text::escape(&tree.tree.display().to_string()).into_owned();
    let color = Styles::for_stderr().enabled();
    let mut rendered = report.render(color);
    let (mut errors, mut warnings) = (report.errors(), report.warnings());
    if let Some(a) = &checked.actions {
        rendered.push_str(&a.render(color));
        errors += a.errors();
        warnings += a.warnings();
    }
    if errors > 0 {
        let also = checked
            .actions
            .as_ref()
            .filter(|a| !a.items.is_empty())
            .map(|a| {
                format!(
                    " and its actions file {}",
                    crate::text::escape(&a.path.display().to_string())
                )
            })
            .unwrap_or_default();
        return Err(Error::InvalidTree {
            rendered: format!(
                "{rendered}error: {errors} error(s), {warnings} warning(s) in {shown}{also}"
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
        warnings,
        summary.unwrap_or_default()
    ))
}
