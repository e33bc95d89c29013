//! `metrictree demo-data`: writes the deterministic example dataset.

use std::path::Path;

use super::Outcome;
use crate::error::Error;

pub fn run(
    out: &Path,
    conversations: u64,
    weeks: u32,
    seed: u64,
    end: chrono::NaiveDate,
    plants: bool,
) -> Outcome {
    if weeks < 2 {
        return Err(Error::Argument(
            "--weeks must be at least 2 (a period and its baseline)".into(),
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
        .map_err(|e| Error::Runtime(format!("cannot write to `{}`: {e}", out.display())))?;
    Ok(format!(
        "wrote {} conversations, {} handoffs and {} audits ({} to {}, plus a partial week) to {}\n",
        s.conversations,
        s.handoffs,
        s.audits,
        s.first_week,
        s.last_week,
        out.display()
    ))
}

/// `demo-data --wide-dims D`: the benchmark dataset and its tree.
pub fn wide(out: &Path, rows: u64, dims: usize, values: usize, weeks: u32) -> Outcome {
    if !(2..=30).contains(&dims) || !(2..=1000).contains(&values) || weeks < 2 {
        return Err(Error::Argument(
            "--wide-dims takes 2 to 30, --wide-values 2 to 1000, and --weeks at least 2".into(),
        ));
    }
    let o = crate::demo::wide::WideOptions {
        rows,
        dims,
        values,
        history: weeks - 2,
    };
    crate::demo::wide::generate(out, &o)
        .map_err(|e| Error::Runtime(format!("cannot write to `{}`: {e}", out.display())))?;
    Ok(format!(
        "wrote {rows} conversations with {dims} dimensions of {values} values and tree.yaml to {}\n",
        out.display()
    ))
}
