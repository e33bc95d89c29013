//! Report models and their renderers. A model ([`why::WhyReport`], [`eval::EvalReport`]) is
//! built once from the library's results — numbers, rankings, verdicts and plain-language
//! facts — and is the JSON boundary (documented in `docs/output.md`, fixed by the schemas in
//! `schemas/`); [`text`] renders the same models for people.

pub mod coverage;
pub mod eval;
pub mod format;
pub mod history;
pub mod style;
pub mod text;
pub mod why;
pub mod words;
