//! The command line (clap derive). Each subcommand's doc comment is its `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "metrictree",
    version,
    about = "Metric trees with owners: why did my metric move, and whose branch moved it?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress display on stderr (it is only drawn on a terminal, for reads that take
    /// more than a second).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct TreeArgs {
    /// The tree file (YAML), e.g. trees/handoff.yaml.
    pub tree: PathBuf,
    /// Read each data file by its name from this directory (instead of its path relative to
    /// the tree file).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Read every file source from PostgreSQL instead: from the table named like the source,
    /// in the database whose connection string is in this environment variable (what
    /// `metrictree load` writes).
    #[arg(long, value_name = "VAR", conflicts_with = "data_dir")]
    pub postgres_env: Option<String>,
    #[command(flatten)]
    pub access: AccessArgs,
}

impl TreeArgs {
    /// What the operator allows this run to read and spend.
    pub fn access(&self) -> crate::engine::Access {
        self.access.access(self.data_dir.clone())
    }
}

/// What a tree may read besides its own repository, and what a run may spend. The tree is
/// untrusted; these flags are the operator's.
#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    /// Also let the tree read data files inside DIR (repeatable). A tree reads only inside
    /// its root: the git repository that holds it, or else its own directory.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,
    /// The query engine's memory limit in MiB (64 to 1048576); a query that needs more stops
    /// with a message.
    #[arg(long, value_name = "MIB", default_value_t = crate::engine::access::DEFAULT_MEMORY_MIB,
          value_parser = clap::value_parser!(u64).range(64..=1_048_576))]
    pub memory_limit: u64,
    /// Stop the run's queries after this many seconds (1 to 604800; default: no limit).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub timeout: Option<u64>,
    /// Keep each CSV export as Parquet in DIR after its first read, so later runs do not
    /// parse it again while it is unchanged (default: the METRICTREE_CACHE variable; none).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Run the file sources on an Apache DataFusion Ballista cluster: its scheduler, as
    /// df://HOST:PORT. Executors must read the files at the same absolute paths; only
    /// aggregates come back (docs/distributed.md; needs a build with `--features distributed`).
    #[arg(long, value_name = "URL", value_parser = parse_cluster)]
    pub ballista: Option<crate::engine::cluster::Cluster>,
}

fn parse_cluster(s: &str) -> Result<crate::engine::cluster::Cluster, String> {
    crate::engine::cluster::Cluster::parse(s)
}

impl AccessArgs {
    pub fn access(&self, data_dir: Option<PathBuf>) -> crate::engine::Access {
        crate::engine::Access {
            data_dir,
            allow_paths: self.allow_path.clone(),
            limits: crate::engine::Limits {
                memory_bytes: usize::try_from(self.memory_limit << 20).unwrap_or(usize::MAX),
                timeout: self.timeout.map(std::time::Duration::from_secs),
            },
            cache: crate::engine::csv_cache::dir(self.cache.as_deref()),
            cluster: self.ballista.clone(),
        }
    }
}

/// How `why` looks for segments and judges noise.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Dimensions to split by, comma-separated (default: all the tree declares; `none` for
    /// branches only).
    #[arg(long, value_name = "DIM,...", value_delimiter = ',')]
    pub by: Vec<String>,
    /// The most dimensions combined in one insight (1 to 3).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub depth: u8,
    /// Minimum share of volume (in either period) for a segment to be tested and shown.
    #[arg(long, default_value_t = 0.01, value_name = "SHARE")]
    pub min_support: f64,
    /// Minimum rows (in the larger period) for a segment to be tested and shown.
    #[arg(long, default_value_t = 30, value_name = "ROWS")]
    pub min_count: u64,
    /// Insights shown per node (0 to 100).
    #[arg(long, default_value_t = 3, value_name = "K", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub top: u8,
    /// The false discovery rate controlled over branches and over segments.
    #[arg(long, default_value_t = 0.05, value_name = "RATE")]
    pub fdr: f64,
    /// Periods of history used to estimate over-dispersion (0: binomial/Poisson noise only;
    /// at most 520).
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=520))]
    pub history: u32,
}

