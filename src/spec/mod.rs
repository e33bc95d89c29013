//! The tree file: YAML → positioned nodes → typed [`model::Spec`].
//!
//! Only this module reads YAML. See `docs/tree-format.md` for the format.

pub mod actions;
pub mod event_log;
pub mod formula;
pub mod locale;
pub mod model;
pub mod notify;
pub mod parse;
pub mod question;
pub mod sql_expr;
pub mod sql_query;
pub mod targets;
pub mod time_format;
pub mod yaml;

pub use model::Spec;
pub use parse::parse;
