//! Copies a tree's file sources into PostgreSQL, one table per file source, named like the
//! source, so `--postgres-env VAR` reads the same data from the database. Column types come
//! from the file as the file engine reads it (times written with UTC offsets become
//! `timestamptz`); rows go in with `COPY ... FROM STDIN (FORMAT csv)`, all tables in one
//! transaction, then `ANALYZE`. The SQL text is written in `sql::load`.

use bytes::Bytes;
use futures_util::SinkExt;

use super::postgres;
use super::{Access, Engine};
use crate::graph::MetricGraph;
use crate::spec::model::SourceKind;
use crate::sql::{ident, load as sql};

/// What was loaded, and where.
#[derive(Debug, Clone)]
pub struct LoadSummary {
    /// The database, as shown (host, port and database; never the password).
    pub target: String,
    /// (source id, rows) per file source, in tree order.
    pub tables: Vec<(String, usize)>,
}

/// Why loading stopped (nothing is committed unless every table loaded).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// Copies every file source of `g` (as `engine` reads it) into the database whose
/// connection string is in the environment variable `env`. Without `replace`, an existing
/// table stops the load before anything is changed.
pub fn copy_file_sources(
    g: &MetricGraph,
    engine: &Engine,
    env: &str,
    replace: bool,
    access: &Access,
) -> Result<LoadSummary, LoadError> {
    let err = |m: String| LoadError(m);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(e.to_string()))?;
    let db = postgres::connect(&rt, env, false, access.limits.timeout)
        .map_err(|p| err(format!("{}\n  help: {}", p.message, p.help)))?;
    let files: Vec<usize> = (0..g.spec.sources.len())
        .filter(|&i| matches!(g.spec.sources[i].kind, SourceKind::File { .. }))
        .collect();
    if files.is_empty() {
        return Err(err(format!(
            "{} has no file sources to load",
            g.spec.path.display()
        )));
    }
    let client = db.client();
    let fail = |what: String, e: tokio_postgres::Error| {
        LoadError(format!(
            "{what} in {}: {}",
            db.target,
            postgres::db_message(&e)
        ))
    };
    if !replace {
        for &i in &files {
            let id = &g.spec.sources[i].id;
            let exists = rt
                .block_on(client.query_one(sql::TABLE_EXISTS, &[&ident(id)]))
                .map_err(|e| fail(format!("cannot look up table `{id}`"), e))?;
            if exists.get::<_, bool>(0) {
                return Err(err(format!(
                    "table `{id}` already exists in {}; pass --replace to drop and reload it (nothing was changed)",
                    db.target
                )));
            }
        }
    }
    rt.block_on(client.batch_execute(sql::BEGIN))
        .map_err(|e| fail("cannot start a transaction".into(), e))?;
    let mut tables = Vec::new();
    for &i in &files {
        let s = &g.spec.sources[i];
        let batches = engine
            .batches(&sql::select_all(&s.id))
            .map_err(|e| err(e.to_string()))?;
        let schema = engine.info[i]
            .as_ref()
            .map(|i| i.schema.clone())
            .ok_or_else(|| err(format!("source `{}` is not readable", s.id)))?;
        let columns: Vec<(String, &str)> = schema
            .fields()
            .iter()
            .map(|f| {
                let instants = engine.holds_instants(s, i, f.name());
                (f.name().clone(), sql::column_type(f.data_type(), instants))
            })
            .collect();
        rt.block_on(client.batch_execute(&sql::create_table(&s.id, &columns)))
            .map_err(|e| fail(format!("cannot create table `{}`", s.id), e))?;
        let mut rows = 0usize;
        rt.block_on(async {
            let sink = client.copy_in(&sql::copy_in(&s.id)).await?;
            futures_util::pin_mut!(sink);
            for b in &batches {
                let mut buf = Vec::new();
                datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(false)
                    .build(&mut buf)
                    .write(b)?;
                rows += b.num_rows();
                sink.send(Bytes::from(buf)).await?;
            }
            sink.finish().await?;
            Ok::<_, anyhow::Error>(())
        })
        .map_err(|e| match e.downcast::<tokio_postgres::Error>() {
            Ok(e) => fail(format!("cannot copy rows into `{}`", s.id), e),
            Err(e) => err(format!("cannot copy rows into `{}`: {e:#}", s.id)),
        })?;
        tables.push((s.id.clone(), rows));
    }
    rt.block_on(client.batch_execute(sql::COMMIT))
        .map_err(|e| fail("cannot commit".into(), e))?;
    // Fresh tables have no statistics: without them the planner picks nested loops for the
    // joins of SQL sources.
    for &i in &files {
        let id = &g.spec.sources[i].id;
        rt.block_on(client.batch_execute(&sql::analyze(id)))
            .map_err(|e| fail(format!("cannot analyze `{id}`"), e))?;
    }
    Ok(LoadSummary {
        target: db.target.clone(),
        tables,
    })
}
