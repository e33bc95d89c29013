//! Renders plans as SQL (the DataFusion dialect, which is PostgreSQL-like).
//!
//! Two shapes. [`materialize`] reads a source once: each row inside some period, tagged with
//! its period index `__p` (a `CASE` over the period bounds), its dimensions as text and each
//! measure's per-row value. [`aggregate`] runs over those rows: it pools periods into groups
//! `__g` and groups by `GROUPING SETS ((__g), (__g, d0), (__g, d0, d1), ...)`, returning
//! counts, sums and sums of squares per measure and the noise sums `q{i}`.

use std::fmt::Write as _;

use chrono::NaiveDateTime;

use crate::plan::{Aggregate, SourcePlan};
use crate::spec::model::Agg;

/// Quotes an identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A timestamp literal (no offset; compared with the column's own frame).
pub fn timestamp(t: &NaiveDateTime) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

/// The query that reads a source once: its rows inside any planned period, as `__p` (period
/// index), `d{k}` (each dimension as text) and `x{j}` (each measure's per-row value: 1/0 for
/// counts, the value or NULL for sums, means, minima and maxima, the raw value for distinct
/// counts; NULL or 0 where the measure's filter excludes the row).
pub fn materialize(plan: &SourcePlan) -> String {
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
    let mut cols = vec![format!("CAST({case} AS INT) AS __p")];
    for (k, (_, col)) in plan.dims.iter().enumerate() {
        cols.push(format!("CAST({} AS VARCHAR) AS d{k}", ident(col)));
    }
    for (j, m) in plan.measures.iter().enumerate() {
        let cond = m.filter.as_ref().map(|f| format!("({f})"));
        let when = |v: &str| match &cond {
            Some(c) => format!("CASE WHEN {c} THEN {v} END"),
            None => v.to_string(),
        };
        let x = match (m.agg, &m.expr) {
            (Agg::Count, None) => match &cond {
                Some(c) => format!("CASE WHEN {c} THEN 1.0 ELSE 0.0 END"),
                None => "1.0".into(),
            },
            (Agg::Count, Some(e)) => {
                let c = cond.clone().map_or(String::new(), |c| format!("{c} AND "));
                format!("CASE WHEN {c}({e}) IS NOT NULL THEN 1.0 ELSE 0.0 END")
            }
            (Agg::CountDistinct, Some(e)) => when(&format!("({e})")),
            (_, Some(e)) => when(&format!("CAST(({e}) AS DOUBLE)")),
            // Rejected by the spec parser; count rows so the plan stays total.
            (_, None) => "1.0".into(),
        };
        cols.push(format!("{x} AS x{j}"));
    }
    format!(
        "SELECT {} FROM {} WHERE {range}",
        cols.join(", "),
        ident(&plan.table)
    )
}

/// A coefficient as a SQL literal (shortest round-trip decimal, never an exponent).
fn literal(c: f64) -> String {
    let c = if c.is_finite() { c } else { 0.0 };
    if c < 0.0 {
        format!("({c})")
    } else {
        format!("{c}")
    }
}

/// An aggregation over a source's materialized rows (`plan.mem_table()`). Output columns:
/// `__g` (group index); per dimension `d{k}` and `g{k}` (`GROUPING()`, 1 when grouped away,
/// so a real NULL value is told apart); `__rows`; per measure `m{j}_n`, `m{j}_s`, `m{j}_ss`,
/// `m{j}_v`; per noise combination `q{i}` = Σ (Σ cⱼ·xⱼ)².
pub fn aggregate(plan: &SourcePlan, agg: &Aggregate) -> String {
    let mut group = String::from("CASE");
    for (g, periods) in agg.groups.iter().enumerate() {
        let list = periods.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let _ = write!(group, " WHEN __p IN ({}) THEN {g}", list.join(", "));
    }
    group.push_str(" END");
    let all: Vec<String> = agg.groups.iter().flatten().map(|p| p.to_string()).collect();

    let mut cols = vec!["__g".to_string()];
    let grouped = agg.sets.iter().any(|s| !s.is_empty());
    for k in 0..plan.dims.len() {
        if grouped {
            cols.push(format!("d{k}"));
            cols.push(format!("GROUPING(d{k}) AS g{k}"));
        }
    }
    cols.push("COUNT(*) AS __rows".into());
    for (j, m) in plan.measures.iter().enumerate() {
        let x = format!("x{j}");
        match m.agg {
            Agg::Count => cols.push(format!("SUM({x}) AS m{j}_n")),
            Agg::Sum | Agg::Mean => {
                cols.push(format!("CAST(COUNT({x}) AS DOUBLE) AS m{j}_n"));
                cols.push(format!("SUM({x}) AS m{j}_s"));
                cols.push(format!("SUM({x} * {x}) AS m{j}_ss"));
            }
            Agg::Min | Agg::Max => {
                let f = if m.agg == Agg::Min { "MIN" } else { "MAX" };
                cols.push(format!("CAST(COUNT({x}) AS DOUBLE) AS m{j}_n"));
                cols.push(format!("{f}({x}) AS m{j}_v"));
            }
            Agg::CountDistinct => {
                cols.push(format!("CAST(COUNT({x}) AS DOUBLE) AS m{j}_n"));
                cols.push(format!("CAST(COUNT(DISTINCT {x}) AS DOUBLE) AS m{j}_v"));
            }
        }
    }
    for (i, combo) in agg.psi.iter().enumerate() {
        let terms: Vec<String> = combo
            .iter()
            .map(|&(j, c)| format!("{} * COALESCE(x{j}, 0.0)", literal(c)))
            .collect();
        let e = if terms.is_empty() {
            "0.0".to_string()
        } else {
            format!("({})", terms.join(" + "))
        };
        cols.push(format!("SUM({e} * {e}) AS q{i}"));
    }
    let group_by = if grouped {
        let sets: Vec<String> = agg
            .sets
            .iter()
            .map(|s| {
                let mut c = vec!["__g".to_string()];
                c.extend(s.iter().map(|k| format!("d{k}")));
                format!("({})", c.join(", "))
            })
            .collect();
        format!("GROUPING SETS ({})", sets.join(", "))
    } else {
        "__g".to_string()
    };
    format!(
        "SELECT {} FROM (SELECT *, {group} AS __g FROM {} WHERE __p IN ({})) AS __s GROUP BY {group_by}",
        cols.join(", "),
        ident(&plan.mem_table()),
        all.join(", ")
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
