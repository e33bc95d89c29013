//! The small queries `check` and the engines use to ask about data without reading it:
//! whether an expression or filter plans against a source (`LIMIT 0`), an expression's type,
//! a few text values where numbers were meant, and for PostgreSQL the session settings, the
//! catalog lookups behind a `table:` and the columns of a relation.

use std::time::Duration;

use super::{Dialect, ident, with_clause};
use crate::spec::sql_expr::SqlExpr;

/// Whether `e` plans as a value over `source` (nothing is read).
pub fn expression(source: &str, e: &SqlExpr) -> String {
    format!(
        "SELECT ({}) FROM {} LIMIT 0",
        e.render(Dialect::DataFusion),
        ident(source)
    )
}

/// Whether `f` plans as a filter over `source` (nothing is read).
pub fn filter(source: &str, f: &SqlExpr) -> String {
    format!(
        "SELECT 1 FROM {} WHERE ({}) LIMIT 0",
        ident(source),
        f.render(Dialect::DataFusion)
    )
}

/// `e` as the single column `v` over `source`, for its type (nothing is read).
pub fn expression_type(source: &str, e: &SqlExpr) -> String {
    format!(
        "SELECT ({}) AS v FROM {} LIMIT 0",
        e.render(Dialect::DataFusion),
        ident(source)
    )
}

/// Up to three values of `e` over `source` that are text and do not read as numbers.
pub fn text_as_number(source: &str, e: &SqlExpr) -> String {
    let e = e.render(Dialect::DataFusion);
    format!(
        "SELECT CAST(({e}) AS VARCHAR) AS v FROM {} WHERE ({e}) IS NOT NULL AND TRY_CAST(({e}) AS DOUBLE) IS NULL LIMIT 3",
        ident(source)
    )
}

/// Every row of a relation named by an already quoted (and maybe schema-qualified) name.
pub fn select_all_quoted(quoted: &str) -> String {
    format!("SELECT * FROM {quoted}")
}

/// A PostgreSQL session's settings: UTC, floats in full, optionally read-only, and the run's
/// statement timeout.
pub fn postgres_session(read_only: bool, timeout: Option<Duration>) -> String {
    let mut setup = String::from("SET TIME ZONE 'UTC'; SET extra_float_digits = 3;");
    if read_only {
        setup.push_str(" SET default_transaction_read_only = on;");
    }
    if let Some(t) = timeout {
        setup.push_str(&format!(
            " SET statement_timeout = {};",
            t.as_millis().max(1)
        ));
    }
    setup
}

/// The quoted, schema-qualified name and the schema of the relation `$1` names.
pub const POSTGRES_RESOLVE_TABLE: &str = "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname::text \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.oid = to_regclass($1)";

/// The tables on the search path, for "did you mean".
pub const POSTGRES_VISIBLE_TABLES: &str = "SELECT table_name::text FROM information_schema.tables \
     WHERE table_schema = ANY (current_schemas(false)) ORDER BY 1";

/// The columns of the last relation of `ctes` (prepared, never run).
pub fn describe(ctes: &[(String, String)], last: &str) -> String {
    format!(
        "{} SELECT * FROM {} LIMIT 0",
        with_clause(ctes),
        ident(last)
    )
}
