//! PostgreSQL sources: one connection per connection-string variable, the relations sources
//! read (as `WITH` clauses named by source id), their column types, and the pushed-down
//! aggregate statements (rendered by `sql::pushdown`; only aggregates come back).
//!
//! Sessions that read run with `default_transaction_read_only = on` and `TimeZone = UTC`,
//! so a source's query can never write and instants compare as the file engine compares
//! them. No message ever holds the connection string: errors name the variable, the user,
//! host, port and database.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use tokio::runtime::Runtime;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

use super::Rows;
use crate::sql::{Param, ident, probe};

/// An open connection, and how to name it without its secret.
pub struct Database {
    /// The environment variable the connection string came from.
    pub env: String,
    /// `user@host:port/dbname`.
    pub target: String,
    client: Client,
}

/// A failure, ready for a diagnostic: a code, what happened, how to fix it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub help: String,
}

fn problem(code: &'static str, message: String, help: impl Into<String>) -> Problem {
    Problem {
        code,
        message,
        help: help.into(),
    }
}

/// Opens a connection from the string in `$env`. `read_only` sessions cannot write;
/// `timeout` bounds every statement of the session (the run's `--timeout`).
pub fn connect(
    rt: &Runtime,
    env: &str,
    read_only: bool,
    timeout: Option<Duration>,
) -> Result<Database, Problem> {
    let url = std::env::var(env).map_err(|_| {
        problem(
            "E040",
            format!("the environment variable `{env}` is not set"),
            format!("export {env}='postgres://USER:PASSWORD@HOST:5432/DBNAME' (it holds the PostgreSQL connection string; the tree only names it)"),
        )
    })?;
    // The parser's message may quote the string; say only that it is malformed.
    let mut config: Config = url.parse().map_err(|_| {
        problem(
            "E041",
            format!("the connection string in `{env}` is not valid"),
            "write `postgres://USER:PASSWORD@HOST:PORT/DBNAME` or `host=HOST port=PORT user=USER password=PASSWORD dbname=DBNAME`",
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("metrictree");
    let target = describe_target(&config);
    let connected = rt.block_on(async {
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
            .batch_execute(&probe::postgres_session(read_only, timeout))
            .await?;
        Ok::<_, tokio_postgres::Error>(client)
    });
    let client = connected.map_err(|e| connect_problem(&e, env, &target, &config))?;
    Ok(Database {
        env: env.to_string(),
        target,
        client,
    })
}

fn describe_target(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{db}")
}

fn connect_problem(e: &tokio_postgres::Error, env: &str, target: &str, config: &Config) -> Problem {
    let user = config.get_user().unwrap_or("(default user)");
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return match code {
            "28P01" | "28000" => problem(
                "E043",
                format!(
                    "PostgreSQL refused the credentials of user `{user}` ({target}, from `{env}`): {}",
                    db.message()
                ),
                format!(
                    "check the user and password in `{env}`, and that pg_hba.conf lets this user connect from here"
                ),
            ),
            "3D000" => problem(
                "E044",
                format!(
                    "the database of `{env}` does not exist ({target}): {}",
                    db.message()
                ),
                format!("create it (`createdb`), or fix the database name in `{env}`"),
            ),
            _ => problem(
                "E042",
                format!(
                    "PostgreSQL at {target} (from `{env}`) refused the connection: {}",
                    db.message()
                ),
                format!("check the server and the connection string in `{env}`"),
            ),
        };
    }
    let cause = std::error::Error::source(e)
        .map(|c| c.to_string())
        .unwrap_or_else(|| e.to_string());
    let tls = cause.contains("TLS") || cause.contains("ssl");
    problem(
        "E042",
        format!("cannot reach PostgreSQL at {target} (from `{env}`): {cause}"),
        if tls {
            format!(
                "this build connects without TLS: use `sslmode=disable` or `prefer` in `{env}`, or a local proxy"
            )
        } else {
            format!(
                "start the server, or fix the host and port in `{env}`; `pg_isready -h HOST -p PORT` tells whether it accepts connections"
            )
        },
    )
}

/// A server error as one line: its message, and the hint when the server gave one.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.hint() {
            Some(h) => format!("{} (hint: {h})", db.message()),
            None => db.message().to_string(),
        },
        None => match std::error::Error::source(e) {
            Some(c) => format!("{e}: {c}"),
            None => e.to_string(),
        },
    }
}

/// The SQLSTATE of a server error.
pub fn sqlstate(e: &tokio_postgres::Error) -> Option<&str> {
    e.code().map(|c| c.code())
}

