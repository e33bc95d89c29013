//! `metrictree why TREE [--period P] [--baseline B | --compare DIM=A,B] [--node N] [--by DIMS]`:
//! the change (or with `--compare` the gap between two populations of one period),
//! attributed to branches and segments, with a noise verdict for each; `--segments all` lists
//! every evaluated segment.

use super::{Outcome, source};
use crate::cli::{Format, SearchArgs, TreeArgs};
use crate::report::style::Styles;
use crate::report::why::WhyReport;
use crate::session::{Session, Warn, load_tree};

pub struct Why<'a> {
    pub tree: &'a TreeArgs,
    pub period: Option<String>,
    pub baseline: Option<String>,
    pub node: Option<String>,
    /// `--compare DIM=A,B`.
    pub compare: Option<String>,
    pub search: &'a SearchArgs,
    /// `--segments all`: list every evaluated segment.
    pub every_segment: bool,
    pub format: Format,
}

pub fn run(w: Why) -> Outcome {
    let src = source(w.tree);
    let request = super::why_request(w.search, w.period, w.baseline, w.node, w.compare);
    let loaded = load_tree(src.tree, src.postgres_env)?;
    let plan = loaded.plan_why(&request)?;
    let session = Session::open(loaded, &src.access, Warn::stderr())?;
    let x = session.explain(&plan)?;
    let mut model = WhyReport::new(&session.graph, &x);
    if w.every_segment {
        model.list_every_segment(&session.graph, &x);
    }
    Ok(match w.format {
        Format::Json => model.to_json()?,
        Format::Text => crate::report::text::why::render(&model, &Styles::for_stdout()),
    })
}
