//! Where a report came from, printed on every report: the tree file (and the git commit of
//! its repository), a fingerprint of the data read, the tool's version and the periods
//! compared. Deterministic: no clock, no host name, no absolute path.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// The tree file, relative to its repository (or its directory).
    pub tree_file: String,
    pub tree_sha256: String,
    /// The commit checked out where the tree lives, when it is in a git repository.
    pub git_commit: Option<String>,
    pub tool: String,
    /// The periods compared, and the span of the trend lines.
    pub current: String,
    pub baseline: String,
    pub history: String,
    pub data: Vec<DataRead>,
}

/// One source as read.
#[derive(Debug, Clone, Serialize)]
pub struct DataRead {
    pub source: String,
    /// `file`, `postgres` or `derived` (SQL or event log over other sources).
    pub kind: &'static str,
    /// Files: the file name (not its directory).
    pub file: Option<String>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    /// PostgreSQL: the environment variable naming the database (never its value).
    pub database_env: Option<String>,
    /// Rows read in the periods the trend lines cover.
    pub rows: f64,
}
