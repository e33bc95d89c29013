//! metrictree: metric trees with owners.
//!
//! Data flow, and the layer order (each module uses only those before it): [`spec`] (YAML →
//! typed spec, author SQL → checked syntax trees) → [`graph`] (resolved, validated DAG) →
//! [`plan`] (one aggregate query per source) → [`sql`] (SQL text) → [`engine`] (the only
//! place SQL runs) → [`eval`] (node values per period and segment) → [`noise`] (is it beyond
//! noise?) and [`attribution`] (exact split of a change, to branches and segments) →
//! [`explain`] (the `why` pipeline) → [`report`] (report models, rendered as text and JSON) →
//! [`error`] → [`session`] (the library's front door) → [`cmd`]. Foundations below them all:
//! [`text`], [`diag`], [`period`]. See `docs/ARCHITECTURE.md`.

pub mod attribution;
pub mod cli;
pub mod cmd;
pub mod delivery;
pub mod demo;
pub mod diag;
pub mod engine;
pub mod error;
pub mod eval;
pub mod explain;
pub mod graph;
pub mod impact;
pub mod noise;
pub mod period;
pub mod plan;
pub mod report;
pub mod session;
pub mod spec;
pub mod sql;
pub mod text;
