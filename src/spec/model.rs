//! The typed tree spec: what a tree file says, with the position of everything a later
//! stage may need to point at.
//!
//! Built by `spec::parse` from the YAML node tree. Names are not resolved here (a formula's
//! references are still names); `graph::build` resolves and validates them. Keep this file
//! in step with `docs/tree-format.md` and `schemas/tree.schema.json`.

use std::path::PathBuf;

use chrono::TimeDelta;
use chrono_tz::Tz;

use crate::diag::Pos;
use crate::period::Grain;
use crate::spec::formula::Expr;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Located<T> {
    pub fn new(value: T, pos: Pos) -> Located<T> {
        Located { value, pos }
    }
}

/// A whole tree file.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The tree file's path, as given.
    pub path: PathBuf,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub root: Located<String>,
    pub companions: Vec<Located<String>>,
    pub grain: Grain,
    pub timezone: Tz,
    /// How old a period's end must be before the period counts as complete.
    pub maturity: TimeDelta,
    pub owners: Vec<Owner>,
    pub dimensions: Vec<Dimension>,
    pub sources: Vec<Source>,
    pub nodes: Vec<NodeSpec>,
    /// Nodes declared under `nodes:` whose definition has an error (reported): references to
    /// them are not also reported as unknown.
    pub broken_nodes: Vec<String>,
    /// How reports write numbers.
    pub locale: crate::spec::locale::Locale,
    /// Selects the industry ranges nodes with `benchmark:` are compared with.
    pub industry: Option<crate::spec::targets::Industry>,
    /// Where a hosted copy of the reports lives; reports link to it only when set.
    pub report_base_url: Option<String>,
    /// Who `notify` tells, and what a message may carry.
    pub notify: crate::spec::notify::NotifyRules,
    /// Actions shipped on branches, for `impact` (in the tree or in a file beside it).
    pub actions: crate::spec::actions::ActionsDecl,
    /// `players:` factors made of several leaves, split as groups by Shapley (Das Gupta).
    pub players: Vec<PlayerGroup>,
}

impl Spec {
    /// Points every file source at PostgreSQL instead: the table named like the source, in
    /// the database whose connection string is in `$env` (what `metrictree load` writes).
    pub fn files_from_postgres(&mut self, env: &str) {
        for s in &mut self.sources {
            if let SourceKind::File { path, .. } = &s.kind {
                let pos = path.pos;
                s.kind = SourceKind::Postgres {
                    url_env: Located::new(env.to_string(), pos),
                    relation: Relation::Table(Located::new(s.id.clone(), pos)),
                };
            }
        }
    }
}

/// A team that owns nodes, and how to reach it (used by reports and delivery).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Owner {
    pub id: String,
    #[serde(skip)]
    pub pos: Pos,
    pub name: String,
    pub email: Option<String>,
    pub slack: Option<String>,
    pub webhook: Option<String>,
}

/// A named segment dimension (channel, team, ...), mapped to columns per source.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub id: String,
    pub pos: Pos,
    pub label: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Parquet,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// A data file, relative to the tree file (or to `--data-dir`).
    File {
        path: Located<PathBuf>,
        format: FileFormat,
        delimiter: u8,
        has_header: bool,
        /// How to read a messy CSV export (null markers, time formats, duplicates, ...).
        csv: Box<CsvOptions>,
    },
    /// A SQL query over other sources of this tree; it runs where they live.
    Sql { query: Located<String> },
    /// Cases derived from an event log (one row per status or assignment change) of another
    /// source: transfers, escalations, ping-pong, waits and causes, per case.
    EventLog(Box<EventLog>),
    /// A table or query in a PostgreSQL database.
    Postgres {
        /// The environment variable holding the connection string (never the string itself).
        url_env: Located<String>,
        relation: Relation,
    },
}

/// Settings for messy CSV exports. Any of them (or a glob in `file`) makes the engine read
/// the file(s) through `engine::csv_clean`, which reports what it could not read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvOptions {
    /// `delimiter` was not written: detect `,`, `;`, tab or `|` from the header line.
    pub detect_delimiter: bool,
    /// Values read as NULL besides the empty field (`?`, `NA`, `n/a`, ...).
    pub nulls: Vec<String>,
    /// How times are written: `iso`, `day_first`, `month_first`, `epoch_seconds`,
    /// `epoch_millis`, or a chrono pattern such as `%d.%m.%Y %H:%M`. Default: detected.
    pub time_format: Option<Located<String>>,
    /// Columns holding times besides the time column.
    pub timestamps: Vec<Located<String>>,
    /// Columns identifying a row: later rows with a key seen before are dropped, and counted.
    pub key: Vec<Located<String>>,
    /// Bad rows tolerated before reading fails: a share of rows (below 1) or a count.
    pub max_bad_rows: Option<f64>,
}

impl CsvOptions {
    /// Whether the file must be read through the cleaner.
    pub fn any(&self) -> bool {
        !self.nulls.is_empty()
            || self.time_format.is_some()
            || !self.timestamps.is_empty()
            || !self.key.is_empty()
            || self.max_bad_rows.is_some()
    }
}

/// The owner levels an event log may record; a transfer is a change of one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OwnerLevel {
    Agent,
    Team,
    Tier,
    Channel,
}

