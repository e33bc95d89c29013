//! metrictree: metric trees with owners.
//!
//! Data flow: [`spec`] (YAML → typed spec) → [`graph`] (resolved, validated DAG) →
//! [`plan`] (one aggregate query per source) → [`sql`] (SQL text) → [`engine`] (DataFusion
//! over files) → [`eval`] (node values per period and segment) → [`attribution`] (exact
//! split of a change, to branches and segments) → [`noise`] (is it beyond noise?) → [`report`] (text and JSON). See `docs/ARCHITECTURE.md`.

pub mod attribution;
pub mod cli;
pub mod cmd;
pub mod demo;
pub mod diag;
pub mod engine;
pub mod error;
pub mod eval;
pub mod explain;
pub mod graph;
pub mod noise;
pub mod period;
pub mod plan;
pub mod report;
pub mod session;
pub mod spec;
pub mod sql;
pub mod text;
