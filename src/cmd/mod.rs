//! The subcommands: glue between the CLI and the library stages. Exit codes: 0 ok; 1 the tree
//! does not check — its text, or the data it names (a missing file, an unknown column, too
//! many bad rows), located in the tree file; 2 a problem at run time (periods, undefined
//! values, arguments, limits, a failing query or connection).

mod check;
mod demo;
mod eval;
mod inspect;
mod load;
mod why;

use std::path::Path;

use crate::cli::{Cli, Command, SchemaKind, TreeArgs};
use crate::diag::Report;
use crate::engine::Engine;
use crate::graph::MetricGraph;
use crate::report::style::Styles;

/// A command's failure: what to print on stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn invalid(message: String) -> Failure {
        Failure { code: 1, message }
    }

    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            // May quote tree, data or engine text: escaped (see `text`).
            message: format!("error: {}", crate::text::escape_lines(&message.into())),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::runtime(format!("{e:#}"))
    }
}

pub type Outcome = Result<String, Failure>;

pub const TREE_SCHEMA: &str = include_str!("../../schemas/tree.schema.json");
pub const WHY_SCHEMA: &str = include_str!("../../schemas/why.schema.json");
pub const EVAL_SCHEMA: &str = include_str!("../../schemas/eval.schema.json");

/// Runs a parsed command line; returns stdout text, or a failure.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Check { tree, no_data } => check::run(&tree, no_data),
        Command::Eval {
            tree,
            period,
            by,
            format,
        } => eval::run(&tree, period.as_deref(), by.as_deref(), format),
        Command::Why {
            tree,
            period,
            baseline,
            node,
            search,
            format,
        } => why::run(
            &tree,
            period.as_deref(),
            baseline.as_deref(),
            node.as_deref(),
            &search,
            format,
        ),
        Command::Load {
            tree,
            data_dir,
            postgres_env,
            replace,
            access,
        } => load::run(&tree, &access.access(data_dir), &postgres_env, replace),
        Command::Inspect { file, rows } => inspect::run(&file, usize::from(rows)),
        Command::Schema { kind } => Ok(match kind {
            SchemaKind::Tree => TREE_SCHEMA,
            SchemaKind::Why => WHY_SCHEMA,
            SchemaKind::Eval => EVAL_SCHEMA,
        }
        .to_string()),
        Command::DemoData {
            out,
            conversations,
            weeks,
            seed,
            end,
            no_plants,
            wide_dims,
            wide_values,
        } => match wide_dims {
            Some(dims) => demo::wide(
                &out,
                conversations,
                usize::from(dims),
                usize::from(wide_values),
                weeks,
            ),
            None => demo::run(&out, conversations, weeks, seed, end, !no_plants),
        },
    }
}

/// Reads and validates the tree of `args`, printing nothing; with `--postgres-env`, its file
/// sources read PostgreSQL tables instead. Errors render all diagnostics.
pub fn load_tree(args: &TreeArgs) -> Result<(MetricGraph, Report), Failure> {
    let (mut g, report) = load(&args.tree)?;
    if let Some(env) = &args.postgres_env {
        if !crate::spec::parse::is_env_name(env) {
            return Err(Failure::runtime(
                "--postgres-env takes the name of an environment variable (e.g. SUPPORT_DATABASE_URL), not the connection string itself",
            ));
        }
        g.spec.files_from_postgres(env);
    }
    Ok((g, report))
}

/// The text of a tree file. A file that is not UTF-8 is an invalid tree (exit 1) whose
/// message points at the first bad byte.
pub fn read_tree(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::runtime(format!("cannot read tree file `{}`: {e}", path.display()))
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
                crate::diag::Diagnostic::error(
                    "E001",
                    format!(
                        "the tree file is not UTF-8: byte 0x{:02x} at line {line}, column {col}",
                        bytes[at]
                    ),
                )
                .at(crate::diag::Pos::new(line, col, 1))
                .help("save the file as UTF-8 (editors call it \"UTF-8\" or \"Unicode\"); the byte is shown as � above"),
            );
            Err(Failure::invalid(render_failure(&report)))
        }
    }
}

