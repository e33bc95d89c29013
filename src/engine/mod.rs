//! The query engines: the only module that runs SQL. Apache DataFusion over files, embedded;
//! PostgreSQL over the network ([`postgres`]).
//!
//! Input: the graph (its sources) and an optional data directory. It registers every file
//! source (CSV, Parquet, JSON lines), connects to the databases PostgreSQL sources name, and
//! registers every SQL source in dependency order where its inputs live ([`Backend`]: a SQL
//! source never mixes files and a database). It detects how each time column relates to the
//! tree's zone ([`TimeMode`]), checks that the columns the tree names exist, and runs the
//! queries that `sql` renders, returning plain rows. For a PostgreSQL source the whole
//! aggregation runs in the database and only aggregates come back.

pub mod access;
mod bad_weights;
mod check;
pub mod cluster;
pub mod csv_cache;
pub mod csv_clean;
pub mod dense;
pub mod exact_sum;
pub mod fingerprint;
pub mod inspect;
pub mod load;
pub mod postgres;
pub mod progress;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::*;

use crate::diag::Diagnostic;
use crate::graph::MetricGraph;
use crate::plan::{Aggregate, SourcePlan, TimeMode};
use crate::spec::model::{FileFormat, Relation, Source, SourceKind};
use crate::spec::sql_query::{CheckedQuery, Scope};

pub use access::{Access, Limits, Reach};
pub use check::{check_measures, check_pushdown};
use postgres::{Database, Problem};

/// Where a source's rows live and its queries run.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// Files, read by the embedded DataFusion engine.
    Files,
    /// A PostgreSQL database (`Engine::databases[db]`). `ctes` names, in order, the relations
    /// the source reads and the source itself (last): the `WITH` clauses of its statements.
    Postgres {
        db: usize,
        ctes: Vec<(String, String)>,
    },
}

/// What the engine learned about one source.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub schema: Arc<Schema>,
    pub time_mode: TimeMode,
    /// The file read, for file sources.
    pub file: Option<PathBuf>,
    /// For a CSV read as it is (not through the cleaner): its delimiter and whether it has a
    /// header row, so a bad row can be named by its line.
    pub csv: Option<(u8, bool)>,
    pub backend: Backend,
}

/// A query failure, with the SQL for debugging.
#[derive(Debug, thiserror::Error)]
#[error("query on source `{source_id}` failed: {message}")]
pub struct QueryError {
    pub source_id: String,
    pub message: String,
    pub sql: String,
}

pub struct Engine {
    ctx: SessionContext,
    rt: tokio::runtime::Runtime,
    /// Per source (same order as the spec); `None` when it could not be registered.
    pub info: Vec<Option<SourceInfo>>,
    /// Open PostgreSQL connections, one per connection-string variable.
    pub databases: Vec<Database>,
    /// Variables whose connection failed, with the failure (reported once per source).
    failed: Vec<(String, Problem)>,
    /// Where cleaned CSV files are written (removed when the engine is dropped).
    scratch: Option<PathBuf>,
    /// The CSV cache directory, if the operator gave one ([`csv_cache`]).
    cache: Option<PathBuf>,
    /// Whether held rows are aggregated by [`dense`] (else by SQL, as for a database; set
    /// `METRICTREE_AGGREGATE=sql` to compare the two: the tests show the same bytes).
    dense: bool,
    /// Where the tree may read files.
    pub reach: Reach,
    /// The Ballista cluster the context sends its queries to, if any ([`cluster`]).
    cluster: Option<cluster::Cluster>,
    /// When every query of this run must have finished.
    deadline: Option<std::time::Instant>,
    /// The tables kept in memory, by table name: their rows (which [`dense`] aggregates)
    /// and the memory reserved for them.
    held: std::sync::Mutex<Vec<Held>>,
    /// How many times a source's rows were read (see [`Engine::source_reads`]).
    reads: std::sync::atomic::AtomicUsize,
    /// The in-memory tables and the query that filled each: the same rows are not read twice
    /// (a report explains the root and each companion over the same periods).
    loaded: std::sync::Mutex<Vec<(String, String)>>,
}

/// A table kept in memory: its name, its rows and the memory reserved for them.
type Held = (
    String,
    Arc<Vec<RecordBatch>>,
    datafusion::execution::memory_pool::MemoryReservation,
);

/// The query a SQL or event-log source runs.
enum SourceQuery {
    /// An author's `sql:`, checked: what runs is rendered from its syntax tree.
    Author(Box<CheckedQuery>),
    /// An event log's derivation, written by `sql::event_log`; it reads `events`.
    Derived { sql: String, events: String },
}

impl SourceQuery {
    /// The relations (source ids) the query reads.
    fn inputs(&self) -> Vec<String> {
        match self {
            SourceQuery::Author(q) => q.relations().to_vec(),
            SourceQuery::Derived { events, .. } => vec![events.clone()],
        }
    }

    /// The query as SQL text, for a database.
    fn text(&self) -> String {
        match self {
            SourceQuery::Author(q) => q.render(),
            SourceQuery::Derived { sql, .. } => sql.clone(),
        }
    }
}

/// Statements the file engine accepts: queries only. DDL (`CREATE EXTERNAL TABLE`), DML
/// (`COPY`, `INSERT`) and statements (`SET`) are refused even if one got past the allow-list (`spec::sql_query`).
fn read_only() -> datafusion::execution::context::SQLOptions {
    datafusion::execution::context::SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(d) = &self.scratch {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A result table as plain values.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    data: Vec<ArrayRef>,
    pub len: usize,
}

impl Rows {
    fn col(&self, name: &str) -> Option<&ArrayRef> {
        self.column(name).map(|i| &self.data[i])
    }

    /// A column's position, for the `*_at` accessors.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A numeric cell by column position (`None` for NULL or no such column).
    pub fn f64_at(&self, col: Option<usize>, row: usize) -> Option<f64> {
        let a = &self.data[col?];
        if a.is_null(row) {
            return None;
        }
        Some(a.as_primitive::<Float64Type>().value(row))
    }

    /// A text cell by column position.
    pub fn text_at(&self, col: Option<usize>, row: usize) -> Option<String> {
        let a = &self.data[col?];
        if a.is_null(row) {
            return None;
        }
        Some(a.as_string::<i32>().value(row).to_string())
    }

    /// A numeric cell (`None` for NULL or a missing column).
    pub fn f64(&self, name: &str, row: usize) -> Option<f64> {
        let a = self.col(name)?;
        if a.is_null(row) {
            return None;
        }
        Some(a.as_primitive::<Float64Type>().value(row))
    }

    /// A text cell (`None` for NULL).
    pub fn text(&self, name: &str, row: usize) -> Option<String> {
        let a = self.col(name)?;
        if a.is_null(row) {
            return None;
        }
        Some(a.as_string::<i32>().value(row).to_string())
    }

    /// Rows from columns of Float64 or Utf8 arrays, all `len` long.
    pub fn from_arrays(columns: Vec<String>, data: Vec<ArrayRef>, len: usize) -> Rows {
        Rows { columns, data, len }
    }

    fn from_batches(batches: Vec<RecordBatch>) -> Result<Rows, String> {
        let Some(first) = batches.first() else {
            return Ok(Rows::default());
        };
        let schema = first.schema();
        let batch = datafusion::arrow::compute::concat_batches(&schema, &batches)
            .map_err(|e| e.to_string())?;
        let mut rows = Rows {
            len: batch.num_rows(),
            ..Rows::default()
        };
        for (f, a) in schema.fields().iter().zip(batch.columns()) {
            let target = match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
                DataType::Dictionary(_, v)
                    if matches!(
                        **v,
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    ) =>
                {
                    DataType::Utf8
                }
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => DataType::Utf8,
                _ => DataType::Float64,
            };
            let a = cast(a, &target).map_err(|e| e.to_string())?;
            rows.columns.push(f.name().clone());
            rows.data.push(a);
        }
        Ok(rows)
    }
}

