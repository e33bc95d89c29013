//! Rendering results for people (text) and programs (JSON). Boundary: the JSON shapes here
//! are documented in `docs/output.md` and fixed by the schemas in `schemas/`.

pub mod coverage;
pub mod eval;
pub mod format;
pub mod style;
pub mod terminal;
pub mod why;