/// Reads and validates a tree file, printing nothing. Errors render all diagnostics.
pub fn load(path: &Path) -> Result<(MetricGraph, Report), Failure> {
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
    match graph {
        Some(g) if !report.has_errors() => Ok((g, report)),
        _ => Err(Failure::invalid(render_failure(&report))),
    }
}

/// Registers the data; any problem with it is an invalid-tree failure with diagnostics.
pub fn open_engine(
    g: &MetricGraph,
    report: &Report,
    access: &crate::engine::Access,
) -> Result<Engine, Failure> {
    let (engine, diags) = Engine::open(g, access);
    let (errors, warnings): (Vec<_>, Vec<_>) = diags.into_iter().partition(|d| d.is_error());
    if errors.is_empty() {
        // What reading the data found (rows left out, duplicates, assumptions).
        print_warnings(report, warnings);
        return Ok(engine);
    }
    let mut r = report.clone();
    r.items.retain(|d| d.is_error());
    r.extend(errors);
    r.sort();
    Err(Failure::invalid(render_failure(&r)))
}

/// Prints warnings found while running (about the data, not the tree's text) on stderr,
/// against the tree's source lines.
pub fn print_warnings(report: &Report, warnings: Vec<crate::diag::Diagnostic>) {
    if warnings.is_empty() {
        return;
    }
    let mut w = Report::new(&report.path, &report.text);
    w.extend(warnings);
    eprint!("{}", w.render(Styles::for_stderr().enabled()));
}

fn render_failure(report: &Report) -> String {
    let st = Styles::for_stderr();
    let mut s = report.render(st.enabled());
    s.push_str(&format!(
        "{}: {} error(s) in {}; run `metrictree check {}` after fixing them",
        if st.enabled() {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        },
        report.errors(),
        crate::text::escape(&report.path.display().to_string()),
        crate::text::escape(&report.path.display().to_string())
    ));
    s
}

/// The period asked for, or the latest complete one; warns on stderr about partial periods.
pub fn resolve_period(
    g: &MetricGraph,
    report: &Report,
    engine: &Engine,
    asked: Option<&str>,
) -> Result<(crate::period::Period, crate::eval::DataExtent, bool), Failure> {
    use crate::eval::Completeness;
    let (extent, warnings) =
        crate::eval::data_extent(g, engine).map_err(|e| Failure::runtime(e.to_string()))?;
    print_warnings(report, warnings);
    let extent = extent.ok_or_else(|| Failure::runtime("the tree's sources hold no rows"))?;
    let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
    let period = match asked {
        Some(label) => crate::period::Period::parse(label, g.spec.grain).map_err(|e| Failure::runtime(e.to_string()))?,
        None => crate::eval::default_period(g, &extent).ok_or_else(|| {
            Failure::runtime(format!(
                "the data holds no complete {} yet (it runs from {} to {}, and the tree's maturity is {}h); pass --period to look at a partial one",
                g.spec.grain.name(),
                fmt(extent.first),
                fmt(extent.last),
                g.spec.maturity.num_hours()
            ))
        })?,
    };
    let completeness = extent.completeness(&period, g.spec.maturity);
    match completeness {
        Completeness::Complete => {}
        Completeness::Partial => eprintln!(
            "warning: {} is partial: the data ends {} and outcomes need {}h to mature after the period's end; its values may still move",
            period.label(),
            fmt(extent.last),
            g.spec.maturity.num_hours()
        ),
        Completeness::Outside => eprintln!(
            "warning: {} lies outside the data ({} to {})",
            period.label(),
            fmt(extent.first),
            fmt(extent.last)
        ),
    }
    Ok((period, extent, completeness == Completeness::Complete))
}

/// Checks `--by`/`--node` style names against the tree, with a suggestion.
pub fn known_dimension(g: &MetricGraph, dim: &str) -> Result<(), Failure> {
    if g.spec.dimensions.iter().any(|d| d.id == dim) {
        return Ok(());
    }
    let ids = g.spec.dimensions.iter().map(|d| d.id.as_str());
    Err(Failure::runtime(format!(
        "unknown dimension `{dim}`: {}",
        crate::diag::did_you_mean(dim, ids, "dimensions")
    )))
}
