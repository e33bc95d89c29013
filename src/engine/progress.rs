//! What the engine is reading right now, for a progress display: the source and the rows
//! read so far. The engine only records it (one counter per batch); the binary draws it on
//! stderr when stderr is a terminal and `--quiet` is not given (`main.rs`), so the library
//! never prints and its output does not depend on it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static ROWS: AtomicU64 = AtomicU64::new(0);
static ACTIVE: Mutex<Option<(String, Instant)>> = Mutex::new(None);

/// While alive, the engine is reading `label`'s rows.
pub struct Reading(());

/// Starts recording a read of the source `label` (a source id from the tree: escaped before
/// it is drawn).
pub fn reading(label: &str) -> Reading {
    ROWS.store(0, Ordering::Relaxed);
    *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = Some((label.to_string(), Instant::now()));
    Reading(())
}

impl Reading {
    /// `n` more rows were read.
    pub fn rows(&self, n: usize) {
        ROWS.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The read in progress: its source, how long it has run and the rows read so far.
pub fn now() -> Option<(String, Duration, u64)> {
    let active = ACTIVE.lock().unwrap_or_else(|p| p.into_inner());
    active
        .as_ref()
        .map(|(label, start)| (label.clone(), start.elapsed(), ROWS.load(Ordering::Relaxed)))
}
