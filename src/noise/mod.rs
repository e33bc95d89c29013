//! Is a change beyond noise? Distributions (`dist`), one-change tests (`inference`: z test for
//! rates, Welch for means, delta method otherwise), over-dispersion from the tree's history
//! (`dispersion`) and false-discovery-rate control (`fdr`). Pure maths, no IO; `why` decides
//! which test fits which node. See `docs/noise.md`.

pub mod dispersion;
pub mod dist;
pub mod fdr;
pub mod inference;
pub mod volume;

pub use dispersion::Dispersion;
pub use inference::{Method, Moments, Test};

/// The false discovery rate `why` controls by default.
pub const DEFAULT_FDR: f64 = 0.05;