/// `why --segments`: which segments the output lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SegmentList {
    Insights,
    All,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a tree file: syntax, references, cycles, owners, dimensions, and (unless
    /// --no-data) the columns and SQL the tree uses against its data. Reports every problem.
    Check {
        #[command(flatten)]
        tree: TreeArgs,
        /// Do not open the data (skip column and SQL checks).
        #[arg(long)]
        no_data: bool,
    },
    /// Evaluate every node for one period (default: the latest complete one).
    Eval {
        #[command(flatten)]
        tree: TreeArgs,
        /// The period, in the tree's grain: 2026-W46, 2026-11 or 2026-11-16.
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// Also show each node per segment of this dimension.
        #[arg(long, value_name = "DIM")]
        by: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain the root's change between a period and a baseline, branch by branch, with owners.
    Why {
        #[command(flatten)]
        tree: TreeArgs,
        /// The period to explain (default: the latest complete one).
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// What to compare with: a period (2026-W40), `ago:N` (N periods back) or
        /// `trailing:N` (the N periods before, pooled). Default: the previous period.
        #[arg(long, value_name = "BASELINE")]
        baseline: Option<String>,
        /// Explain this node (a branch, for its owner) instead of the root.
        #[arg(long, value_name = "NODE")]
        node: Option<String>,
        /// Compare two populations of the period instead of two periods: `team=A,B` explains
        /// how team B's value differs from team A's (same branches, segments and mix/rate;
        /// two-sample tests).
        #[arg(long, value_name = "DIM=A,B", conflicts_with = "baseline")]
        compare: Option<String>,
        #[command(flatten)]
        search: SearchArgs,
        /// Which segments to list per node: the surviving `insights` (and each dimension's
        /// values), or `all` evaluated cells, conjunctions included.
        #[arg(long, value_enum, default_value_t = SegmentList::Insights)]
        segments: SegmentList,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print node values per period (oldest first), read from the data in one pass: for
    /// trends, spreadsheets and the sparklines of `report`.
    History {
        #[command(flatten)]
        tree: TreeArgs,
        /// Only this node (default: every node, the root's tree then the companions).
        #[arg(long, value_name = "NODE")]
        node: Option<String>,
        /// How many periods, ending with --period (1 to 520).
        #[arg(long, default_value_t = 12, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=520))]
        periods: u32,
        /// The last period shown (default: the latest complete one).
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// Also show each node per segment of this dimension.
        #[arg(long, value_name = "DIM")]
        by: Option<String>,
        #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
        format: HistoryFormat,
    },
    /// Check whether each action on a branch moved it: the node in the action's segment
    /// before and after the start, against the rest of the population (difference in
    /// differences), with noise calibrated at earlier dates (see docs/impact.md).
    Impact {
        #[command(flatten)]
        tree: TreeArgs,
        /// Only this action.
        #[arg(long, value_name = "ID")]
        action: Option<String>,
        /// Read the actions from this file instead of the tree's.
        #[arg(long, value_name = "FILE")]
        actions: Option<PathBuf>,
        /// Judge as of this period (default: the latest complete one).
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// Periods before each start compared (1 to 52).
        #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=52))]
        before: u32,
        /// Periods from each start compared, at most (1 to 52).
        #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=52))]
        after: u32,
        /// Fewer periods since the start than this: too early to judge (1 to 52).
        #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=52))]
        min_after: u32,
        #[arg(long, value_enum, default_value_t = ImpactFormat::Text)]
        format: ImpactFormat,
    },
    /// Write the weekly reports: an overview for the root's owner, one report per owner with
    /// only the nodes they are accountable for, and an index, in words and charts.
    Report {
        #[command(flatten)]
        tree: TreeArgs,
        /// The period to report on (default: the latest complete one).
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// What to compare with (as for `why`; default: the previous period).
        #[arg(long, value_name = "BASELINE")]
        baseline: Option<String>,
        /// The directory to write the reports to (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Formats, comma-separated: html, md, txt, json.
        #[arg(
            long,
            value_name = "FORMAT,...",
            value_delimiter = ',',
            default_value = "html,md,txt,json"
        )]
        format: Vec<String>,
        /// Only this owner's report (and the index).
        #[arg(long, value_name = "OWNER")]
        owner: Option<String>,
        /// Templates to use instead of the built-in ones (same names: html/owner.html, ...).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Periods in each trend line (2 to 104).
        #[arg(long, default_value_t = 12, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=104))]
        trend: u32,
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Tell the owners whose branches moved: e-mail, Slack and webhooks, or an outbox
    /// directory. A dry run (who would get what, and why) unless --send; with --send, a
    /// ledger makes every message go out exactly once (see docs/notify.md).
    Notify {
        #[command(flatten)]
        tree: TreeArgs,
        /// The period to report on (default: the latest complete one).
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// What to compare with (as for `why`; default: the previous period).
        #[arg(long, value_name = "BASELINE")]
        baseline: Option<String>,
        /// Deliver (otherwise print what would be delivered).
        #[arg(long)]
        send: bool,
        /// Write each message to this directory (.eml, .json) instead of sending it.
        #[arg(long, value_name = "DIR")]
        outbox: Option<PathBuf>,
        /// The delivery ledger (required with --send; keep it between runs).
        #[arg(long, value_name = "PATH")]
        ledger: Option<PathBuf>,
        /// Show what the ledger records (for --period, or all) and exit.
        #[arg(long)]
        status: bool,
        /// Retries of a transient failure per message (0 to 10).
        #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
        retries: u32,
        /// Templates to use instead of the built-in ones (as for `report`).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Periods in each trend line (2 to 104).
        #[arg(long, default_value_t = 12, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=104))]
        trend: u32,
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Copy a tree's data files into PostgreSQL: each file source becomes the table named like
    /// the source (column types from the file), ready for `--postgres-env`.
    Load {
        /// The tree file (YAML) whose file sources to load.
        tree: PathBuf,
        /// Read each data file by its name from this directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The environment variable holding the connection string of the target database.
        #[arg(long, value_name = "VAR")]
        postgres_env: String,
        /// Replace tables that already exist (otherwise loading stops before touching them).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// Show what a CSV export holds: delimiter, byte-order mark, each column's type or time
    /// format, null markers, rows that do not fit the header (by line), and a few rows.
    Inspect {
        /// The CSV file.
        file: PathBuf,
        /// Rows to show (0 to 1000).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(0..=1000))]
        rows: u16,
    },
    /// Print a JSON Schema: of tree files (default) and actions files, of the JSON of `why`,
    /// `eval`, `history`, `impact` or `report` (which is also what report templates see), or
    /// of the webhook payload.
    Schema {
        #[arg(value_enum, default_value_t = SchemaKind::Tree)]
        kind: SchemaKind,
    },
    /// Generate a deterministic example dataset (conversations, handoffs, planted.json).
    DemoData {
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Conversations in all (1 to 100,000,000).
        #[arg(long, default_value_t = 24_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        conversations: u64,
        /// Number of ISO weeks, ending with the week that contains --end (2 to 520).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(2..=520))]
        weeks: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// The last day of the last complete week (fixed default, not the clock).
        #[arg(long, default_value = "2026-11-15")]
        end: chrono::NaiveDate,
        /// Write a steady process with none of the planted events.
        #[arg(long)]
        no_plants: bool,
        /// Instead, write the wide benchmark dataset: this many dimensions (with its own
        /// tree.yaml; --conversations rows over W45–W46 plus --weeks − 2 weeks of history).
        #[arg(long, value_name = "D", value_parser = clap::value_parser!(u8).range(1..=64))]
        wide_dims: Option<u8>,
        /// Values per dimension of the wide dataset (1 to 10000).
        #[arg(long, default_value_t = 20, value_name = "V", value_parser = clap::value_parser!(u16).range(1..=10_000))]
        wide_values: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Tree,
    Why,
    Eval,
    History,
    Impact,
    Actions,
    Report,
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    Text,
    Csv,
    Json,
}