impl Engine {
    /// Registers every source of the tree. Problems (missing files, bad SQL sources, time
    /// columns that are not timestamps) come back as diagnostics; the engine is still usable
    /// for the sources that registered.
    pub fn open(graph: &MetricGraph, access: &Access) -> (Engine, Vec<Diagnostic>) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2),
            )
            .enable_all()
            .build()
            .expect("the tokio runtime starts");
        let mut config = SessionConfig::new().with_information_schema(false);
        // Tuning knobs; the results do not depend on them (sums are exact, cells ordered).
        let knob = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| (1..=1 << 20).contains(n))
        };
        if let Some(n) = knob("METRICTREE_TARGET_PARTITIONS") {
            config = config.with_target_partitions(n);
        }
        if let Some(n) = knob("METRICTREE_BATCH_SIZE") {
            config = config.with_batch_size(n);
        }
        // Our own SQL is tokenized as the allow-list tokenized the author's: one dialect.
        config.options_mut().sql_parser.dialect = datafusion::config::Dialect::PostgreSQL;
        let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_memory_limit(access.limits.memory_bytes, 1.0)
            .build_arc()
            .expect("the runtime environment builds");
        let (ctx, unreachable) = match &access.cluster {
            None => (SessionContext::new_with_config_rt(config, runtime), None),
            Some(c) => match rt.block_on(cluster::connect(c, config.clone(), runtime.clone())) {
                Ok(ctx) => (ctx, None),
                Err(e) => (
                    SessionContext::new_with_config_rt(config, runtime),
                    Some(
                        Diagnostic::error("E051", format!("cannot run on {}: {e}", c.label()))
                            .help("start the scheduler and its executors (docs/distributed.md), or check --ballista"),
                    ),
                ),
            },
        };
        ctx.register_udaf(exact_sum::udaf());
        let mut engine = Engine {
            ctx,
            rt,
            info: vec![None; graph.spec.sources.len()],
            databases: Vec::new(),
            failed: Vec::new(),
            scratch: None,
            cache: access.cache.clone(),
            dense: std::env::var("METRICTREE_AGGREGATE").as_deref() != Ok("sql"),
            reach: Reach::new(&graph.spec.path, access),
            cluster: access.cluster.clone(),
            deadline: access.limits.timeout.map(|t| std::time::Instant::now() + t),
            held: std::sync::Mutex::new(Vec::new()),
            reads: std::sync::atomic::AtomicUsize::new(0),
            loaded: std::sync::Mutex::new(Vec::new()),
        };
        if let Some(d) = unreachable {
            return (engine, vec![d]);
        }
        // On a cluster, cleaned copies of messy exports go where the executors read them.
        if let (Some(_), Some(dir)) = (&engine.cluster, &engine.cache) {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            // Shared by many machines: the name holds the process, the time and a random
            // part, so two runs (even with the same process id elsewhere) never share it.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let salt = {
                use std::hash::{BuildHasher as _, Hasher as _};
                // The standard library seeds each `RandomState` from the operating system.
                std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish()
            };
            engine.scratch = Some(dir.join(format!(
                "metrictree-cleaned-{}-{nanos}-{salt:016x}",
                std::process::id()
            )));
        }
        let diags = engine.register_all(graph, access.data_dir.as_deref());
        (engine, diags)
    }

    /// Runs a future on the engine's runtime, bounded by the run's time limit.
    fn block<T>(
        &self,
        f: impl std::future::Future<Output = datafusion::error::Result<T>>,
    ) -> datafusion::error::Result<T> {
        match self.deadline {
            None => self.rt.block_on(f),
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                self.rt
                    .block_on(async { tokio::time::timeout(left, f).await })
                    .unwrap_or_else(|_| {
                        Err(datafusion::error::DataFusionError::Execution(
                            "the run's time limit (--timeout) was reached; raise it, or narrow the tree's data".into(),
                        ))
                    })
            }
        }
    }

    /// Plans and runs one of our own statements (read-only).
    async fn run_sql(&self, sql: &str) -> datafusion::error::Result<DataFrame> {
        self.ctx.sql_with_options(sql, read_only()).await
    }

    fn register_all(&mut self, graph: &MetricGraph, data_dir: Option<&Path>) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let base = graph
            .spec
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let sources = &graph.spec.sources;
        for (i, s) in sources.iter().enumerate() {
            if let SourceKind::File {
                path,
                format,
                delimiter,
                has_header,
                csv,
            } = &s.kind
            {
                // With --data-dir, each file is read by its name from that directory.
                let mut file = match (data_dir, path.value.file_name()) {
                    (Some(d), Some(name)) => d.join(name),
                    _ => base.join(&path.value),
                };
                let (mut delimiter, mut has_header) = (*delimiter, *has_header);
                let messy = *format == FileFormat::Csv && (csv.any() || csv_clean::is_glob(&file));
                if !messy {
                    match self.reach.file(&file) {
                        Ok(f) if std::fs::metadata(&f).is_ok_and(|m| m.len() == 0) => {
                            diags.push(
                                Diagnostic::error(
                                    "E030",
                                    format!(
                                        "source `{}`: data file `{}` is empty",
                                        s.id,
                                        crate::text::escape(&path.value.display().to_string())
                                    ),
                                )
                                .at(path.pos)
                                .subject(format!("source `{}`", s.id))
                                .help("export the data again: a CSV needs at least its header row"),
                            );
                            continue;
                        }
                        Ok(f) => file = f,
                        Err(p) => {
                            let (message, help) = p.message(&self.reach.root);
                            diags.push(
                                Diagnostic::error("E030", format!("source `{}`: {message}", s.id))
                                    .at(path.pos)
                                    .subject(format!("source `{}`", s.id))
                                    .help(help),
                            );
                            continue;
                        }
                    }
                }
                if messy {
                    if let Some(d) = self.cleaner_off_cluster(s) {
                        diags.push(d);
                        continue;
                    }
                    match self.clean_csv(s, &file, csv, delimiter, has_header) {
                        Ok((clean, ds)) => {
                            diags.extend(ds);
                            file = clean;
                            (delimiter, has_header) = (b',', true);
                        }
                        Err(d) => {
                            diags.push(*d);
                            continue;
                        }
                    }
                }
                if *format == FileFormat::Csv
                    && has_header
                    && let Some(m) = csv_clean::read_header(&file, delimiter)
                        .and_then(|h| csv_clean::duplicate_header(&h, &file))
                {
                    diags.push(
                        Diagnostic::error("E039", format!("source `{}`: {m}", s.id))
                            .at(path.pos)
                            .subject(format!("source `{}`", s.id))
                            .help("each column of a CSV export needs its own name"),
                    );
                    continue;
                }
                let mut info = self.register_file(s, &file, *format, delimiter, has_header, messy);
                // Read through the cleaner instead: a file the engine cannot read as CSV
                // (ragged rows, an unclosed quote, bytes that are not UTF-8, mixed delimiters;
                // the cleaner names each bad row by line and applies `max_bad_rows`), and times
                // the engine does not recognise (`2016-03-01 10:00`, day first, epoch numbers),
                // which come in as text (the cleaner detects the format and says what it
                // assumed).
                let text_time = |info: &SourceInfo| {
                    info.schema
                        .field_with_name(&s.time.value)
                        .is_ok_and(|f| !is_time_type(f.data_type()))
                };
                if *format == FileFormat::Csv
                    && !messy
                    && (info.is_err() || info.as_ref().is_ok_and(text_time))
                {
                    let _ = self.ctx.deregister_table(&s.id);
                    if let Some(d) = self.cleaner_off_cluster(s) {
                        diags.push(d);
                        continue;
                    }
                    info = match self.clean_csv(s, &file, csv, delimiter, has_header) {
                        Ok((clean, ds)) => {
                            diags.extend(ds);
                            self.register_file(s, &clean, *format, b',', true, true)
                        }
                        Err(d) => Err(d),
                    };
                }
                match info {
                    Ok(info) => {
                        // A CSV read as it is (not cleaned), through the cache if there is
                        // one. Best effort: without a usable copy the CSV stays as it is.
                        // (Not on a cluster: the executors read the files themselves.)
                        if let (Some(dir), Some((delimiter, has_header)), Some(file), None) = (
                            self.cache.clone(),
                            info.csv,
                            info.file.clone(),
                            &self.cluster,
                        ) {
                            let _ = self.read_through_cache(
                                &s.id,
                                &file,
                                delimiter,
                                has_header,
                                &info.schema,
                                &dir,
                            );
                        }
                        self.info[i] = Some(info)
                    }
                    Err(d) => diags.push(*d),
                }
            }
        }
        for (i, s) in sources.iter().enumerate() {
            if let SourceKind::Postgres { url_env, relation } = &s.kind {
                if let Some(c) = &self.cluster {
                    diags.push(
                        Diagnostic::error(
                            "E051",
                            format!(
                                "source `{}` reads PostgreSQL, which does not run on {}",
                                s.id,
                                c.label()
                            ),
                        )
                        .at(url_env.pos)
                        .subject(format!("source `{}`", s.id))
                        .help("run this tree without --ballista (PostgreSQL aggregates in the database already), or export the table to Parquet on storage the executors read (docs/distributed.md)"),
                    );
                    continue;
                }
                match self.register_postgres(s, &url_env.value, relation) {
                    Ok(info) => self.info[i] = Some(info),
                    Err(p) => diags.push(
                        Diagnostic::error(p.code, format!("source `{}`: {}", s.id, p.message))
                            .at(match relation {
                                Relation::Query(q) if p.code == "E033" => q.pos,
                                Relation::Table(t) if p.code == "E031" => t.pos,
                                _ => url_env.pos,
                            })
                            .subject(format!("source `{}`", s.id))
                            .help(p.help),
                    ),
                }
            }
        }
        // SQL sources may refer to each other: register those whose inputs are ready, repeatedly.
        let mut pending: Vec<usize> = (0..sources.len())
            .filter(|&i| {
                matches!(
                    sources[i].kind,
                    SourceKind::Sql { .. } | SourceKind::EventLog(_)
                )
            })
            .collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut last_errors = Vec::new();
            pending.retain(|&i| {
                let query = match self.query_of(&sources[i], sources) {
                    None => return false,
                    Some(Ok(q)) => q,
                    Some(Err(e)) => {
                        last_errors.push((i, e, Vec::new()));
                        return true;
                    }
                };
                match self.register_sql_where_inputs_live(&sources[i], &query, sources) {
                    Ok(info) => {
                        self.info[i] = Some(info);
                        false
                    }
                    Err(e) => {
                        last_errors.push((i, e, query.inputs()));
                        true
                    }
                }
            });
            if pending.len() == before {
                for (i, e, inputs) in last_errors {
                    let s = &sources[i];
                    let pos = match &s.kind {
                        SourceKind::Sql { query } => query.pos,
                        SourceKind::EventLog(el) => el.events.pos,
                        _ => continue,
                    };
                    let missing = sources
                        .iter()
                        .enumerate()
                        .filter(|(j, o)| self.info[*j].is_none() && inputs.contains(&o.id))
                        .map(|(_, o)| format!("`{}`", o.id))
                        .collect::<Vec<_>>();
                    let help = if missing.is_empty() {
                        "fix the query; it runs in DataFusion's PostgreSQL-like SQL over the other sources by id".to_string()
                    } else {
                        format!(
                            "it reads {}, which could not be registered (see the other errors, or a cycle between SQL sources)",
                            missing.join(", ")
                        )
                    };
                    diags.push(
                        Diagnostic::error(
                            "E033",
                            format!(
                                "SQL source `{}` does not run: {}",
                                s.id,
                                crate::text::quote(&e)
                            ),
                        )
                        .at(pos)
                        .subject(format!("source `{}`", s.id))
                        .help(help),
                    );
                }
                break;
            }
        }
        for (i, s) in sources.iter().enumerate() {
            if let Some(info) = &self.info[i] {
                diags.extend(check::check_columns(s, &info.schema));
            }
        }
        diags.extend(self.event_log_ties(sources));
        diags
    }

    /// W016 for each event log whose results depend on the order of events at the same
    /// time (no `order_by`, two owners at one time in some case).
    fn event_log_ties(&self, sources: &[Source]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            let SourceKind::EventLog(el) = &s.kind else {
                continue;
            };
            let (Some(sql), Some(_)) = (crate::sql::event_log::ties(el), &self.info[i]) else {
                continue;
            };
            let Some(j) = sources.iter().position(|o| o.id == el.events.value) else {
                continue;
            };
            let rows = match self.info[j].as_ref().map(|x| &x.backend) {
                Some(Backend::Postgres { db, ctes }) => {
                    self.pg_query(*db, &s.id, &crate::sql::with_ctes(ctes, &sql), &[])
                }
                Some(Backend::Files) => self.query(&s.id, &sql),
                None => continue,
            };
            let tied = rows.ok().and_then(|r| r.f64("cases", 0)).unwrap_or(0.0);
            if tied > 0.0 {
                out.push(
                    Diagnostic::warning(
                        "W016",
                        format!(
                            "source `{}`: in {tied} case(s), events at the same time name different owners, so their order decides transfers, ping-pong and first owners",
                            s.id
                        ),
                    )
                    .at(el.time.pos)
                    .subject(format!("source `{}`", s.id))
                    .help("add `order_by: [COLUMN]` to the event log: a sequence number or modification counter of the export (without it, ties are broken by the owner values)"),
                );
            }
        }
        out
    }

    /// On a cluster, the error for a source that needs the local CSV cleaner when no
    /// `--cache DIR` says where executors can read the cleaned copy.
    fn cleaner_off_cluster(&self, s: &Source) -> Option<Diagnostic> {
        let c = self.cluster.as_ref()?;
        if self.cache.is_some() {
            return None;
        }
        let pos = match &s.kind {
            SourceKind::File { path, .. } => path.pos,
            _ => s.time.pos,
        };
        Some(
            Diagnostic::error(
                "E051",
                format!(
                    "source `{}` needs metrictree's CSV cleaner (its `time_format`, `key`, `nulls` or a glob, or rows or times DataFusion cannot read as they are), which runs here, not on {}",
                    s.id,
                    c.label()
                ),
            )
            .at(pos)
            .subject(format!("source `{}`", s.id))
            .help("pass --cache DIR on storage every executor reads (the cleaned copy is written there for them), or convert the export to Parquet (docs/distributed.md)"),
        )
    }

    /// Reads a messy CSV source (see `csv_clean`) into a clean file in the engine's scratch
    /// directory; returns it with what reading found, as diagnostics.
    fn clean_csv(
        &mut self,
        s: &Source,
        file: &Path,
        opts: &crate::spec::model::CsvOptions,
        delimiter: u8,
        has_header: bool,
    ) -> Result<(PathBuf, Vec<Diagnostic>), Box<Diagnostic>> {
        let SourceKind::File { path, .. } = &s.kind else {
            unreachable!("file source")
        };
        let at = |d: Diagnostic| d.at(path.pos).subject(format!("source `{}`", s.id));
        let files = if csv_clean::is_glob(file) {
            self.reach.glob(file)
        } else {
            self.reach.file(file).map(|f| vec![f])
        }
        .map_err(|p| {
            let (message, help) = p.message(&self.reach.root);
            Box::new(at(Diagnostic::error(
                "E030",
                format!("source `{}`: {message}", s.id),
            )
            .help(help)))
        })?;
        let dir = self.scratch.get_or_insert_with(|| {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            std::env::temp_dir().join(format!(
                "metrictree-{}-{}",
                std::process::id(),
                N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            ))
        });
        let _ = std::fs::create_dir_all(&*dir);
        let out = dir.join(format!("{}.csv", s.id));
        let mut time_columns = vec![s.time.value.clone()];
        time_columns.extend(opts.timestamps.iter().map(|t| t.value.clone()));
        let r = csv_clean::clean(&files, opts, delimiter, has_header, &time_columns, &out)
            .map_err(|e| {
                Box::new(at(Diagnostic::error(
                    "E039",
                    format!("source `{}`: {e}", s.id),
                )
                .help("fix the export where the message says, or describe it in the source (`delimiter`, `time_format`, `nulls`; see docs/tree-format.md, Messy CSV)")))
            })?;
        let mut diags = Vec::new();
        let where_ = |b: &csv_clean::BadRow| {
            if files.len() > 1 {
                format!("{}:{}", b.file.display(), b.line)
            } else {
                format!("line {}", b.line)
            }
        };
        if r.bad_count > 0 {
            let limit = opts.max_bad_rows.unwrap_or(0.01);
            let allowed = if limit < 1.0 {
                (limit * r.rows_read as f64).floor() as u64
            } else {
                limit as u64
            };
            let share = 100.0 * r.bad_count as f64 / r.rows_read.max(1) as f64;
            let mut d = if r.bad_count > allowed {
                Diagnostic::error(
                    "E039",
                    format!(
                        "source `{}`: {} of {} rows ({share:.2}%) cannot be read, more than `max_bad_rows` allows ({allowed})",
                        s.id, r.bad_count, r.rows_read
                    ),
                )
                .help("fix the export, or raise `max_bad_rows` (a share below 1, or a count) to read the rest")
            } else {
                Diagnostic::warning(
                    "W010",
                    format!(
                        "source `{}`: {} of {} rows ({share:.2}%) cannot be read and are left out",
                        s.id, r.bad_count, r.rows_read
                    ),
                )
                .help("the notes list them (the first 20); fix the export or the source's settings (`delimiter`, `nulls`, `time_format`) to read them")
            };
            for b in &r.bad {
                d = d.note(format!("{}: {}", where_(b), b.reason));
            }
            if r.bad_count as usize > r.bad.len() {
                d = d.note(format!(
                    "... and {} more",
                    r.bad_count as usize - r.bad.len()
                ));
            }
            diags.push(at(d));
        }
        if r.duplicate_count > 0 {
            let keys: Vec<&str> = opts.key.iter().map(|k| k.value.as_str()).collect();
            let mut d = Diagnostic::warning(
                "W011",
                format!(
                    "source `{}`: {} duplicate rows by key ({}) were dropped; {} rows remain",
                    s.id,
                    r.duplicate_count,
                    keys.join(", "),
                    r.rows_written
                ),
            );
            for (f, line, first) in &r.duplicates {
                let here = if files.len() > 1 {
                    format!("{}:{line}", f.display())
                } else {
                    format!("line {line}")
                };
                d = d.note(format!("{here} repeats {first}"));
            }
            diags.push(at(d));
        }
        if !r.assumed.is_empty() {
            let mut d = Diagnostic::warning(
                "W012",
                format!("source `{}`: read with assumptions", s.id),
            )
            .help("write them in the source (`delimiter`, `time_format`) to make them explicit");
            for a in &r.assumed {
                d = d.note(a.clone());
            }
            diags.push(at(d));
        }
        if diags.iter().any(Diagnostic::is_error) {
            let (errors, rest): (Vec<_>, Vec<_>) =
                diags.into_iter().partition(Diagnostic::is_error);
            let mut e = errors.into_iter().next().expect("an error");
            for r in rest {
                e = e.note(r.message);
            }
            return Err(Box::new(e));
        }
        Ok((out, diags))
    }

    fn register_file(
        &mut self,
        s: &Source,
        file: &Path,
        format: FileFormat,
        delimiter: u8,
        has_header: bool,
        cleaned: bool,
    ) -> Result<SourceInfo, Box<Diagnostic>> {
        let SourceKind::File { path, .. } = &s.kind else {
            unreachable!("file source")
        };
        if !file.is_file() {
            return Err(Box::new(Diagnostic::error(
                "E030",
                format!("data file `{}` of source `{}` does not exist", file.display(), s.id),
            )
            .at(path.pos)
            .help("paths are relative to the tree file; pass `--data-dir DIR` to read them from elsewhere")));
        }
        let name = file.to_string_lossy().to_string();
        let ext = file
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let res = self.block(async {
            match format {
                FileFormat::Csv => {
                    let opts = CsvReadOptions::new()
                        .has_header(has_header)
                        // A cleaned file keeps quoted newlines (reading it is not split).
                        .newlines_in_values(cleaned)
                        .delimiter(delimiter)
                        .schema_infer_max_records(100_000)
                        .file_extension(&ext);
                    self.ctx.register_csv(&s.id, &name, opts).await
                }
                FileFormat::Parquet => {
                    self.ctx
                        .register_parquet(
                            &s.id,
                            &name,
                            ParquetReadOptions::default().file_extension(&ext),
                        )
                        .await
                }
                FileFormat::Json => {
                    self.ctx
                        .register_json(
                            &s.id,
                            &name,
                            JsonReadOptions::default().file_extension(&ext),
                        )
                        .await
                }
            }
        });
        if let Err(e) = res {
            return Err(Box::new(Diagnostic::error(
                "E030",
                format!("cannot read data file `{}` of source `{}`: {}", file.display(), s.id, first_line(&e.to_string())),
            )
            .at(path.pos)
            .help("check that the file is valid CSV (with a header row), Parquet or JSON lines, and that `format:` matches")));
        }
        let schema = self.schema(&s.id).map_err(|e| {
            Diagnostic::error(
                "E030",
                format!("cannot read the schema of `{}`: {e}", file.display()),
            )
            .at(path.pos)
        })?;
        let time_mode = match schema
            .field_with_name(&s.time.value)
            .map(|f| f.data_type().clone())
        {
            Ok(DataType::Timestamp(_, Some(_))) => TimeMode::Utc,
            _ if matches!(format, FileFormat::Csv | FileFormat::Json) => {
                if peek_has_offsets(file, &s.time.value, delimiter, format) {
                    TimeMode::Utc
                } else {
                    TimeMode::Local
                }
            }
            _ => TimeMode::Local,
        };
        Ok(SourceInfo {
            schema,
            time_mode,
            file: Some(file.to_path_buf()),
            csv: (format == FileFormat::Csv && !cleaned).then_some((delimiter, has_header)),
            backend: Backend::Files,
        })
    }

    /// Replaces the CSV table `id` by its Parquet copy in the cache (written now if this
    /// version of the file has none), when the copy has the same schema.
    fn read_through_cache(
        &mut self,
        id: &str,
        file: &Path,
        delimiter: u8,
        has_header: bool,
        schema: &Schema,
        dir: &Path,
    ) -> Result<(), String> {
        let (target, prefix) = csv_cache::entry(dir, file, delimiter, has_header)
            .ok_or("the file cannot be examined")?;
        if !target.is_file() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            let tmp = csv_cache::temporary(&target);
            let tmp_name = tmp.to_string_lossy().to_string();
            let mut options = datafusion::config::TableParquetOptions::default();
            options.global.compression = Some("snappy".into());
            let written = self.block(async {
                self.ctx
                    .table(id)
                    .await?
                    .write_parquet(
                        &tmp_name,
                        datafusion::dataframe::DataFrameWriteOptions::new()
                            .with_single_file_output(true),
                        Some(options),
                    )
                    .await
            });
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(first_line(&e.to_string()));
            }
            std::fs::rename(&tmp, &target).map_err(|e| e.to_string())?;
            csv_cache::remove_stale(dir, &prefix, &target);
        }
        let name = target.to_string_lossy().to_string();
        // Read with the CSV's schema (the copy's own would hold text as views).
        let options = || ParquetReadOptions::default().schema(schema);
        let probe = "__csv_cache_probe";
        self.block(self.ctx.register_parquet(probe, &name, options()))
            .map_err(|e| first_line(&e.to_string()))?;
        let same = self
            .schema(probe)
            .is_ok_and(|p| p.fields() == schema.fields());
        let _ = self.ctx.deregister_table(probe);
        if !same {
            return Err("the copy's schema differs".into());
        }
        self.block(async {
            let _ = self.ctx.deregister_table(id);
            self.ctx.register_parquet(id, &name, options()).await
        })
        .map_err(|e| first_line(&e.to_string()))
    }

    /// The query a SQL or event-log source runs: the author's query as checked by the allow-list (`spec::sql_query`),
    /// or the event log's derivation in the dialect of the backend its events live in.
    fn query_of(&self, s: &Source, all: &[Source]) -> Option<Result<SourceQuery, String>> {
        match &s.kind {
            SourceKind::Sql { query } => {
                let ids: Vec<String> = all.iter().map(|o| o.id.clone()).collect();
                Some(
                    crate::spec::sql_query::check_query(&query.value, Scope::Sources(&ids))
                        .map(|q| SourceQuery::Author(Box::new(q)))
                        .map_err(|r| r.message),
                )
            }
            SourceKind::EventLog(el) => {
                let dialect = all
                    .iter()
                    .position(|o| o.id == el.events.value)
                    .and_then(|j| self.info[j].as_ref())
                    .map_or(crate::sql::Dialect::DataFusion, |i| match i.backend {
                        Backend::Postgres { .. } => crate::sql::Dialect::Postgres,
                        Backend::Files => crate::sql::Dialect::DataFusion,
                    });
                Some(Ok(SourceQuery::Derived {
                    sql: crate::sql::event_log::derive(el, dialect),
                    events: el.events.value.clone(),
                }))
            }
            _ => None,
        }
    }

    /// The open connection for `env`, connecting on first use.
    fn database(&mut self, env: &str) -> Result<usize, Problem> {
        if let Some(i) = self.databases.iter().position(|d| d.env == env) {
            return Ok(i);
        }
        if let Some((_, p)) = self.failed.iter().find(|(e, _)| e == env) {
            return Err(p.clone());
        }
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(std::time::Instant::now()));
        match postgres::connect(&self.rt, env, true, left) {
            Ok(db) => {
                self.databases.push(db);
                Ok(self.databases.len() - 1)
            }
            Err(p) => {
                self.failed.push((env.to_string(), p.clone()));
                Err(p)
            }
        }
    }

    fn register_postgres(
        &mut self,
        s: &Source,
        env: &str,
        relation: &Relation,
    ) -> Result<SourceInfo, Problem> {
        let db = self.database(env)?;
        let query = match relation {
            Relation::Table(t) => crate::sql::probe::select_all_quoted(
                &self.databases[db].resolve_table(&self.rt, &t.value)?,
            ),
            // What runs is rendered from the checked syntax tree, never the author's text.
            Relation::Query(q) => crate::spec::sql_query::check_query(&q.value, Scope::Database)
                .map_err(|r| Problem {
                    code: "E036",
                    message: r.message,
                    help: r.help,
                })?
                .render(),
        };
        self.register_in_database(s, db, vec![(s.id.clone(), query)])
    }

    /// Describes a PostgreSQL relation and registers an empty table of its shape with
    /// DataFusion, so the tree's expressions are checked like any other source's.
    fn register_in_database(
        &mut self,
        s: &Source,
        db: usize,
        ctes: Vec<(String, String)>,
    ) -> Result<SourceInfo, Problem> {
        let database = &self.databases[db];
        let schema = database.describe(&self.rt, &ctes).map_err(|e| Problem {
            code: "E033",
            message: format!(
                "its relation does not run in {}: {}",
                database.target,
                postgres::db_message(&e)
            ),
            help: "fix the query or table; it runs inside PostgreSQL (columns of other sources are read by source id)".into(),
        })?;
        let time_mode = match schema
            .field_with_name(&s.time.value)
            .map(|f| f.data_type().clone())
        {
            Ok(DataType::Timestamp(_, Some(_))) => TimeMode::Utc,
            _ => TimeMode::Local,
        };
        let empty = datafusion::datasource::MemTable::try_new(schema.clone(), vec![vec![]])
            .map_err(|e| Problem {
                code: "E033",
                message: e.to_string(),
                help: String::new(),
            })?;
        let _ = self.ctx.deregister_table(&s.id);
        let _ = self.ctx.register_table(&s.id, Arc::new(empty));
        Ok(SourceInfo {
            schema,
            time_mode,
            file: None,
            csv: None,
            backend: Backend::Postgres { db, ctes },
        })
    }

    /// Registers a SQL source in the backend its inputs live in: a DataFusion view over
    /// files, or a `WITH` chain inside their database. Inputs in two places are an error.
    fn register_sql_where_inputs_live(
        &mut self,
        s: &Source,
        query: &SourceQuery,
        all: &[Source],
    ) -> Result<SourceInfo, String> {
        let names = query.inputs();
        let inputs: Vec<usize> = (0..all.len())
            .filter(|&j| all[j].id != s.id && names.contains(&all[j].id))
            .collect();
        if let Some(&j) = inputs.iter().find(|&&j| self.info[j].is_none()) {
            return Err(format!("source `{}` is not registered", all[j].id));
        }
        let backends: Vec<&Backend> = inputs
            .iter()
            .filter_map(|&j| self.info[j].as_ref().map(|i| &i.backend))
            .collect();
        let dbs: Vec<usize> = backends
            .iter()
            .filter_map(|b| match b {
                Backend::Postgres { db, .. } => Some(*db),
                Backend::Files => None,
            })
            .collect();
        if dbs.is_empty() {
            return self.register_sql(s, query, &inputs);
        }
        let places = |j: usize| match &self.info[j].as_ref().map(|i| &i.backend) {
            Some(Backend::Postgres { db, .. }) => format!(
                "`{}` (PostgreSQL, `{}`)",
                all[j].id, self.databases[*db].env
            ),
            _ => format!("`{}` (files)", all[j].id),
        };
        if dbs.len() != backends.len() || dbs.iter().any(|&d| d != dbs[0]) {
            return Err(format!(
                "it mixes backends: it reads {}; a SQL source runs inside one backend (load the files into the database with `metrictree load`, or read the database through files)",
                inputs
                    .iter()
                    .map(|&j| places(j))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut ctes: Vec<(String, String)> = Vec::new();
        for &j in &inputs {
            if let Some(SourceInfo {
                backend: Backend::Postgres { ctes: c, .. },
                ..
            }) = &self.info[j]
            {
                for cte in c {
                    if !ctes.iter().any(|(n, _)| n == &cte.0) {
                        ctes.push(cte.clone());
                    }
                }
            }
        }
        ctes.push((s.id.clone(), query.text()));
        self.register_in_database(s, dbs[0], ctes)
            .map_err(|p| p.message)
    }

    fn register_sql(
        &mut self,
        s: &Source,
        query: &SourceQuery,
        inputs: &[usize],
    ) -> Result<SourceInfo, String> {
        let view = self
            .block(async {
                let df = match query {
                    // DataFusion plans the checked syntax tree itself: no text is parsed again.
                    SourceQuery::Author(q) => {
                        let state = self.ctx.state();
                        let plan = state
                            .statement_to_plan(datafusion::sql::parser::Statement::Statement(
                                Box::new(q.statement().clone()),
                            ))
                            .await?;
                        read_only().verify_plan(&plan)?;
                        self.ctx.execute_logical_plan(plan).await?
                    }
                    SourceQuery::Derived { sql, .. } => self.run_sql(sql).await?,
                };
                Ok(df.into_view())
            })
            .map_err(|e| e.to_string())?;
        self.ctx
            .register_table(&s.id, view)
            .map_err(|e| e.to_string())?;
        let schema = self.schema(&s.id)?;
        // The time column's frame: a zone-aware type is an instant; otherwise inherit from the
        // sources the query reads (they agree in practice; the first one wins).
        let time_mode = match schema
            .field_with_name(&s.time.value)
            .map(|f| f.data_type().clone())
        {
            Ok(DataType::Timestamp(_, Some(_))) => TimeMode::Utc,
            _ => inputs
                .iter()
                .find_map(|&j| self.info[j].as_ref().map(|i| i.time_mode))
                .unwrap_or(TimeMode::Local),
        };
        Ok(SourceInfo {
            schema,
            time_mode,
            file: None,
            csv: None,
            backend: Backend::Files,
        })
    }

    fn schema(&self, table: &str) -> Result<Arc<Schema>, String> {
        self.block(async { self.ctx.table(table).await })
            .map(|df| Arc::new(df.schema().as_arrow().clone()))
            .map_err(|e| e.to_string())
    }

    /// Plans a query without running it (used to check filters and expressions).
    pub fn plan_only(&self, sql: &str) -> Result<(), String> {
        self.block(async { self.run_sql(sql).await.map(|_| ()) })
            .map_err(|e| e.to_string())
    }

    /// The type of a query's first column, planned but not run.
    pub fn expr_type(&self, sql: &str) -> Option<DataType> {
        self.block(async { self.run_sql(sql).await })
            .ok()
            .and_then(|df| df.schema().fields().first().map(|f| f.data_type().clone()))
    }

    /// Runs a query and returns its rows.
    pub fn query(&self, source_id: &str, sql: &str) -> Result<Rows, QueryError> {
        let err = |m: String| QueryError {
            source_id: source_id.to_string(),
            message: m,
            sql: sql.to_string(),
        };
        let batches = self
            .block(async { self.run_sql(sql).await?.collect().await })
            .map_err(|e| err(self.where_failed(&e)))?;
        Rows::from_batches(batches).map_err(err)
    }

    /// A query failure's first line; on a cluster, naming it.
    fn where_failed(&self, e: &datafusion::error::DataFusionError) -> String {
        match &self.cluster {
            Some(c) => format!("on {}: {}", c.label(), cluster::explain(&e.to_string())),
            None => first_line(&e.to_string()),
        }
    }

    /// Whether a timestamp column of a source holds instants (a zone-aware type, or text with
    /// UTC offsets in a CSV or JSON file, which the engine holds as UTC wall-clock values).
    pub fn holds_instants(&self, source: &Source, index: usize, column: &str) -> bool {
        let Some(info) = self.info.get(index).and_then(|i| i.as_ref()) else {
            return false;
        };
        match info.schema.field_with_name(column).map(|f| f.data_type()) {
            Ok(DataType::Timestamp(_, Some(_))) => true,
            Ok(DataType::Timestamp(_, None)) => match (&source.kind, &info.file) {
                (
                    SourceKind::File {
                        format, delimiter, ..
                    },
                    Some(file),
                ) if matches!(format, FileFormat::Csv | FileFormat::Json) => {
                    peek_has_offsets(file, column, *delimiter, *format)
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// Runs a query and returns its result as Arrow batches (for copying data out).
    pub fn batches(&self, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
        self.block(async { self.run_sql(sql).await?.collect().await })
            .map_err(|e| QueryError {
                source_id: String::new(),
                message: self.where_failed(&e),
                sql: sql.to_string(),
            })
    }

    /// Runs `sql` once and keeps its result in memory as table `name` (replacing any table of
    /// that name), so later aggregations read memory instead of the files and views again.
    pub fn materialize(&self, source_id: &str, name: &str, sql: &str) -> Result<usize, QueryError> {
        let err = |m: String| QueryError {
            source_id: source_id.to_string(),
            message: m,
            sql: sql.to_string(),
        };
        let (schema, batches, reservation) = self
            .block(async {
                use futures_util::StreamExt as _;
                let df = self.run_sql(sql).await?;
                let schema = Arc::new(df.schema().as_arrow().clone());
                // The rows kept in memory count against the engine's memory pool, so a
                // source larger than `--memory-limit` stops with a message, not the OOM killer.
                let reservation = datafusion::execution::memory_pool::MemoryConsumer::new(format!(
                    "rows of `{source_id}`"
                ))
                .register(&self.ctx.runtime_env().memory_pool);
                let mut stream = df.execute_stream().await?;
                let mut batches = Vec::new();
                let reading = progress::reading(source_id);
                while let Some(b) = stream.next().await {
                    // Dimensions as dictionaries: a few distinct values per column, each
                    // held once (and `dense` codes them per value, not per row).
                    let b = dictionary_dims(b?)?;
                    // The slice's own bytes: batches can share one buffer, and counting the
                    // whole buffer per batch would count it many times over.
                    let bytes: usize = b
                        .columns()
                        .iter()
                        .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0))
                        .sum();
                    reservation.try_grow(bytes)?;
                    reading.rows(b.num_rows());
                    batches.push(b);
                }
                Ok::<_, datafusion::error::DataFusionError>((schema, batches, reservation))
            })
            .map_err(|e| err(first_line(&e.to_string())))?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        // The planned schema can differ from the batches' in nullability or in the exact
        // type of an expression (a CASE mixing numeric types): the batches are the truth.
        let schema = batches.first().map_or(schema, |b| b.schema());
        // Two partitions so both cores aggregate.
        let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(), Vec::new()];
        for (i, b) in batches.into_iter().enumerate() {
            parts[i % 2].push(b);
        }
        // No sort order is declared on the table, so the GROUPING SETS aggregations over it
        // never stream over ordered input (DataFusion #24421, wrong groups before 55.3).
        let held_rows = Arc::new(parts.iter().flatten().cloned().collect::<Vec<_>>());
        let table = datafusion::datasource::MemTable::try_new(schema, parts)
            .map_err(|e| err(e.to_string()))?;
        let _ = self.ctx.deregister_table(name);
        self.ctx
            .register_table(name, Arc::new(table))
            .map_err(|e| err(e.to_string()))?;
        // The table's memory stays reserved while the table is registered.
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.retain(|(n, _, _)| n != name);
        held.push((name.to_string(), held_rows, reservation));
        Ok(rows)
    }

    /// The first rows (up to five) of a CSV source whose weight `column` is missing,
    /// negative or not a finite number, by line; empty for other sources.
    pub fn bad_weight_lines(&self, source: usize, column: &str) -> Vec<(u64, &'static str)> {
        match self.info.get(source).and_then(Option::as_ref) {
            Some(SourceInfo {
                file: Some(file),
                csv: Some((delimiter, has_header)),
                ..
            }) => bad_weights::first_lines(file, *delimiter, *has_header, column, 5),
            _ => Vec::new(),
        }
    }

    /// Reads a source's rows for a plan: into memory for files (later aggregations read
    /// memory), unless the same rows are already there; nothing for a database, whose
    /// statements read the tables each time.
    pub fn load_rows(&self, plan: &SourcePlan) -> Result<(), QueryError> {
        match self.info[plan.source].as_ref().map(|i| &i.backend) {
            Some(Backend::Postgres { .. }) => Ok(()),
            // On a cluster rows stay there: each aggregation reads them where they live.
            _ if self.cluster.is_some() => Ok(()),
            _ => {
                let (name, sql) = (plan.mem_table(), crate::sql::materialize(plan));
                let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
                if loaded.iter().any(|(n, s)| *n == name && *s == sql) {
                    return Ok(());
                }
                self.count_read();
                self.materialize(&plan.table, &name, &sql)?;
                loaded.retain(|(n, _)| *n != name);
                loaded.push((name, sql));
                Ok(())
            }
        }
    }

    fn count_read(&self) {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many times this engine has read a source's rows: once per source per evaluation
    /// for files (read into memory, then aggregated there), once per aggregation for
    /// PostgreSQL (each runs in the database). Tests use it to show a multi-period question
    /// reads the data once.
    pub fn source_reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs one aggregation of a source's rows where they live (see `sql::aggregate` and
    /// `sql::pushdown` for the columns).
    pub fn aggregate(&self, plan: &SourcePlan, agg: &Aggregate) -> Result<Rows, QueryError> {
        match self.info[plan.source].as_ref().map(|i| &i.backend) {
            Some(Backend::Postgres { db, ctes }) => {
                self.count_read();
                let (sql, params) = crate::sql::pushdown(plan, agg, ctes);
                self.pg_query(*db, &plan.table, &sql, &params)
            }
            _ if self.cluster.is_some() => {
                self.count_read();
                self.query(&plan.table, &crate::sql::fused(plan, agg))
            }
            _ => match self.held_rows(&plan.mem_table()) {
                Some(rows) if self.dense && dense::handles(plan) => {
                    self.dense_aggregate(plan, agg, &rows)
                }
                _ => self.query(&plan.table, &crate::sql::aggregate(plan, agg)),
            },
        }
    }

    /// The rows of a table kept in memory ([`Engine::materialize`]).
    fn held_rows(&self, name: &str) -> Option<Arc<Vec<RecordBatch>>> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, rows, _)| rows.clone())
    }

    /// [`dense::aggregate`] on both cores, within the run's time and memory limits.
    fn dense_aggregate(
        &self,
        plan: &SourcePlan,
        agg: &Aggregate,
        rows: &[RecordBatch],
    ) -> Result<Rows, QueryError> {
        let err = |m: String| QueryError {
            source_id: plan.table.clone(),
            message: m,
            sql: crate::sql::aggregate(plan, agg),
        };
        let reservation = datafusion::execution::memory_pool::MemoryConsumer::new(format!(
            "cells of `{}`",
            plan.table
        ))
        .register(&self.ctx.runtime_env().memory_pool);
        let per_cell = dense::cell_bytes(plan, agg);
        let check = |cells: usize| -> Result<(), String> {
            if self
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
            {
                return Err(
                    "the run's time limit (--timeout) was reached; raise it, or narrow the tree's data"
                        .into(),
                );
            }
            reservation
                .try_resize(cells.saturating_mul(per_cell))
                .map_err(|e| first_line(&e.to_string()))
        };
        let threads = self.ctx.copied_config().target_partitions().clamp(1, 64);
        dense::aggregate(plan, agg, rows, threads, &check).map_err(err)
    }

    fn pg_query(
        &self,
        db: usize,
        source_id: &str,
        sql: &str,
        params: &[crate::sql::Param],
    ) -> Result<Rows, QueryError> {
        let database = &self.databases[db];
        database
            .query(&self.rt, sql, params)
            .map_err(|e| QueryError {
                source_id: source_id.to_string(),
                message: format!(
                    "in PostgreSQL ({}): {}",
                    database.target,
                    postgres::db_message(&e)
                ),
                sql: sql.to_string(),
            })
    }

    /// Plans a statement in a source's database without running it.
    pub fn pg_prepare(&self, db: usize, sql: &str) -> Result<(), String> {
        self.databases[db]
            .prepare(&self.rt, sql)
            .map_err(|e| postgres::db_message(&e))
    }

    /// The first and last plausible time in a source, in the frame of its time column, and
    /// its rows: in all, without a time, and with a time outside `sql::PLAUSIBLE_TIMES`.
    pub fn time_range(&self, source: &Source, index: usize) -> Result<TimeRange, QueryError> {
        let rows = match self
            .info
            .get(index)
            .and_then(|i| i.as_ref())
            .map(|i| &i.backend)
        {
            Some(Backend::Postgres { db, ctes }) => {
                let sql = crate::sql::time_range_pushdown(ctes, &source.time.value);
                self.pg_query(*db, &source.id, &sql, &[])?
            }
            _ => self.query(
                &source.id,
                &crate::sql::time_range(&source.id, &source.time.value),
            )?,
        };
        let parse = |s: Option<String>| s.and_then(|s| parse_timestamp(&s));
        let count = |c: &str| rows.f64(c, 0).unwrap_or(0.0) as u64;
        let rows_all = count("n");
        Ok(TimeRange {
            span: match (parse(rows.text("lo", 0)), parse(rows.text("hi", 0))) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                _ => None,
            },
            rows: rows_all,
            untimed: rows_all.saturating_sub(count("timed")),
            outside: count("outside"),
        })
    }
}