impl Database {
    /// The quoted, schema-qualified name of `table` (`t` or `schema.t`, as written), or a
    /// problem naming the tables that do exist.
    pub fn resolve_table(&self, rt: &Runtime, table: &str) -> Result<String, Problem> {
        let quoted = table.split('.').map(ident).collect::<Vec<_>>().join(".");
        let found = rt.block_on(async {
            let rows = self
                .client
                .query(probe::POSTGRES_RESOLVE_TABLE, &[&quoted])
                .await?;
            let known = self
                .client
                .query(probe::POSTGRES_VISIBLE_TABLES, &[])
                .await?;
            Ok::<_, tokio_postgres::Error>((
                rows.first()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))),
                known
                    .iter()
                    .map(|r| r.get::<_, String>(0))
                    .collect::<Vec<_>>(),
            ))
        });
        match found {
            // The database's catalogs are not data a tree may read.
            Ok((Some((_, schema)), _))
                if schema == "information_schema" || schema.starts_with("pg_") =>
            {
                Err(problem(
                    "E031",
                    format!(
                        "table `{}` is in the system catalog `{}`",
                        crate::text::escape(table),
                        crate::text::escape(&schema)
                    ),
                    "read the tables that hold your data (`schema.table`), not the database's catalogs",
                ))
            }
            Ok((Some((q, _)), _)) => Ok(q),
            Ok((None, known)) => Err(problem(
                "E031",
                format!("table `{table}` does not exist in {}", self.target),
                format!(
                    "{}; create it (`metrictree load TREE --postgres-env {}` loads a tree's files), or fix `table:` (names are case-sensitive; write `schema.table` outside the search path)",
                    if known.is_empty() {
                        "the database has no tables on its search path".to_string()
                    } else {
                        crate::diag::did_you_mean(table, known.iter().map(String::as_str), "tables")
                    },
                    self.env
                ),
            )),
            Err(e) => Err(problem(
                "E042",
                format!(
                    "cannot look up table `{table}` in {}: {}",
                    self.target,
                    db_message(&e)
                ),
                "check the connection and the role's privileges",
            )),
        }
    }

    /// The columns of the last relation of `ctes`, planned by the server (nothing runs).
    pub fn describe(
        &self,
        rt: &Runtime,
        ctes: &[(String, String)],
    ) -> Result<Arc<Schema>, tokio_postgres::Error> {
        let Some((name, _)) = ctes.last() else {
            return Ok(Arc::new(Schema::empty()));
        };
        let sql = probe::describe(ctes, name);
        let stmt = rt.block_on(self.client.prepare(&sql))?;
        let fields: Vec<Field> = stmt
            .columns()
            .iter()
            .map(|c| Field::new(c.name(), arrow_type(c.type_()), true))
            .collect();
        Ok(Arc::new(Schema::new(fields)))
    }

    /// Plans a statement on the server without running it.
    pub fn prepare(&self, rt: &Runtime, sql: &str) -> Result<(), tokio_postgres::Error> {
        rt.block_on(self.client.prepare(sql)).map(|_| ())
    }

    /// Runs a statement with its parameters; numbers come back as f64, everything else as text.
    pub fn query(
        &self,
        rt: &Runtime,
        sql: &str,
        params: &[Param],
    ) -> Result<Rows, tokio_postgres::Error> {
        let bound: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| match p {
                Param::Timestamp(t) => t as &(dyn ToSql + Sync),
                Param::Instant(t) => t as &(dyn ToSql + Sync),
            })
            .collect();
        let (stmt, rows) = rt.block_on(async {
            let stmt = self.client.prepare(sql).await?;
            let rows = self.client.query(&stmt, &bound).await?;
            Ok::<_, tokio_postgres::Error>((stmt, rows))
        })?;
        let mut columns = Vec::new();
        let mut data: Vec<ArrayRef> = Vec::new();
        for (i, c) in stmt.columns().iter().enumerate() {
            columns.push(c.name().to_string());
            let t = c.type_();
            let array: ArrayRef = if *t == Type::FLOAT8 {
                Arc::new(Float64Array::from_iter(
                    rows.iter().map(|r| r.get::<_, Option<f64>>(i)),
                ))
            } else if *t == Type::FLOAT4 {
                Arc::new(Float64Array::from_iter(
                    rows.iter()
                        .map(|r| r.get::<_, Option<f32>>(i).map(f64::from)),
                ))
            } else if *t == Type::INT8 {
                Arc::new(Float64Array::from_iter(
                    rows.iter()
                        .map(|r| r.get::<_, Option<i64>>(i).map(|v| v as f64)),
                ))
            } else if *t == Type::INT4 {
                Arc::new(Float64Array::from_iter(
                    rows.iter()
                        .map(|r| r.get::<_, Option<i32>>(i).map(f64::from)),
                ))
            } else if *t == Type::INT2 {
                Arc::new(Float64Array::from_iter(
                    rows.iter()
                        .map(|r| r.get::<_, Option<i16>>(i).map(f64::from)),
                ))
            } else {
                Arc::new(StringArray::from_iter(
                    rows.iter().map(|r| r.get::<_, Option<String>>(i)),
                ))
            };
            data.push(array);
        }
        Ok(Rows::from_arrays(columns, data, rows.len()))
    }

    /// The client, for loading data (`engine::load`).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The Arrow type the checks see for a PostgreSQL column type.
fn arrow_type(t: &Type) -> DataType {
    match *t {
        Type::BOOL => DataType::Boolean,
        Type::INT2 | Type::INT4 | Type::INT8 => DataType::Int64,
        Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => DataType::Float64,
        Type::TIMESTAMP => DataType::Timestamp(TimeUnit::Microsecond, None),
        Type::TIMESTAMPTZ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Type::DATE => DataType::Date32,
        _ => DataType::Utf8,
    }
}
