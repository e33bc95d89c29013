//! The library's front door: a tree loaded and checked, its data opened, and the questions
//! every command asks of them — which period, against which baseline, evaluated or explained.
//!
//! Each `cmd/*.rs` that reads a tree parses its arguments into the requests here, calls the
//! session (load the tree, check the request against it, open the data, ask) and prints the
//! answer. The policies that used to live in the command layer live here once: how a
//! tree is read and validated ([`load_tree`], [`check`]), how `--postgres-env` redirects file
//! sources, the default period (the latest complete one) and what is said about a partial
//! one ([`Session::period`]), and how flags are checked against the tree.
//!
//! Warnings found while running (about the data, partial periods, cause coverage) go to the
//! session's [`Warn`] sink — stderr for the binary — as they are found, so they appear in the
//! order the work meets them.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::attribution::Side;
use crate::attribution::insights::SearchOptions;
use crate::diag::{Diagnostic, Pos, Report};
use crate::engine::load::LoadSummary;
use crate::engine::{Access, Engine, check_measures, check_pushdown};
use crate::error::{Error, Result};
use crate::eval::{CauseCoverage, Completeness, DataExtent, Evaluation, Status};
use crate::explain::{ExplainError, Explanation, Options};
use crate::graph::actions::Action;
use crate::graph::{Def, MetricGraph};
use crate::period::{Baseline, Period};
use crate::report::style::Styles;

/// Where warnings go: a function of the rendered text (one or more lines, newline-ended) —
/// stderr for the binary; a report run for many owners can keep them instead.
#[derive(Clone)]
pub struct Warn(Arc<dyn Fn(&str) + Send + Sync>);

impl Warn {
    /// Warnings to stderr, as the binary shows them.
    pub fn stderr() -> Warn {
        Warn(Arc::new(|s: &str| eprint!("{s}")))
    }

    /// Warnings to a function of the rendered text (tests keep or drop them).
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Warn {
        Warn(Arc::new(f))
    }

    /// One warning line (the newline is added).
    pub fn line(&self, s: &str) {
        (self.0)(&format!("{s}\n"));
    }

    /// Diagnostics found while running (about the data, not the tree's text), against the
    /// tree's source lines.
    pub fn diagnostics(&self, report: &Report, warnings: Vec<Diagnostic>) {
        if warnings.is_empty() {
            return;
        }
        let mut w = Report::new(&report.path, &report.text);
        w.extend(warnings);
        (self.0)(&w.render(Styles::for_stderr().enabled()));
    }
}

/// Which tree to open and where its data comes from.
#[derive(Debug, Clone)]
pub struct TreeSource<'a> {
    pub tree: &'a Path,
    /// Read every file source from PostgreSQL: the environment variable holding the
    /// connection string.
    pub postgres_env: Option<&'a str>,
    /// What the operator lets the run read and spend (with `--data-dir`).
    pub access: Access,
}

/// A tree that checks: its graph and the report holding its warnings (and its text, for
/// rendering later diagnostics against its lines).
pub struct Loaded {
    pub graph: MetricGraph,
    pub report: Report,
}

impl Loaded {
    /// Checks a dimension name against the tree, with a suggestion.
    pub fn dimension(&self, dim: &str) -> Result<()> {
        dimension_in(&self.graph, dim)
    }

    /// A node by id, with a suggestion.
    pub fn node(&self, id: &str) -> Result<usize> {
        node_index(&self.graph, id)
    }

    /// Checks `why`'s request against the tree (before any data is read): the node, the
    /// dimensions, the flags and the baseline's syntax.
    pub fn plan_why(&self, a: &WhyRequest) -> Result<WhyPlan> {
        plan_why_in(&self.graph, a)
    }

    /// Checks `eval --by` against the tree (before any data is read); warns when the root
    /// cannot be split by it.
    pub fn plan_eval(&self, by: Option<&str>, warn: &Warn) -> Result<()> {
        let g = &self.graph;
        if let Some(d) = by {
            self.dimension(d)?;
            if !g.splittable[g.root].contains(d) {
                warn.line(&format!(
                    "warning: the root `{}` cannot be split by `{d}` (not every leaf maps it); nodes that can are shown per segment",
                    g.nodes[g.root].id
                ));
            }
        }
        Ok(())
    }
}

fn node_index(g: &MetricGraph, id: &str) -> Result<usize> {
    g.index(id).ok_or_else(|| {
        let ids = g.nodes.iter().map(|n| n.id.as_str());
        Error::Argument(format!(
            "unknown node `{id}`: {}",
            crate::diag::did_you_mean(id, ids, "nodes")
        ))
    })
}