/// What a source's time column holds (see [`Engine::time_range`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    /// The first and last plausible time, if any.
    pub span: Option<(NaiveDateTime, NaiveDateTime)>,
    pub rows: u64,
    /// Rows whose time is empty (NULL): in no period.
    pub untimed: u64,
    /// Rows whose time lies outside `sql::PLAUSIBLE_TIMES`: in no period.
    pub outside: u64,
}

/// A materialized batch with its dimension columns (`d{k}`, text) as dictionaries.
fn dictionary_dims(b: RecordBatch) -> datafusion::error::Result<RecordBatch> {
    let dict = DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8));
    let schema = b.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (f, a) in schema.fields().iter().zip(b.columns()) {
        let is_dim = f.name().starts_with('d') && f.name()[1..].parse::<usize>().is_ok();
        let text = matches!(
            f.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        if is_dim && text {
            let a = cast(&cast(a, &DataType::Utf8)?, &dict)?;
            fields.push(f.as_ref().clone().with_data_type(dict.clone()));
            columns.push(a);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(a.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Parses the engine's text form of a timestamp or date (`2026-11-16T09:15:00`, `2026-11-16`).
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim_end_matches('Z');
    let s = s.split('+').next().unwrap_or(s);
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// An engine's error as a message may quote it: its first line, at most 160 characters
/// (it can hold a value from the data), with what to do when a limit was reached.
fn first_line(s: &str) -> String {
    let mut m = crate::text::first_line(s);
    if s.contains("Cannot cast string") {
        m.push_str(" (a column holds text that is not a number: `metrictree check TREE` names it and the values)");
    }
    if s.contains("Resources exhausted") {
        m.push_str(" (the memory limit was reached: raise --memory-limit, in MiB, or narrow the tree's data)");
    }
    m
}

/// Looks at the first rows of a CSV or JSON-lines file: do the time column's values carry a
/// UTC offset (`Z`, `+01:00`)? The engine converts such values to UTC, so they are instants.
fn peek_has_offsets(file: &Path, column: &str, delimiter: u8, format: FileFormat) -> bool {
    use std::io::{BufRead, BufReader};
    let Ok(f) = std::fs::File::open(file) else {
        return false;
    };
    let mut lines = BufReader::new(f).lines().map_while(Result::ok);
    let values: Vec<String> = match format {
        FileFormat::Json => lines
            .take(20)
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .filter_map(|v| v.get(column).and_then(|x| x.as_str()).map(str::to_string))
            .collect(),
        _ => {
            let Some(header) = lines.next() else {
                return false;
            };
            let header = header.trim_start_matches('\u{feff}');
            let Some(idx) = split_csv_line(header, delimiter as char)
                .iter()
                .position(|h| h == column)
            else {
                return false;
            };
            lines
                .take(20)
                .filter_map(|l| split_csv_line(&l, delimiter as char).get(idx).cloned())
                .collect()
        }
    };
    values.iter().any(|v| has_offset(v.trim()))
}

fn has_offset(v: &str) -> bool {
    if v.ends_with('Z') || v.ends_with('z') {
        return true;
    }
    // ...T10:00:00+01:00 / +0100 / -05
    let Some(tpos) = v.find(['T', ' ']) else {
        return false;
    };
    v[tpos..].contains('+') || v[tpos + 1..].contains('-')
}

/// Splits one CSV line, honouring double quotes.
fn split_csv_line(line: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delim && !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Whether a type can serve as a time column.
pub fn is_time_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_recognised() {
        assert!(has_offset("2010-03-31T15:59:42+01:00"));
        assert!(has_offset("2026-11-16T09:15:00Z"));
        assert!(has_offset("2026-11-16 09:15:00-05:00"));
        assert!(!has_offset("2026-11-16 09:15:00"));
        assert!(!has_offset("2026-11-16T09:15:00"));
    }

    #[test]
    fn csv_split_honours_quotes() {
        assert_eq!(split_csv_line(r#"a,"b,c",d"#, ','), vec!["a", "b,c", "d"]);
    }
}
