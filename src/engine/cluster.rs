//! The distributed backend: file sources read and aggregated on an Apache DataFusion Ballista
//! cluster (`--ballista df://HOST:PORT`, built with `--features distributed`).
//!
//! The engine's DataFusion context becomes a Ballista client: sources are registered as
//! usual (the client infers each file's schema, so it must see the files at the same absolute
//! paths as the executors), every query is planned here and sent to the scheduler as a
//! DataFusion logical plan, and the executors scan, derive and aggregate. Nothing is held in
//! the client's memory: each aggregation is one statement ([`crate::sql::fused`]) whose result
//! is the aggregates. The plans need no user-defined function and no codec; they do nest
//! deeper than stock nodes decode by default (see `metrictree-ballista` and
//! docs/distributed.md).
//!
//! What does not run there gets an error naming the source (E051): PostgreSQL sources, and
//! messy CSV exports that need the local cleaner unless `--cache DIR` names storage the
//! executors read too (the cleaned copy is written there). See docs/distributed.md.

use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Seconds a connection to the scheduler or an executor may take to open.
pub const CONNECT_TIMEOUT_SECONDS: u64 = 10;
/// Seconds the first query (`SELECT 1`, the scheduler's answer) may take in all.
#[cfg(feature = "distributed")]
const PROBE_SECONDS: u64 = 3 * CONNECT_TIMEOUT_SECONDS;

/// A Ballista scheduler to run on: `df://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    host: String,
    port: u16,
}

impl Cluster {
    /// Parses `df://HOST:PORT` (the scheme Ballista's client takes).
    pub fn parse(url: &str) -> Result<Cluster, String> {
        let bad = || {
            format!(
                "`{}` is not a Ballista scheduler address; write df://HOST:PORT, e.g. df://127.0.0.1:50050",
                crate::text::escape(url)
            )
        };
        let rest = url.strip_prefix("df://").ok_or_else(bad)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host_ok = !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':')
            });
        if !host_ok || port == 0 {
            return Err(bad());
        }
        Ok(Cluster {
            host: host.to_string(),
            port,
        })
    }

    /// The address as Ballista's client takes it.
    pub fn url(&self) -> String {
        format!("df://{}:{}", self.host, self.port)
    }

    /// How messages name the cluster.
    pub fn label(&self) -> String {
        format!("the Ballista cluster at {}", self.url())
    }
}

/// A cluster failure in a line: what went wrong, without Ballista's nesting of job, stage
/// and task errors (`Job … failed: Job failed due to stage 1 failed: Task failed due to
/// runtime execution error: DataFusionError(Shared(ObjectStore(NotFound { path: … })))`).
pub fn explain(message: &str) -> String {
    if message.contains("NotFound")
        && let Some(rest) = message.split("path: \"").nth(1)
        && let Some(path) = rest.split('"').next()
    {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        return format!(
            "an executor cannot find `{}`: every executor must read the files at the same absolute path as this machine (a shared volume; docs/distributed.md)",
            crate::text::escape(&path)
        );
    }
    let inner = message
        .rsplit("runtime execution error: ")
        .next()
        .unwrap_or(message);
    if inner.contains("transport error")
        || inner.contains("Connection refused")
        || inner.contains("tcp connect error")
    {
        return format!(
            "lost the connection to a node of the cluster (an executor or the scheduler stopped?): {}",
            super::first_line(inner)
        );
    }
    super::first_line(inner)
}

/// A client context for `cluster` with the engine's settings, after checking that the
/// scheduler answers (a trivial query runs there).
#[cfg(feature = "distributed")]
pub async fn connect(
    cluster: &Cluster,
    config: SessionConfig,
    runtime: std::sync::Arc<RuntimeEnv>,
) -> Result<SessionContext, String> {
    use ballista::prelude::{SessionConfigExt as _, SessionContextExt as _};
    use datafusion::execution::SessionStateBuilder;
    let mut config = config.upgrade_for_ballista();
    let timeout = CONNECT_TIMEOUT_SECONDS.to_string();
    for (key, value) in [
        (
            "ballista.client.grpc_connect_timeout_seconds",
            timeout.as_str(),
        ),
        ("ballista.job.name", "metrictree"),
        // Ballista prefers sort-merge joins; an event log's derivation then trips a
        // window-ordering assertion on the executors (its windows partition by the case and
        // a column the join's sort does not cover). Hash joins, as in the local engine.
        ("datafusion.optimizer.prefer_hash_join", "true"),
    ] {
        config
            .options_mut()
            .set(key, value)
            .map_err(|e| e.to_string())?;
    }
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    let ctx = SessionContext::remote_with_state(&cluster.url(), state)
        .await
        .map_err(|e| super::first_line(&e.to_string()))?;
    // The scheduler is asked at once, so that a cluster that is down is one clear error
    // rather than one per source.
    let probe = async { ctx.sql("SELECT 1 AS one").await?.collect().await };
    match tokio::time::timeout(std::time::Duration::from_secs(PROBE_SECONDS), probe).await {
        Ok(Ok(_)) => Ok(ctx),
        Ok(Err(e)) => Err(super::first_line(&e.to_string())),
        Err(_) => Err(format!("no answer within {PROBE_SECONDS} s")),
    }
}

/// Without the feature there is no client: a clear message instead.
#[cfg(not(feature = "distributed"))]
pub async fn connect(
    _cluster: &Cluster,
    _config: SessionConfig,
    _runtime: std::sync::Arc<RuntimeEnv>,
) -> Result<SessionContext, String> {
    Err("this metrictree was built without the distributed backend; build it with `cargo build --release --features distributed` (docs/distributed.md)".into())
}

#[cfg(test)]
mod tests {
    use super::Cluster;

    #[test]
    fn failures_are_said_in_a_line() {
        let m = r#"Execution error: Job 038HQQA79T000 failed: Job failed due to stage 1 failed: Task failed due to runtime execution error: DataFusionError(Shared(ObjectStore(NotFound { path: "tmp/d/conversations.csv", source: Os { code: 2 } })))"#;
        let e = super::explain(m);
        assert!(
            e.starts_with("an executor cannot find `/tmp/d/conversations.csv`"),
            "{e}"
        );
        let e = super::explain(
            "Task failed due to runtime execution error: transport error: BrokenPipe",
        );
        assert!(e.starts_with("lost the connection to a node"), "{e}");
        assert_eq!(
            super::explain("Schema error: no field x"),
            "Schema error: no field x"
        );
    }

    #[test]
    fn addresses_parse_or_say_how_to_write_them() {
        let c = Cluster::parse("df://127.0.0.1:50050").unwrap();
        assert_eq!(c.url(), "df://127.0.0.1:50050");
        assert_eq!(c.label(), "the Ballista cluster at df://127.0.0.1:50050");
        assert_eq!(Cluster::parse("df://sched.internal:1/").unwrap().port, 1);
        for bad in [
            "127.0.0.1:50050",
            "df://",
            "df://host",
            "df://host:0",
            "df://host:99999",
            "df://us er@host:1",
            "http://host:50050",
        ] {
            let e = Cluster::parse(bad).unwrap_err();
            assert!(e.contains("df://HOST:PORT"), "{bad}: {e}");
        }
    }
}
