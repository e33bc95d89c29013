//! `metrictree load TREE --postgres-env VAR`: copies a tree's data files into PostgreSQL (see
//! `engine::load`), then says how to read them from there.

use std::path::Path;

use super::Outcome;
use crate::engine::Access;
use crate::session::{Session, Warn, env_name, load_tree};

pub fn run(tree: &Path, access: &Access, env: &str, replace: bool) -> Outcome {
    env_name(env)?;
    if access.cluster.is_some() {
        return Err(crate::error::Error::Argument(
            "`load` copies files into PostgreSQL from this machine; --ballista does not apply to it (the cluster reads files, not PostgreSQL)".into(),
        ));
    }
    let loaded = load_tree(tree, None)?;
    let session = Session::open(loaded, access, Warn::stderr())?;
    let done = session.load_into_postgres(env, replace)?;
    let lines: Vec<String> = done
        .tables
        .iter()
        .map(|(id, rows)| format!("  {id:<20} {rows:>9} rows  → table {id}"))
        .collect();
    Ok(format!(
        "loaded {} file source(s) of {} into {} (from `{env}`):\n{}\nrun: metrictree why {} --postgres-env {env}\n",
        done.tables.len(),
        tree.display(),
        done.target,
        lines.join("\n"),
        tree.display()
    ))
}