impl OwnerLevel {
    pub const ALL: [(&'static str, OwnerLevel); 4] = [
        ("agent", OwnerLevel::Agent),
        ("team", OwnerLevel::Team),
        ("tier", OwnerLevel::Tier),
        ("channel", OwnerLevel::Channel),
    ];

    pub fn name(self) -> &'static str {
        OwnerLevel::ALL
            .iter()
            .find(|(_, l)| *l == self)
            .map_or("team", |(n, _)| n)
    }
}

/// An event-log source: which columns of `events` say whose case it is when.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLog {
    /// The source holding the events (a file, PostgreSQL or SQL source).
    pub events: Located<String>,
    /// The case (ticket, conversation, incident) id column.
    pub case: Located<String>,
    /// The event time column.
    pub time: Located<String>,
    /// Owner level → column, in `OwnerLevel` order.
    pub owners: Vec<(OwnerLevel, Located<String>)>,
    /// Tier values from lowest to highest (a move up is an escalation).
    pub tiers: Vec<Located<String>>,
    /// Condition marking the event where an owner picks the case up (ends a queue wait).
    pub pickup: Option<Located<String>>,
    /// Condition marking the event that resolves the case.
    pub resolved: Option<Located<String>>,
    /// Cause rules for transfers, first match wins: (cause, condition).
    pub causes: Vec<(Located<String>, Located<String>)>,
    /// Event columns kept per case, from its first event (for dimensions).
    pub attributes: Vec<Located<String>>,
    /// Event columns kept per case from its last event naming them, as `last_<column>`.
    pub last_attributes: Vec<Located<String>>,
    /// Columns that order a case's events with the same time (before the owner values).
    pub order_by: Vec<Located<String>>,
    /// The share of transfers no cause rule may name before reports warn (W013).
    pub max_unclassified: f64,
}

impl EventLog {
    /// `max_unclassified` when the tree gives none: a tenth of the transfers.
    pub const DEFAULT_MAX_UNCLASSIFIED: f64 = 0.1;
}

/// What a PostgreSQL source reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Relation {
    /// `table` or `schema.table`.
    Table(Located<String>),
    /// One `SELECT`, run inside the database.
    Query(Located<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    pub pos: Pos,
    pub kind: SourceKind,
    /// The column that places a row in a period (for cohorts: the conversation's creation).
    pub time: Located<String>,
    /// Dimension id → column in this source.
    pub dimensions: Vec<(Located<String>, Located<String>)>,
    /// `weight:` the column saying how many conversations a row stands for (pre-aggregated
    /// data): counts, sums, noise and row minimums use it instead of counting rows.
    pub weight: Option<Located<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Number,
    Percent,
    Ratio,
    Seconds,
    Hours,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    Neutral,
}

/// How a formula node splits its change among its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The Aumann–Shapley split along the straight line between the two periods' leaves,
    /// whatever the formula's spelling (closed forms where they exist).
    Auto,
    /// Node-local Shapley over the formula's distinct inputs (Das Gupta for ratios).
    Shapley,
    /// Same as `Auto` (kept for trees that name it).
    AumannShapley,
    /// Node-local log-mean Divisia index (additive LMDI-I) over a product or a sum of
    /// products.
    Lmdi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Count,
    CountDistinct,
    Sum,
    Mean,
    Min,
    Max,
}

impl Agg {
    pub const ALL: [(&'static str, Agg); 6] = [
        ("count", Agg::Count),
        ("count_distinct", Agg::CountDistinct),
        ("sum", Agg::Sum),
        ("mean", Agg::Mean),
        ("min", Agg::Min),
        ("max", Agg::Max),
    ];

    pub fn name(self) -> &'static str {
        Agg::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("count")
    }
}

/// A leaf: an aggregate over one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub source: Located<String>,
    pub agg: Agg,
    /// SQL value expression (a column name in the simplest case); `count` may omit it.
    pub expr: Option<Located<String>>,
    /// SQL boolean filter.
    pub filter: Option<Located<String>>,
}

/// A formula node, whichever way it was written (`formula`, `sum`, `ratio`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// Which key it was written with, for messages and output.
    pub written_as: &'static str,
    pub expr: Expr,
    /// Where the formula text starts in the file, to place carets under references.
    pub pos: Pos,
    /// For `formula:` text: per reference offset → position in the file.
    pub ref_positions: Vec<Pos>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Measure(Measure),
    Formula(Formula),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub id: String,
    pub pos: Pos,
    pub label: String,
    pub description: Option<String>,
    pub unit: Unit,
    pub owner: Option<Located<String>>,
    pub direction: Direction,
    pub target: Option<f64>,
    pub method: Method,
    /// For ratios: the value to use when the denominator is zero, instead of "undefined".
    pub on_zero: Option<f64>,
    /// Dimensions this node is reported by; every leaf under it must map each of them.
    pub dimensions: Vec<Located<String>>,
    pub kind: NodeKind,
    /// What owner reports say about it beyond its value.
    pub reporting: Reporting,
}

/// A node's report settings: the question its owner is asked, its bands, the industry
/// range it is compared with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reporting {
    pub question: Option<crate::spec::question::Question>,
    pub bands: Vec<crate::spec::targets::Band>,
    pub benchmark: Option<crate::spec::targets::Benchmark>,
}

/// A factor that several leaves carry together (`players: {bm: [bm_1, bm_2]}`): the split
/// moves the group's leaves together, as Das Gupta's standardization does.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerGroup {
    pub name: Located<String>,
    pub leaves: Vec<Located<String>>,
}
