//! The tree file: YAML → positioned nodes → typed [`model::Spec`].
//!
//! Only this module reads YAML. See `docs/tree-format.md` for the format.

pub mod formula;
pub mod model;
pub mod parse;
pub mod yaml;

pub use model::Spec;
pub use parse::parse;
