//! What can stop a run, as types, and the exit code of each — in one place.
//!
//! Exit codes (documented in the README): 0 ok; 1 the tree does not check — its text, or the
//! data it names (a missing file, an unknown column, too many bad rows), located in the tree
//! file; 2 a problem at run time — arguments that do not fit the tree, periods, undefined
//! values, limits, a failing query or connection; 3 `notify --send` delivered some messages
//! but not all (the summary says which).

use crate::text;

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tree does not check: every diagnostic, already rendered against the tree's lines
    /// (and escaped there), followed by the summary line.
    #[error("{rendered}")]
    InvalidTree { rendered: String },
    /// An argument that does not fit the tree or the command (an unknown node or dimension,
    /// a flag out of range, a value where a variable name was expected).
    #[error("{0}")]
    Argument(String),
    /// The periods asked for (or the default) cannot be compared: no complete period, a label
    /// that does not parse, a baseline equal to the current period.
    #[error("{0}")]
    Period(String),
    /// A node has no value in a period; the message says where it started and what to do.
    #[error("{0}")]
    Undefined(String),
    /// The data or the engine failed at run time: a query, a file, a connection, a limit.
    #[error("{0}")]
    Runtime(String),
    /// Some deliveries failed (`notify --send`): the run's summary, every message's line.
    #[error("{0}")]
    Delivery(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidTree { .. } => 1,
            Error::Argument(_) | Error::Period(_) | Error::Undefined(_) | Error::Runtime(_) => 2,
            Error::Delivery(_) => 3,
        }
    }

    /// What stdout still shows although the command failed: the summary of a delivery run.
    pub fn output(&self) -> Option<&str> {
        match self {
            Error::Delivery(summary) => Some(summary),
            _ => None,
        }
    }

    /// What stderr shows. Run-time messages may quote tree, data or engine text, so they are
    /// escaped here (see `text`); diagnostics were escaped when rendered.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidTree { rendered } => rendered.clone(),
            Error::Delivery(_) => {
                "error: some messages were not delivered (see above); a rerun sends only those"
                    .to_string()
            }
            other => format!("error: {}", text::escape_lines(&other.to_string())),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Runtime(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
