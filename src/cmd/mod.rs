//! The subcommands: glue between the command line and the library ([`crate::session`]). Each
//! parses its arguments into a library request, calls it and renders the answer; exit codes
//! come from [`crate::error::Error::exit_code`].

mod check;
mod demo;
mod eval;
mod history;
mod impact;
mod inspect;
mod load;
mod notify;
mod report;
mod why;

use crate::cli::{Cli, Command, SchemaKind, TreeArgs};
use crate::error::Error;
use crate::session::TreeSource;

pub type Outcome = Result<String, Error>;

pub const TREE_SCHEMA: &str = include_str!("../../schemas/tree.schema.json");
pub const WHY_SCHEMA: &str = include_str!("../../schemas/why.schema.json");
pub const EVAL_SCHEMA: &str = include_str!("../../schemas/eval.schema.json");
pub const HISTORY_SCHEMA: &str = include_str!("../../schemas/history.schema.json");
pub const IMPACT_SCHEMA: &str = include_str!("../../schemas/impact.schema.json");
pub const ACTIONS_SCHEMA: &str = include_str!("../../schemas/actions.schema.json");
pub const REPORT_SCHEMA: &str = include_str!("../../schemas/report.schema.json");
pub const WEBHOOK_SCHEMA: &str = include_str!("../../schemas/webhook.schema.json");

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
            compare,
            search,
            segments,
            format,
        } => why::run(why::Why {
            tree: &tree,
            period,
            baseline,
            node,
            compare,
            search: &search,
            every_segment: segments == crate::cli::SegmentList::All,
            format,
        }),
        Command::Impact {
            tree,
            action,
            actions,
            period,
            before,
            after,
            min_after,
            format,
        } => impact::run(impact::Impact {
            tree: &tree,
            action: action.as_deref(),
            actions: actions.as_deref(),
            period: period.as_deref(),
            options: crate::impact::Options {
                before,
                after,
                min_after,
                ..Default::default()
            },
            format,
        }),
        Command::History {
            tree,
            node,
            periods,
            period,
            by,
            format,
        } => history::run(history::History {
            tree: &tree,
            node: node.as_deref(),
            periods,
            period: period.as_deref(),
            by: by.as_deref(),
            format,
        }),
        Command::Report {
            tree,
            period,
            baseline,
            out,
            format,
            owner,
            templates,
            trend,
            search,
        } => report::run(report::Report {
            tree: &tree,
            period,
            baseline,
            out: &out,
            formats: &format,
            owner: owner.as_deref(),
            templates: templates.as_deref(),
            trend_periods: trend,
            search: &search,
        }),
        Command::Notify {
            tree,
            period,
            baseline,
            send,
            outbox,
            ledger,
            status,
            retries,
            templates,
            trend,
            search,
        } => notify::run(notify::Notify {
            tree: &tree,
            period,
            baseline,
            send,
            outbox: outbox.as_deref(),
            ledger: ledger.as_deref(),
            status,
            retries,
            templates: templates.as_deref(),
            trend_periods: trend,
            search: &search,
        }),
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
            SchemaKind::History => HISTORY_SCHEMA,
            SchemaKind::Impact => IMPACT_SCHEMA,
            SchemaKind::Actions => ACTIONS_SCHEMA,
            SchemaKind::Report => REPORT_SCHEMA,
            SchemaKind::Webhook => WEBHOOK_SCHEMA,
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

/// `why`'s request from its arguments (also `report`'s for the root).
fn why_request(
    search: &crate::cli::SearchArgs,
    period: Option<String>,
    baseline: Option<String>,
    node: Option<String>,
    compare: Option<String>,
) -> crate::session::WhyRequest {
    crate::session::WhyRequest {
        period,
        baseline,
        node,
        compare,
        by: search.by.clone(),
        depth: usize::from(search.depth),
        min_support: search.min_support,
        min_count: search.min_count,
        top: usize::from(search.top),
        fdr: search.fdr,
        history: search.history,
    }
}

/// Where a command's tree and data come from, as the library takes it.
fn source(args: &TreeArgs) -> TreeSource<'_> {
    TreeSource {
        tree: &args.tree,
        postgres_env: args.postgres_env.as_deref(),
        access: args.access(),
    }
}