fn dimension_in(g: &MetricGraph, dim: &str) -> Result<()> {
    if g.spec.dimensions.iter().any(|d| d.id == dim) {
        return Ok(());
    }
    let ids = g.spec.dimensions.iter().map(|d| d.id.as_str());
    Err(Error::Argument(format!(
        "unknown dimension `{dim}`: {}",
        crate::diag::did_you_mean(dim, ids, "dimensions")
    )))
}

/// `why`'s request checked against a tree (see [`Loaded::plan_why`]).
pub fn plan_why_in(g: &MetricGraph, a: &WhyRequest) -> Result<WhyPlan> {
    let target = match &a.node {
        None => g.root,
        Some(id) => node_index(g, id)?,
    };
    let explicit = !a.by.is_empty();
    let compare = match &a.compare {
        None => None,
        Some(s) => Some(comparison(g, target, s, a)?),
    };
    let compared = compare.as_ref().map(|c| c.dimension.as_str());
    let dims: Vec<String> = if a.by.iter().any(|d| d == "none") {
        Vec::new()
    } else if explicit {
        for d in &a.by {
            dimension_in(g, d)?;
        }
        let mut dims: Vec<String> = Vec::new();
        for d in &a.by {
            if !dims.contains(d) {
                dims.push(d.clone());
            }
        }
        dims
    } else {
        g.spec
            .dimensions
            .iter()
            .map(|d| d.id.clone())
            .filter(|d| Some(d.as_str()) != compared)
            .collect()
    };
    if explicit && !dims.is_empty() {
        if let Some(l) = crate::attribution::segments::non_additive_leaf(g, target) {
            return Err(Error::Argument(format!(
                "`{}` cannot be split by segments: its leaf `{}` is not a count or a sum, so its segments do not add up; write it as a ratio of two sums (e.g. sum over count) to split it, or drop --by",
                g.nodes[target].id, g.nodes[l].id
            )));
        }
        if let Some(d) = dims.iter().find(|d| !g.splittable[target].contains(*d)) {
            return Err(Error::Argument(format!(
                "`{}` cannot be split by `{d}`: not every leaf under it maps that dimension; map it under `dimensions:` of their sources, or pick another",
                g.nodes[target].id
            )));
        }
    }
    if !(0.0..=1.0).contains(&a.min_support) {
        return Err(Error::Argument(format!(
            "--min-support {} is not a share; give a number from 0 to 1, like 0.01",
            a.min_support
        )));
    }
    if !(a.fdr > 0.0 && a.fdr < 1.0) {
        return Err(Error::Argument(format!(
            "--fdr {} is not a rate; give a number between 0 and 1, like 0.05",
            a.fdr
        )));
    }
    let baseline = match &a.baseline {
        Some(b) => Baseline::parse(b, g.spec.grain).map_err(Error::Period)?,
        None => Baseline::Previous,
    };
    let options = Options {
        dims,
        search: SearchOptions {
            depth: a.depth,
            min_support: a.min_support,
            min_count: a.min_count as f64,
            top: a.top,
            ..SearchOptions::default()
        },
        fdr: a.fdr,
        history: a.history,
        compare,
    };
    Ok(WhyPlan {
        target,
        options,
        baseline,
        period: a.period.clone(),
    })
}

/// `--compare DIM=A,B` checked against the tree and the rest of the request.
fn comparison(
    g: &MetricGraph,
    target: usize,
    s: &str,
    a: &WhyRequest,
) -> Result<crate::explain::Comparison> {
    let c = crate::explain::Comparison::parse(s).map_err(Error::Argument)?;
    dimension_in(g, &c.dimension)?;
    if a.baseline.is_some() {
        return Err(Error::Argument(
            "--compare and --baseline cannot be combined: --compare compares two populations of one period (pick it with --period); drop --baseline".into(),
        ));
    }
    if a.by.contains(&c.dimension) {
        return Err(Error::Argument(format!(
            "--by `{}` splits by the dimension --compare compares; split by other dimensions",
            c.dimension
        )));
    }
    if !g.splittable[target].contains(&c.dimension) {
        return Err(Error::Argument(format!(
            "`{}` cannot be compared by `{}`: not every leaf under it maps that dimension; map it under `dimensions:` of their sources, or pick another",
            g.nodes[target].id, c.dimension
        )));
    }
    Ok(c)
}

