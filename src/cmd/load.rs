//! `metrictree load TREE --postgres-env VAR`: copies a tree's data files into PostgreSQL, one
//! table per file source, named like the source, so `--postgres-env VAR` reads the same data
//! from the database. Column types come from the file as the file engine reads it (times
//! written with UTC offsets become `timestamptz`); rows go
//! in with `COPY ... FROM STDIN (FORMAT csv)`, all tables in one transaction, then `ANALYZE`.

use std::path::Path;

use bytes::Bytes;
use datafusion::arrow::datatypes::DataType;
use futures_util::SinkExt;

use super::{Failure, Outcome, load, open_engine};
use crate::engine::postgres;
use crate::spec::model::SourceKind;
use crate::sql::ident;

/// The column type a file column becomes.
fn column_type(t: &DataType) -> &'static str {
    match t {
        DataType::Boolean => "BOOLEAN",
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => "BIGINT",
        DataType::UInt64 | DataType::Decimal128(..) | DataType::Decimal256(..) => "NUMERIC",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "DOUBLE PRECISION",
        DataType::Timestamp(_, None) => "TIMESTAMP",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMPTZ",
        DataType::Date32 | DataType::Date64 => "DATE",
        _ => "TEXT",
    }
}

pub fn run(tree: &Path, access: &crate::engine::Access, env: &str, replace: bool) -> Outcome {
    if !crate::spec::parse::is_env_name(env) {
        return Err(Failure::runtime(
            "--postgres-env takes the name of an environment variable (e.g. SUPPORT_DATABASE_URL), not the connection string itself",
        ));
    }
    let (g, report) = load(tree)?;
    let engine = open_engine(&g, &report, access)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let db = postgres::connect(&rt, env, false, access.limits.timeout)
        .map_err(|p| Failure::runtime(format!("{}\n  help: {}", p.message, p.help)))?;
    let files: Vec<usize> = (0..g.spec.sources.len())
        .filter(|&i| matches!(g.spec.sources[i].kind, SourceKind::File { .. }))
        .collect();
    if files.is_empty() {
        return Err(Failure::runtime(format!(
            "{} has no file sources to load",
            tree.display()
        )));
    }
    let client = db.client();
    let fail = |what: String, e: tokio_postgres::Error| {
        Failure::runtime(format!(
            "{what} in {}: {}",
            db.target,
            postgres::db_message(&e)
        ))
    };
    if !replace {
        for &i in &files {
            let id = &g.spec.sources[i].id;
            let exists = rt
                .block_on(client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&ident(id)]))
                .map_err(|e| fail(format!("cannot look up table `{id}`"), e))?;
            if exists.get::<_, bool>(0) {
                return Err(Failure::runtime(format!(
                    "table `{id}` already exists in {}; pass --replace to drop and reload it (nothing was changed)",
                    db.target
                )));
            }
        }
    }
    rt.block_on(client.batch_execute("BEGIN"))
        .map_err(|e| fail("cannot start a transaction".into(), e))?;
    let mut lines = Vec::new();
    for &i in &files {
        let s = &g.spec.sources[i];
        let batches = engine
            .batches(&format!("SELECT * FROM {}", ident(&s.id)))
            .map_err(|e| Failure::runtime(e.to_string()))?;
        let schema = engine.info[i]
            .as_ref()
            .map(|i| i.schema.clone())
            .ok_or_else(|| Failure::runtime(format!("source `{}` is not readable", s.id)))?;
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| {
                // Offsets in the file: instants, held as UTC (the session's zone).
                let ty = if engine.holds_instants(s, i, f.name()) {
                    "TIMESTAMPTZ"
                } else {
                    column_type(f.data_type())
                };
                format!("{} {ty}", ident(f.name()))
            })
            .collect();
        let table = ident(&s.id);
        let ddl = format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({})",
            columns.join(", ")
        );
        rt.block_on(client.batch_execute(&ddl))
            .map_err(|e| fail(format!("cannot create table `{}`", s.id), e))?;
        let mut rows = 0usize;
        rt.block_on(async {
            let sink = client
                .copy_in(&format!("COPY {table} FROM STDIN (FORMAT csv)"))
                .await?;
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
            Err(e) => Failure::runtime(format!("cannot copy rows into `{}`: {e:#}", s.id)),
        })?;
        lines.push(format!("  {:<20} {:>9} rows  → table {}", s.id, rows, s.id));
    }
    rt.block_on(client.batch_execute("COMMIT"))
        .map_err(|e| fail("cannot commit".into(), e))?;
    // Fresh tables have no statistics: without them the planner picks nested loops for the
    // joins of SQL sources.
    for &i in &files {
        let id = &g.spec.sources[i].id;
        rt.block_on(client.batch_execute(&format!("ANALYZE {}", ident(id))))
            .map_err(|e| fail(format!("cannot analyze `{id}`"), e))?;
    }
    Ok(format!(
        "loaded {} file source(s) of {} into {} (from `{env}`):\n{}\nrun: metrictree why {} --postgres-env {env}\n",
        files.len(),
        tree.display(),
        db.target,
        lines.join("\n"),
        tree.display()
    ))
}
