//! The text renderers: each renders one report model for a terminal, escaping every string
//! that came from a tree or from data, and derives no number of its own.

pub mod coverage;
pub mod eval;
pub mod history;
pub mod impact;
pub mod inspect;
pub mod table;
pub mod why;
