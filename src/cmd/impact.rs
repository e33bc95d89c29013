//! `metrictree impact TREE [--action ID] [--actions FILE] [--before N] [--after N]
//! [--format text|json]`: whether each action on a branch moved it.

use std::path::Path;

use super::{Outcome, source};
use crate::cli::{ImpactFormat, TreeArgs};
use crate::error::Error;
use crate::report::impact::ImpactReport;
use crate::report::style::Styles;
use crate::session::{Session, Warn, actions_of, load_tree, read_tree};

pub struct Impact<'a> {
    pub tree: &'a TreeArgs,
    pub action: Option<&'a str>,
    pub actions: Option<&'a Path>,
    pub period: Option<&'a str>,
    pub options: crate::impact::Options,
    pub format: ImpactFormat,
}

pub fn run(a: Impact) -> Outcome {
    let src = source(a.tree);
    let warn = Warn::stderr();
    let loaded = load_tree(src.tree, src.postgres_env)?;
    let text = read_tree(src.tree)?;
    let (actions, report) = actions_of(&loaded.graph, src.tree, &text, &src.access, a.actions)?;
    if report.has_errors() {
        return Err(crate::session::invalid(&report));
    }
    // Every action is judged (the others keep their dates out of its placebos); one is shown.
    if let Some(id) = a.action
        && !actions.iter().any(|x| x.id == id)
    {
        return Err(Error::Argument(format!(
            "unknown action `{id}`: {}",
            crate::diag::did_you_mean(id, actions.iter().map(|x| x.id.as_str()), "actions")
        )));
    }
    let session = Session::open(loaded, &src.access, warn)?;
    let run = session.impact(actions, a.period, &a.options)?;
    let mut model = ImpactReport::new(
        &session.graph,
        &run.as_of.period,
        &run.actions,
        &run.impacts,
        &a.options,
    );
    if let Some(id) = a.action {
        model.actions.retain(|x| x.id == id);
    }
    Ok(match a.format {
        ImpactFormat::Json => model.to_json()?,
        ImpactFormat::Text => crate::report::text::impact::render(&model, &Styles::for_stdout()),
    })
}
