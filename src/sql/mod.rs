//! Renders a [`SourcePlan`] as one SQL statement (the DataFusion dialect, which is
//! PostgreSQL-like).
//!
//! Shape: an inner query tags each row of the source with its period index `__p` (a `CASE`
//! over the period bounds) and keeps only rows inside some period; the outer query groups by
//! `GROUPING SETS ((__p), (__p, d0), (__p, d1), ...)`. Output columns: `__p`; per dimension
//! `d{k}` (as text) and `g{k}` (`GROUPING()`, 1 when grouped away, so a real NULL value is
//! told apart); `__rows`; per measure `m{j}_n`, `m{j}_s`, `m{j}_ss` and `m{j}_v`.

use std::fmt::Write as _;

use chrono::NaiveDateTime;

use crate::plan::SourcePlan;
use crate::spec::model::Agg;

/// Quotes an identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A timestamp literal (no offset; compared with the column's own frame).
pub fn timestamp(t: &NaiveDateTime) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

/// The SQL for one source plan.
pub fn render(plan: &SourcePlan) -> String {
    let t = ident(&plan.time_column);
    let mut case = String::from("CASE");
    for (i, b) in plan.periods.iter().enumerate() {
        let _ = write!(
            case,
            " WHEN {t} >= {} AND {t} < {} THEN {i}",
            timestamp(&b.start),
            timestamp(&b.end)
        );
    }
    case.push_str(" END");
    let range = plan
        .periods
        .iter()
        .map(|b| {
            format!(
                "({t} >= {} AND {t} < {})",
                timestamp(&b.start),
                timestamp(&b.end)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");

    let mut cols = vec!["__p".to_string()];
    for (k, (_, col)) in plan.dims.iter().enumerate() {
        let c = ident(col);
        cols.push(format!("CAST({c} AS VARCHAR) AS d{k}"));
        cols.push(format!("GROUPING({c}) AS g{k}"));
    }
    cols.push("COUNT(*) AS __rows".into());
    for (j, m) in plan.measures.iter().enumerate() {
        let cond = m.filter.as_ref().map(|f| format!("({f})"));
        let when = |v: &str| match &cond {
            Some(c) => format!("CASE WHEN {c} THEN {v} END"),
            None => v.to_string(),
        };
        match (m.agg, &m.expr) {
            (Agg::Count, None) => {
                let one = match &cond {
                    Some(c) => format!("CASE WHEN {c} THEN 1 ELSE 0 END"),
                    None => "1".into(),
                };
                cols.push(format!("CAST(SUM({one}) AS DOUBLE) AS m{j}_n"));
            }
            (Agg::Count, Some(e)) => {
                cols.push(format!(
                    "CAST(COUNT({}) AS DOUBLE) AS m{j}_n",
                    when(&format!("({e})"))
                ));
            }
            (Agg::Sum | Agg::Mean, Some(e)) => {
                let x = when(&format!("CAST(({e}) AS DOUBLE)"));
                cols.push(format!("CAST(COUNT({x}) AS DOUBLE) AS m{j}_n"));
                cols.push(format!("SUM({x}) AS m{j}_s"));
                cols.push(format!("SUM(({x}) * ({x})) AS m{j}_ss"));
            }
            (Agg::Min | Agg::Max, Some(e)) => {
                let x = when(&format!("CAST(({e}) AS DOUBLE)"));
                let f = if m.agg == Agg::Min { "MIN" } else { "MAX" };
                cols.push(format!("CAST(COUNT({x}) AS DOUBLE) AS m{j}_n"));
                cols.push(format!("{f}({x}) AS m{j}_v"));
            }
            (Agg::CountDistinct, Some(e)) => {
                let x = when(&format!("({e})"));
                cols.push(format!("CAST(COUNT({x}) AS DOUBLE) AS m{j}_n"));
                cols.push(format!("CAST(COUNT(DISTINCT {x}) AS DOUBLE) AS m{j}_v"));
            }
            // Rejected by the spec parser; render a count so the plan stays total.
            (_, None) => cols.push(format!("CAST(COUNT(*) AS DOUBLE) AS m{j}_n")),
        }
    }
    let mut sets = vec!["(__p)".to_string()];
    for (_, col) in &plan.dims {
        sets.push(format!("(__p, {})", ident(col)));
    }
    format!(
        "SELECT {} FROM (SELECT *, {case} AS __p FROM {} WHERE {range}) AS __s GROUP BY GROUPING SETS ({})",
        cols.join(", "),
        ident(&plan.table),
        sets.join(", ")
    )
}

/// The query for a source's time range.
pub fn time_range(table: &str, time_column: &str) -> String {
    let t = ident(time_column);
    format!(
        "SELECT MIN({t}) AS lo, MAX({t}) AS hi, COUNT(*) AS n FROM {}",
        ident(table)
    )
}
