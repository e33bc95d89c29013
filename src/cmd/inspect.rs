//! `metrictree inspect FILE`: what a CSV export holds before a tree reads it (see
//! `engine::inspect`), rendered by `report::text::inspect`.

use std::path::Path;

use super::Outcome;
use crate::error::Error;

pub fn run(path: &Path, rows: usize) -> Outcome {
    let profile = crate::engine::inspect::profile(path, rows).map_err(Error::Runtime)?;
    Ok(crate::report::text::inspect::render(path, &profile))
}