/// `why`'s request checked against the tree.
#[derive(Debug, Clone)]
pub struct WhyPlan {
    pub target: usize,
    pub options: Options,
    pub baseline: Baseline,
    pub period: Option<String>,
}

/// The text of a tree file. A file that is not UTF-8 is an invalid tree (exit 1) whose
/// message points at the first bad byte.
pub fn read_tree(path: &Path) -> Result<String> {
    read_text(path, "tree file")
}

/// The text of a tree or actions file (`what`), as [`read_tree`] reads it.
fn read_text(path: &Path, what: &str) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Runtime(format!(
            "cannot read {what} `{}`: {e}",
            crate::text::escape(&path.display().to_string())
        ))
    })?;
    match String::from_utf8(bytes) {
        Ok(t) => Ok(t),
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = String::from_utf8_lossy(&bytes[..at]);
            let line = before.matches('\n').count() as u32 + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut report = Report::new(path, &text);
            report.push(
                Diagnostic::error(
                    "E001",
                    format!(
                        "the {what} is not UTF-8: byte 0x{:02x} at line {line}, column {col}",
                        bytes[at]
                    ),
                )
                .at(Pos::new(line, col, 1))
                .help("save the file as UTF-8 (editors call it \"UTF-8\" or \"Unicode\"); the byte is shown as � above"),
            );
            Err(invalid_tree(&report))
        }
    }
}

/// Reads and validates a tree file; with `postgres_env`, its file sources read PostgreSQL
/// tables instead. Errors carry all diagnostics.
pub fn load_tree(path: &Path, postgres_env: Option<&str>) -> Result<Loaded> {
    let text = read_tree(path)?;
    let mut report = Report::new(path, &text);
    let (spec, diags) = crate::spec::parse(path, &text);
    report.extend(diags);
    let graph = match spec {
        Some(spec) if !report.has_errors() => {
            let (g, diags) = crate::graph::build(spec);
            report.extend(diags);
            g
        }
        _ => None,
    };
    report.sort();
    let mut graph = match graph {
        Some(g) if !report.has_errors() => g,
        _ => return Err(invalid_tree(&report)),
    };
    if let Some(env) = postgres_env {
        env_name(env)?;
        graph.spec.files_from_postgres(env);
    }
    Ok(Loaded { graph, report })
}

/// `--postgres-env` names a variable; a connection string there would be echoed back.
pub fn env_name(env: &str) -> Result<()> {
    if crate::spec::parse::is_env_name(env) {
        return Ok(());
    }
    Err(Error::Argument(
        "--postgres-env takes the name of an environment variable (e.g. SUPPORT_DATABASE_URL), not the connection string itself".into(),
    ))
}

/// The tree's diagnostics, rendered, as an invalid-tree error.
pub fn invalid(report: &Report) -> Error {
    invalid_tree(report)
}

fn invalid_tree(report: &Report) -> Error {
    let st = Styles::for_stderr();
    let mut s = report.render(st.enabled());
    let shown = crate::text::escape(&report.path.display().to_string()).into_owned();
    s.push_str(&format!(
        "{}: {} error(s) in {shown}; run `metrictree check {shown}` after fixing them",
        if st.enabled() {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        },
        report.errors(),
    ));
    Error::InvalidTree { rendered: s }
}

/// The shape of a tree that checks, for `check`'s summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeShape {
    pub nodes: usize,
    pub measures: usize,
    pub formulas: usize,
    pub sources: usize,
    pub owners: usize,
    pub root: String,
}

/// What `check` found: every diagnostic (sorted) and, when the tree builds, its shape.
pub struct Checked {
    pub report: Report,
    /// The actions file's diagnostics, when the tree keeps its actions in one.
    pub actions: Option<Report>,
    pub shape: Option<TreeShape>,
}

