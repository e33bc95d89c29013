//! metrictree's integration tests: one test binary, one module per feature. Tests drive the
//! real binary (`util::mt`) or the library's public stages, on the bundled example, on
//! fixtures written to temporary directories, and on `../shared/reference` cases.

mod architecture;
mod bad_data;
mod browser;
mod builder;
mod check;
mod compare;
mod csv_cache;
mod determinism;
mod docs;
mod eval;
mod event_log;
mod fuzz;
mod hostile;
mod impact;
mod invariance;
mod malformed;
mod messy_csv;
mod noise;
mod notify;
mod pg;
mod postgres;
mod progress;
mod property;
mod recipes;
mod reference;
mod report;
mod schema;
mod segments;
mod snapshots;
mod util;
mod weights;
mod why;
