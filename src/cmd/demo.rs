//! `metrictree demo-data`: writes the deterministic example dataset.

use std::path::Path;

use super::{Failure, Outcome};

pub fn run(
    out: &Path,
    conversations: u64,
    weeks: u32,
    seed: u64,
    end: chrono::NaiveDate,
    plants: bool,
) -> Outcome {
    if weeks < 2 {
        return Err(Failure::runtime(
            "--weeks must be at least 2 (a period and its baseline)",
        ));
    }
    let o = crate::demo::Options {
        conversations,
        weeks,
        seed,
        end,
        plants,
    };
    let s = crate::demo::generate(out, &o)
        .map_err(|e| Failure::runtime(format!("cannot write to `{}`: {e}", out.display())))?;
    Ok(format!(
        "wrote {} conversations and {} handoffs ({} to {}, plus a partial week) to {}\n",
        s.conversations,
        s.handoffs,
        s.first_week,
        s.last_week,
        out.display()
    ))
}
