//! Report models and their renderers. A model ([`why::WhyReport`], [`eval::EvalReport`]) is
//! built once from the library's results — numbers, rankings, verdicts and plain-language
//! facts — and is the JSON boundary (documented in `docs/output.md`, fixed by the schemas in
//! `schemas/`); [`text`] renders the same models for people.
//!
//! The owner reports (`metrictree report`) are one more model, [`pack::ReportSet`], built from
//! the `why` and `history` models; [`render`] passes it through the Tera templates in
//! `templates/` (HTML, Markdown, text) with the charts of [`chart`] already drawn.

pub mod chart;
pub mod coverage;
pub mod eval;
pub mod files;
pub mod format;
pub mod history;
pub mod impact;
pub mod pack;
pub mod provenance;
pub mod redact;
pub mod render;
pub mod style;
pub mod text;
pub mod why;
pub mod words;