/// Checks a tree — its text, references, cycles, owners and dimensions, then (unless
/// `no_data`, and only when the text has no errors) its columns and SQL against the data.
/// Reports every problem rather than stopping at the first; an unreadable file is an error.
pub fn check(source: &TreeSource, no_data: bool) -> Result<Checked> {
    let path = source.tree;
    let text = read_tree(path)?;
    let mut report = Report::new(path, &text);
    let (spec, diags) = crate::spec::parse(path, &text);
    report.extend(diags);
    let mut shape = None;
    let mut actions_report = None;
    if let Some(env) = source.postgres_env {
        env_name(env)?;
    }
    if let Some(mut spec) = spec {
        if let Some(env) = source.postgres_env {
            spec.files_from_postgres(env);
        }
        let (graph, diags) = crate::graph::build(spec);
        report.extend(diags);
        if let Some(g) = graph {
            let measures = g.nodes.iter().filter(|n| n.is_leaf()).count();
            shape = Some(TreeShape {
                nodes: g.nodes.len(),
                measures,
                formulas: g.nodes.len() - measures,
                sources: g.spec.sources.len(),
                owners: g.spec.owners.len(),
                root: g.nodes[g.root].id.clone(),
            });
            let (_, r) = actions_of(&g, path, &text, &source.access, None)?;
            if r.path == path {
                report.extend(r.items);
            } else {
                actions_report = Some(r);
            }
            // The data is only opened for a tree without errors: no cascade of engine errors
            // from a mistake already reported.
            if !no_data && !report.has_errors() {
                let (engine, diags) = Engine::open(&g, &source.access);
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
    Ok(Checked {
        report,
        actions: actions_report,
        shape,
    })
}

/// A tree's actions resolved against its graph, with the diagnostics about them (only those)
/// in a report on the file they are written in: the actions file (the tree's `actions: FILE`, or the
/// operator's `--actions`), or the tree itself for actions written there. A file beside the
/// tree is read only inside the tree's reach.
pub fn actions_of(
    g: &MetricGraph,
    tree: &Path,
    tree_text: &str,
    access: &Access,
    over: Option<&Path>,
) -> Result<(Vec<Action>, Report)> {
    use crate::spec::actions::ActionsDecl;
    let (specs, mut report) = match (over, &g.spec.actions) {
        (Some(p), _) => {
            let text = read_text(p, "actions file")?;
            let (specs, diags) = crate::spec::parse::parse_actions_file(p, &text);
            let mut r = Report::new(p, &text);
            r.extend(diags);
            (specs, r)
        }
        (None, ActionsDecl::None) => return Ok((Vec::new(), Report::new(tree, tree_text))),
        (None, ActionsDecl::Inline(list)) => (list.clone(), Report::new(tree, tree_text)),
        (None, ActionsDecl::File(name)) => {
            let path = tree.parent().unwrap_or(Path::new("")).join(&name.value);
            let reach = crate::engine::access::Reach::new(tree, access);
            match reach.file(&path) {
                Ok(_) => {
                    let text = read_text(&path, "actions file")?;
                    let (specs, diags) = crate::spec::parse::parse_actions_file(&path, &text);
                    let mut r = Report::new(&path, &text);
                    r.extend(diags);
                    (specs, r)
                }
                Err(problem) => {
                    let mut r = Report::new(tree, tree_text);
                    let (why, _) = problem.message(&reach.root);
                    let why = why.replacen("data file", "file", 1);
                    r.push(
                        Diagnostic::error("E048", format!("the actions file cannot be read: {why}"))
                            .at(name.pos)
                            .help("write the actions file beside the tree (the name is relative to the tree file), or leave `actions:` out"),
                    );
                    return Ok((Vec::new(), r));
                }
            }
        }
    };
    let (actions, diags) = crate::graph::actions::resolve(g, &specs);
    report.extend(diags);
    report.sort();
    Ok((actions, report))
}

/// What `impact` found: each action judged as of a period.
pub struct ImpactRun {
    pub as_of: ResolvedPeriod,
    pub actions: Vec<Action>,
    pub impacts: Vec<crate::impact::ActionImpact>,
}

/// A period resolved against the data.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedPeriod {
    pub period: Period,
    /// Where the data starts and ends.
    pub extent: DataExtent,
    /// Complete: inside the data and matured (see the tree's `maturity`).
    pub complete: bool,
}

/// One period's values (`eval`): every node, optionally per segment of one dimension, and
/// how much of each event log's transfers the cause rules name.
pub struct EvalRun {
    pub period: ResolvedPeriod,
    pub evaluation: Evaluation,
    pub coverage: Vec<CauseCoverage>,
}

/// Values per period (`history`): every node for each of the last N periods, read in one
/// pass, optionally per segment of one dimension.
pub struct HistoryRun {
    /// Oldest first.
    pub periods: Vec<Period>,
    /// Per period: inside the data and matured.
    pub complete: Vec<bool>,
    /// One group per period, in `periods` order.
    pub evaluation: Evaluation,
}

/// The most periods `history` reads at once.
pub const MAX_HISTORY: u32 = 520;

/// What `report` is asked: the root's `why` request (its period, baseline and search
/// settings apply to the companions too, except `by`: each companion is split by every
/// dimension that splits it) and how many periods the trend lines cover.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub why: WhyRequest,
    pub trend_periods: u32,
}

/// What a report set is built from.
pub struct ReportRun {
    pub root: crate::report::why::WhyReport,
    /// Per companion (tree order); `None` when it could not be explained (said as a warning).
    pub companions: Vec<Option<crate::report::why::WhyReport>>,
    pub history: crate::report::history::HistoryReport,
    pub provenance: crate::report::provenance::Provenance,
    /// The tree's actions judged as of the current period (`None` without actions).
    pub impact: Option<crate::report::impact::ImpactReport>,
}

/// What `why` is asked: periods by label, the node, and the search and noise settings.
#[derive(Debug, Clone)]
pub struct WhyRequest {
    /// The period to explain (default: the latest complete one).
    pub period: Option<String>,
    /// `--baseline`: a period, `ago:N` or `trailing:N` (default: the previous period).
    pub baseline: Option<String>,
    /// The node to explain (default: the root).
    pub node: Option<String>,
    /// Dimensions to split by; empty: all the tree declares; `none`: branches only.
    pub by: Vec<String>,
    pub depth: usize,
    pub min_support: f64,
    pub min_count: u64,
    pub top: usize,
    pub fdr: f64,
    pub history: u32,
    /// `--compare DIM=A,B`: two populations of the period instead of two periods.
    pub compare: Option<String>,
}

/// A tree with its data open.
pub struct Session {
    pub graph: MetricGraph,
    /// The tree's diagnostics (warnings only) and text.
    pub report: Report,
    pub engine: Engine,
    pub warn: Warn,
    /// What the run may read and spend.
    pub access: Access,
    /// Periods already warned about (partial, outside the data), so a run that asks for a
    /// period several times says it once.
    warned: std::sync::Mutex<Vec<String>>,
    /// Where the data starts and ends, read once per session.
    extent: std::sync::OnceLock<Option<DataExtent>>,
}

impl Session {
    /// Registers the data of a loaded tree; a problem with it is an invalid-tree error with
    /// diagnostics. Warnings about the data go to `warn`.
    pub fn open(loaded: Loaded, access: &Access, warn: Warn) -> Result<Session> {
        let Loaded { graph, report } = loaded;
        let (engine, diags) = Engine::open(&graph, access);
        let (errors, warnings): (Vec<_>, Vec<_>) = diags.into_iter().partition(|d| d.is_error());
        if !errors.is_empty() {
            let mut r = report.clone();
            r.items.retain(|d| d.is_error());
            r.extend(errors);
            r.sort();
            return Err(invalid_tree(&r));
        }
        // What reading the data found (rows left out, duplicates, assumptions).
        warn.diagnostics(&report, warnings);
        Ok(Session {
            graph,
            report,
            engine,
            warn,
            access: access.clone(),
            warned: Default::default(),
            extent: Default::default(),
        })
    }

    /// The period asked for, or the latest complete one; warns about a partial period or
    /// one outside the data.
    pub fn period(&self, asked: Option<&str>) -> Result<ResolvedPeriod> {
        let g = &self.graph;
        let extent = match self.extent.get() {
            Some(e) => *e,
            None => {
                let (extent, warnings) = crate::eval::data_extent(g, &self.engine)
                    .map_err(|e| Error::Runtime(e.to_string()))?;
                self.warn.diagnostics(&self.report, warnings);
                *self.extent.get_or_init(|| extent)
            }
        };
        let extent =
            extent.ok_or_else(|| Error::Runtime("the tree's sources hold no rows".into()))?;
        let period = match asked {
            Some(label) => {
                Period::parse(label, g.spec.grain).map_err(|e| Error::Period(e.to_string()))?
            }
            None => crate::eval::default_period(g, &extent).ok_or_else(|| {
                Error::Period(format!(
                    "the data holds no complete {} yet (it runs from {} to {}, and the tree's maturity is {}h); pass --period to look at a partial one",
                    g.spec.grain.name(),
                    minute(extent.first),
                    minute(extent.last),
                    g.spec.maturity.num_hours()
                ))
            })?,
        };
        let completeness = extent.completeness(&period, g.spec.maturity);
        let first_time = {
            let mut w = self.warned.lock().unwrap_or_else(|e| e.into_inner());
            let new = !w.contains(&period.label());
            if new {
                w.push(period.label());
            }
            new
        };
        match completeness {
            _ if !first_time => {}
            Completeness::Complete => {}
            Completeness::Partial => self.warn.line(&format!(
                "warning: {} is partial: the data ends {} and outcomes need {}h to mature after the period's end; its values may still move",
                period.label(),
                minute(extent.last),
                g.spec.maturity.num_hours()
            )),
            Completeness::Outside => self.warn.line(&format!(
                "warning: {} lies outside the data ({} to {})",
                period.label(),
                minute(extent.first),
                minute(extent.last)
            )),
        }
        Ok(ResolvedPeriod {
            period,
            extent,
            complete: completeness == Completeness::Complete,
        })
    }

    /// Every node's value for one period (default: the latest complete one), optionally per
    /// segment of `by`; warns when cause rules leave too many transfers unclassified.
    pub fn evaluate(&self, period: Option<&str>, by: Option<&str>) -> Result<EvalRun> {
        let g = &self.graph;
        let resolved = self.period(period)?;
        let dims: Vec<String> = by.map(|d| vec![d.to_string()]).unwrap_or_default();
        let fail = |e: crate::eval::EvalError| Error::Runtime(e.to_string());
        let data =
            crate::eval::Dataset::load(g, &self.engine, &[resolved.period], &dims).map_err(fail)?;
        let sets: Vec<Vec<String>> = dims.iter().map(|d| vec![d.clone()]).collect();
        let evaluation = data.aggregate(&[vec![0]], &sets, &[]).map_err(fail)?;
        let all: Vec<usize> = (0..g.nodes.len()).collect();
        let coverage = data.coverage(&[vec![0]], &all).map_err(fail)?;
        self.warn.diagnostics(
            &self.report,
            crate::report::coverage::warnings(g, &coverage, &[resolved.period.label()]),
        );
        Ok(EvalRun {
            period: resolved,
            evaluation,
            coverage,
        })
    }

    /// Every node's value in each of the `count` periods up to `last` (default: the latest
    /// complete one), oldest first, from one read of each source; periods before the data
    /// starts are left out.
    pub fn history(&self, last: Option<&str>, count: u32, by: Option<&str>) -> Result<HistoryRun> {
        if count == 0 || count > MAX_HISTORY {
            return Err(Error::Argument(format!(
                "--periods {count} is out of range; give 1 to {MAX_HISTORY}"
            )));
        }
        let g = &self.graph;
        let resolved = self.period(last)?;
        let first = Period::containing(g.spec.grain, resolved.extent.first.date());
        let periods: Vec<Period> = (0..count)
            .rev()
            .map(|k| resolved.period.back(k))
            .filter(|p| p.start >= first.start)
            .collect();
        let periods = if periods.is_empty() {
            vec![resolved.period]
        } else {
            periods
        };
        let dims: Vec<String> = by.map(|d| vec![d.to_string()]).unwrap_or_default();
        let fail = |e: crate::eval::EvalError| Error::Runtime(e.to_string());
        let data = crate::eval::Dataset::load(g, &self.engine, &periods, &dims).map_err(fail)?;
        let groups: Vec<Vec<usize>> = (0..periods.len()).map(|i| vec![i]).collect();
        let sets: Vec<Vec<String>> = dims.iter().map(|d| vec![d.clone()]).collect();
        let evaluation = data.aggregate(&groups, &sets, &[]).map_err(fail)?;
        let complete = periods
            .iter()
            .map(|p| resolved.extent.completeness(p, g.spec.maturity) == Completeness::Complete)
            .collect();
        Ok(HistoryRun {
            periods,
            complete,
            evaluation,
        })
    }

    /// The change of a node (default: the root) between a period and a baseline, attributed
    /// to branches and segments with a noise verdict for each.
    pub fn explain(&self, plan: &WhyPlan) -> Result<Explanation> {
        let g = &self.graph;
        let current = self.period(plan.period.as_deref())?;
        let x = crate::explain::explain(
            g,
            &self.engine,
            plan.target,
            current.period,
            &plan.baseline,
            plan.options.clone(),
        )
        .map_err(|e| match e {
            ExplainError::Undefined(u, e) => Error::Undefined(undefined(
                g,
                &e,
                &current.extent,
                u.node,
                u.side,
                plan.options.compare.as_ref(),
            )),
            ExplainError::Eval(e) => Error::Runtime(e.to_string()),
            ExplainError::Invalid(m) => Error::Period(m),
            ExplainError::NoPopulation(m) => Error::Argument(m),
        })?;
        self.warn.diagnostics(
            &self.report,
            crate::report::coverage::warnings(
                g,
                &x.coverage,
                &crate::report::why::coverage_labels(g, &x),
            ),
        );
        Ok(x)
    }

    /// The tree's actions (`actions` from [`actions_of`]) judged as of a period (default: the
    /// latest complete one).
    pub fn impact(
        &self,
        actions: Vec<Action>,
        period: Option<&str>,
        options: &crate::impact::Options,
    ) -> Result<ImpactRun> {
        let g = &self.graph;
        let as_of = self.period(period)?;
        let first = Period::containing(g.spec.grain, as_of.extent.first.date());
        let impacts = crate::impact::assess(
            g,
            &self.engine,
            &actions,
            &actions,
            as_of.period,
            first,
            options,
        )
        .map_err(|e| Error::Runtime(e.to_string()))?;
        Ok(ImpactRun {
            as_of,
            actions,
            impacts,
        })
    }

    /// Everything a report set needs: the root explained, each companion explained with the
    /// same periods and settings, every node's trend up to the current period (one read),
    /// and where it all came from. `tree_text` is the tree file's text (for its hash).
    pub fn report(&self, req: &ReportRequest, tree_file: &Path) -> Result<ReportRun> {
        let g = &self.graph;
        let plan = plan_why_in(g, &req.why)?;
        let x = self.explain(&plan)?;
        let root = crate::report::why::WhyReport::new(g, &x);
        let mut companions = Vec::new();
        for &c in &g.companions {
            let mut r = req.why.clone();
            r.node = Some(g.nodes[c].id.clone());
            r.period = Some(x.current.label());
            // A companion's own search uses every dimension that splits it.
            r.by = Vec::new();
            let plan = plan_why_in(g, &r).and_then(|mut p| {
                p.baseline = plan.baseline.clone();
                self.explain(&p)
            });
            match plan {
                Ok(cx) => companions.push(Some(crate::report::why::WhyReport::new(g, &cx))),
                Err(e) => {
                    self.warn.line(&format!(
                        "warning: companion `{}` is left without a verdict: {}",
                        g.nodes[c].id,
                        e.message()
                    ));
                    companions.push(None);
                }
            }
        }
        let h = self.history(Some(&x.current.label()), req.trend_periods, None)?;
        let history = crate::report::history::HistoryReport::new(
            g,
            &h.periods,
            &h.complete,
            &h.evaluation,
            None,
            None,
        );
        let provenance = self.provenance(tree_file, &root, &history, &h.evaluation)?;
        // The tree's actions, judged as of the reported period (an invalid actions file stops
        // the report, as an invalid tree does).
        let (actions, r) = actions_of(g, tree_file, &self.report.text, &self.access, None)?;
        if r.has_errors() {
            return Err(invalid_tree(&r));
        }
        let impact = if actions.is_empty() {
            None
        } else {
            let o = crate::impact::Options::default();
            let run = self.impact(actions, Some(&x.current.label()), &o)?;
            Some(crate::report::impact::ImpactReport::new(
                g,
                &run.as_of.period,
                &run.actions,
                &run.impacts,
                &o,
            ))
        };
        Ok(ReportRun {
            root,
            companions,
            history,
            provenance,
            impact,
        })
    }

    fn provenance(
        &self,
        tree_file: &Path,
        root: &crate::report::why::WhyReport,
        history: &crate::report::history::HistoryReport,
        e: &Evaluation,
    ) -> Result<crate::report::provenance::Provenance> {
        use crate::engine::fingerprint;
        use crate::report::provenance::{DataRead, Provenance};
        let g = &self.graph;
        let ids: Vec<String> = g.spec.sources.iter().map(|s| s.id.clone()).collect();
        let files = fingerprint::files(&self.engine, &ids);
        let data = g
            .spec
            .sources
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let rows: f64 = (0..e.groups.len()).map(|p| e.total(p).rows[k]).sum();
                let file = files.iter().find(|f| f.source == s.id);
                let (kind, database_env) = match &s.kind {
                    crate::spec::model::SourceKind::File { .. } => ("file", None),
                    crate::spec::model::SourceKind::Postgres { url_env, .. } => {
                        ("postgres", Some(url_env.value.clone()))
                    }
                    _ => ("derived", None),
                };
                DataRead {
                    source: s.id.clone(),
                    kind,
                    file: file
                        .and_then(|f| f.path.file_name())
                        .map(|n| n.to_string_lossy().into_owned()),
                    bytes: file.map(|f| f.bytes),
                    sha256: file.map(|f| f.sha256.clone()),
                    database_env,
                    rows,
                }
            })
            .collect();
        let text = std::fs::read(tree_file).map_err(|e| {
            Error::Runtime(format!(
                "cannot read tree file `{}`: {e}",
                tree_file.display()
            ))
        })?;
        let span = match (history.periods.first(), history.periods.last()) {
            (Some(a), Some(b)) => format!("{}..{}", a.period.label, b.period.label),
            _ => String::new(),
        };
        Ok(Provenance {
            tree_file: shown_path(tree_file),
            tree_sha256: fingerprint::hash_bytes(&text),
            git_commit: fingerprint::git_commit(tree_file),
            tool: format!("metrictree {}", env!("CARGO_PKG_VERSION")),
            current: root.current.label.clone(),
            baseline: root.baseline.label.clone(),
            history: span,
            data,
        })
    }

    /// Copies the tree's file sources into the PostgreSQL database named by `env`, one table
    /// per source (see `engine::load`).
    pub fn load_into_postgres(&self, env: &str, replace: bool) -> Result<LoadSummary> {
        env_name(env)?;
        crate::engine::load::copy_file_sources(
            &self.graph,
            &self.engine,
            env,
            replace,
            &self.access,
        )
        .map_err(|e| Error::Runtime(e.to_string()))
    }
}

