//! `metrictree report TREE --out DIR [--format html,md,txt,json] [--owner ID]`: the overview,
//! one report per owner and an index, written to DIR.

use std::path::Path;

use super::{Outcome, source};
use crate::cli::{SearchArgs, TreeArgs};
use crate::error::Error;
use crate::report::pack::{Inputs, ReportSet};
use crate::report::render::{Format, Templates};
use crate::session::{ReportRequest, ReportRun, Session, Warn, load_tree};

pub struct Report<'a> {
    pub tree: &'a TreeArgs,
    pub period: Option<String>,
    pub baseline: Option<String>,
    pub out: &'a Path,
    pub formats: &'a [String],
    pub owner: Option<&'a str>,
    pub templates: Option<&'a Path>,
    pub trend_periods: u32,
    pub search: &'a SearchArgs,
}

pub fn run(a: Report) -> Outcome {
    let mut formats = Vec::new();
    for f in a.formats {
        let f = Format::parse(f.trim()).ok_or_else(|| {
            Error::Argument(format!(
                "unknown report format `{}`; give html, md, txt or json, comma-separated",
                crate::text::escape(f)
            ))
        })?;
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    formats.sort();
    // Templates are checked before any data is read.
    let templates = templates(a.templates)?;
    let (session, run) = prepare(
        a.tree,
        a.period,
        a.baseline,
        a.trend_periods,
        a.search,
        a.owner,
    )?;
    let set = ReportSet::new(&Inputs {
        graph: &session.graph,
        root: &run.root,
        companions: &run.companions,
        history: &run.history,
        provenance: run.provenance,
        only_owner: a.owner,
        impact: run.impact.as_ref(),
    });
    let files = write(&set, &templates, &formats, a.out, a.owner.is_some())?;
    let mut out = format!(
        "wrote {} file(s) to {}:\n",
        files.len(),
        crate::text::escape(&a.out.display().to_string())
    );
    for f in files {
        out.push_str(&format!("  {}\n", crate::text::escape(&f)));
    }
    Ok(out)
}

/// The built-in templates, or those of `--templates DIR`, compiled.
pub(super) fn templates(dir: Option<&Path>) -> Result<Templates, Error> {
    Templates::load(dir)
        .map_err(|e| Error::Argument(format!("the report templates do not compile: {e}")))
}

/// Reads the tree and its data and explains the root and every companion: what a report set
/// (and `notify`) is built from.
pub(super) fn prepare(
    tree: &TreeArgs,
    period: Option<String>,
    baseline: Option<String>,
    trend_periods: u32,
    search: &SearchArgs,
    owner: Option<&str>,
) -> Result<(Session, ReportRun), Error> {
    let src = source(tree);
    let request = ReportRequest {
        why: super::why_request(search, period, baseline, None, None),
        trend_periods,
    };
    let loaded = load_tree(src.tree, src.postgres_env)?;
    loaded.plan_why(&request.why)?;
    if let Some(o) = owner
        && loaded.graph.owner(o).is_none()
    {
        let ids = loaded.graph.spec.owners.iter().map(|o| o.id.as_str());
        return Err(Error::Argument(format!(
            "unknown owner `{}`: {}",
            crate::text::escape(o),
            crate::diag::did_you_mean(o, ids, "owners")
        )));
    }
    let session = Session::open(loaded, &src.access, Warn::stderr())?;
    let run = session.report(&request, src.tree)?;
    Ok((session, run))
}

/// Renders every page in every format and writes them; returns the file names.
pub fn write(
    set: &ReportSet,
    templates: &Templates,
    formats: &[Format],
    out: &Path,
    owner_only: bool,
) -> Result<Vec<String>, Error> {
    std::fs::create_dir_all(out)
        .map_err(|e| Error::Runtime(format!("cannot create `{}`: {e}", out.display())))?;
    let mut pages: Vec<(String, &'static str, &dyn erased::Page)> = Vec::new();
    if !owner_only {
        pages.push((set.overview.file.clone(), "overview", &set.overview));
    }
    for p in &set.owners {
        pages.push((p.file.clone(), "owner", p));
    }
    pages.push(("index".into(), "index", &set.index));
    let mut written = Vec::new();
    for &f in formats {
        for (file, kind, model) in &pages {
            let text = model
                .render(templates, f, kind)
                .map_err(|e| Error::Runtime(format!("rendering {file}.{}: {e}", f.ext())))?;
            let name = format!("{file}.{}", f.ext());
            write_atomic(&out.join(&name), text.as_bytes())?;
            written.push(name);
            if f == Format::Html && *kind == "owner" {
                let text = model
                    .render(templates, f, "owner.email")
                    .map_err(|e| Error::Runtime(format!("rendering {file}.email.html: {e}")))?;
                let name = format!("{file}.email.html");
                write_atomic(&out.join(&name), text.as_bytes())?;
                written.push(name);
            }
        }
    }
    Ok(written)
}

/// Writes a page whole or not at all.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::report::files::write_atomic(path, bytes).map_err(Error::Runtime)
}

/// The pages of a set as one kind of thing to render.
mod erased {
    use crate::report::render::{Format, Templates};

    pub trait Page {
        fn render(&self, t: &Templates, f: Format, kind: &str) -> Result<String, String>;
    }

    impl Page for crate::report::pack::Page {
        fn render(&self, t: &Templates, f: Format, kind: &str) -> Result<String, String> {
            t.render(f, kind, self)
        }
    }

    impl Page for crate::report::pack::Index {
        fn render(&self, t: &Templates, f: Format, kind: &str) -> Result<String, String> {
            t.render(f, kind, self)
        }
    }
}
