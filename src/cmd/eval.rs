//! `metrictree eval TREE [--period P] [--by DIM]`: node values for one period.

use super::{Outcome, source};
use crate::cli::{Format, TreeArgs};
use crate::report::eval::EvalReport;
use crate::report::style::Styles;
use crate::session::{Session, Warn, load_tree};

pub fn run(tree: &TreeArgs, period: Option<&str>, by: Option<&str>, format: Format) -> Outcome {
    let src = source(tree);
    let warn = Warn::stderr();
    let loaded = load_tree(src.tree, src.postgres_env)?;
    loaded.plan_eval(by, &warn)?;
    let session = Session::open(loaded, &src.access, warn)?;
    let run = session.evaluate(period, by)?;
    let model = EvalReport::new(
        &session.graph,
        &run.evaluation,
        &run.coverage,
        run.period.complete,
        by,
    );
    Ok(match format {
        Format::Json => model.to_json()?,
        Format::Text => crate::report::text::eval::render(&model, &Styles::for_stdout()),
    })
}