/// A tree file's path as reports show it: relative to the tree's root (its git repository, or
/// its directory), so no report names the machine's directories.
fn shown_path(tree: &Path) -> String {
    let root = crate::engine::access::tree_root(tree);
    let file = tree.canonicalize().unwrap_or_else(|_| tree.to_path_buf());
    match file.strip_prefix(&root) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

fn minute(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// "`routing_rate` is undefined in 2026-W45 (the baseline): ..." naming where it started.
fn undefined(
    g: &MetricGraph,
    e: &Evaluation,
    extent: &DataExtent,
    node: usize,
    side: Side,
    compare: Option<&crate::explain::Comparison>,
) -> String {
    let p = match side {
        Side::Baseline => 0,
        Side::Current => 1,
        Side::Path => {
            return format!(
                "the change of `{}` cannot be split: its formula divides by zero between the two periods and it has too many inputs to split by Shapley instead; give it `on_zero`, or split it into intermediate nodes",
                g.nodes[node].id
            );
        }
    };
    let v = e.total(p).values[node];
    let origin = v.cause.unwrap_or(node);
    let ov = e.total(p).values[origin];
    let why = match ov.status {
        Status::NoData => format!(
            "the data has no rows for `{}` in that period (the data runs from {} to {})",
            g.nodes[origin].id,
            minute(extent.first),
            minute(extent.last)
        ),
        Status::ZeroDenominator => {
            format!("`{}` divides by zero in that period", g.nodes[origin].id)
        }
        Status::Empty => format!("`{}` aggregates no rows in that period", g.nodes[origin].id),
        Status::NotFinite => match &g.nodes[origin].def {
            Def::Measure(m) => format!(
                "`{}` is not a finite number in that period: its values in source `{}` sum beyond ±1.8e308 or hold NaN or inf",
                g.nodes[origin].id, g.spec.sources[m.source].id
            ),
            _ => format!(
                "the formula of `{}` overflows (beyond ±1.8e308) in that period",
                g.nodes[origin].id
            ),
        },
        _ => format!("`{}` is undefined", g.nodes[origin].id),
    };
    let which = match (compare, side) {
        (Some(c), _) => format!("population {}", c.label(p)),
        (None, Side::Baseline) => "baseline".into(),
        (None, _) => "current period".into(),
    };
    let fix = match ov.status {
        Status::ZeroDenominator => format!(
            "give `{}` `on_zero: 0` if zero is the right value there, or pick other periods",
            g.nodes[origin].id
        ),
        Status::NotFinite => "check the source's values (write `nulls: [NaN, inf]` to read such markers as missing), or measure in larger units".to_string(),
        _ => format!(
            "pick periods inside the data (its last period is {}) with `--period` and `--baseline`",
            Period::containing(g.spec.grain, extent.last.date()).label()
        ),
    };
    format!(
        "`{}` is undefined in {} (the {which}): {why}; {fix}",
        g.nodes[node].id,
        e.groups[p]
            .iter()
            .map(|&i| e.periods[i].label())
            .collect::<Vec<_>>()
            .join(", ")
    )
}
