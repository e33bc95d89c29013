//! `metrictree history TREE [--node N] [--periods 12] [--by DIM] [--format text|csv|json]`:
//! node values per period, from one pass over the data.

use super::{Outcome, source};
use crate::cli::{HistoryFormat, TreeArgs};
use crate::report::history::HistoryReport;
use crate::report::style::Styles;
use crate::session::{Session, Warn, load_tree};

pub struct History<'a> {
    pub tree: &'a TreeArgs,
    pub node: Option<&'a str>,
    pub periods: u32,
    pub period: Option<&'a str>,
    pub by: Option<&'a str>,
    pub format: HistoryFormat,
}

pub fn run(a: History) -> Outcome {
    let src = source(a.tree);
    let warn = Warn::stderr();
    let loaded = load_tree(src.tree, src.postgres_env)?;
    let only = a.node.map(|n| loaded.node(n)).transpose()?;
    loaded.plan_eval(a.by, &warn)?;
    let session = Session::open(loaded, &src.access, warn)?;
    let run = session.history(a.period, a.periods, a.by)?;
    let model = HistoryReport::new(
        &session.graph,
        &run.periods,
        &run.complete,
        &run.evaluation,
        only,
        a.by,
    );
    Ok(match a.format {
        HistoryFormat::Json => model.to_json()?,
        HistoryFormat::Csv => crate::report::text::history::csv(&model),
        HistoryFormat::Text => crate::report::text::history::render(&model, &Styles::for_stdout()),
    })
}
