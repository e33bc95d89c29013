//! The distributed backend (`--features distributed`) on a real Apache DataFusion Ballista
//! cluster: a scheduler and two executors, separate `metrictree-ballista` processes on
//! 127.0.0.1 ([`cluster`]). Every shipped tree gives the same answers there as in the local
//! engine, both executors run tasks, and a cluster that fails — a scheduler that is down, a
//! path the executors cannot read, an executor killed mid-query — gives a clear error naming
//! the cluster and the source, or the right answer, never a hang or a partial number.
//!
//! Run with `cargo test --features distributed --test distributed` (after `cargo test`; see
//! the README).

mod cluster;
mod docs;
mod failures;
mod parity;
