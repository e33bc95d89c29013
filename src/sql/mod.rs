//! Renders plans as SQL, per [`Dialect`] (DataFusion, PostgreSQL).
//!
//! Two shapes. [`materialize`] reads a source once: each row inside some period, tagged with
//! its period index `__p` (a `CASE` over the period bounds), its dimensions as text and each
//! measure's per-row value. [`aggregate`] runs over those rows: it pools periods into groups
//! `__g` and groups by `GROUPING SETS ((__g), (__g, d0), (__g, d0, d1), ...)`, returning
//! counts, sums and sums of squares per measure and the noise sums `q{i}`. For DataFusion the
//! rows are kept in memory between aggregations; for PostgreSQL [`pushdown`] fuses both into
//! one statement that runs in the database, with the period bounds bound as parameters; for
//! a Ballista cluster [`fused`] does the same in DataFusion's SQL.
//! Identifiers are always quoted; filters and expressions are `spec::sql_expr::SqlExpr`s, rendered by [`expr`].

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};

use crate::plan::{Aggregate, SourcePlan, TimeMode};
use crate::spec::model::Agg;

pub mod event_log;
pub mod expr;
pub mod load;
pub mod probe;
pub mod query;

pub use expr::{Dialect, ident};

/// `query` after the `WITH` clause of `ctes` (none: the query alone).
pub fn with_ctes(ctes: &[(String, String)], query: &str) -> String {
    format!("{} {query}", with_clause(ctes))
}

/// A timestamp literal (no offset; compared with the column's own frame).
pub fn timestamp(t: &NaiveDateTime) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

/// A value bound to a PostgreSQL statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// For `timestamp` and `date` columns (wall clock in the tree's zone).
    Timestamp(NaiveDateTime),
    /// For `timestamptz` columns.
    Instant(DateTime<Utc>),
}

/// Period bounds as SQL: inline literals for DataFusion, numbered parameters for PostgreSQL.
struct PeriodBounds<'a> {
    plan: &'a SourcePlan,
    dialect: Dialect,
    params: Vec<Param>,
}

impl<'a> PeriodBounds<'a> {
    fn new(plan: &'a SourcePlan, dialect: Dialect) -> PeriodBounds<'a> {
        let params = match dialect {
            Dialect::DataFusion => Vec::new(),
            Dialect::Postgres => plan
                .periods
                .iter()
                .flat_map(|b| [b.start, b.end])
                .map(|t| match plan.time_mode {
                    TimeMode::Local => Param::Timestamp(t),
                    TimeMode::Utc => Param::Instant(Utc.from_utc_datetime(&t)),
                })
                .collect(),
        };
        PeriodBounds {
            plan,
            dialect,
            params,
        }
    }

    /// Period `i`'s start (`end = false`) or end.
    fn at(&self, i: usize, end: bool) -> String {
        let b = &self.plan.periods[i];
        match self.dialect {
            Dialect::DataFusion => timestamp(if end { &b.end } else { &b.start }),
            Dialect::Postgres => {
                let ty = match self.plan.time_mode {
                    TimeMode::Local => "TIMESTAMP",
                    TimeMode::Utc => "TIMESTAMPTZ",
                };
                format!("CAST(${} AS {ty})", 2 * i + 1 + usize::from(end))
            }
        }
    }
}

/// The query that reads a source once: its rows inside any planned period, as `__p` (period
/// index), `d{k}` (each dimension as text) and `x{j}` (each measure's per-row value: 1/0 for
/// counts, the value or NULL for sums, means, minima and maxima, the raw value for distinct
/// counts; NULL or 0 where the measure's filter excludes the row).
pub fn materialize(plan: &SourcePlan) -> String {
    materialize_in(plan, Dialect::DataFusion, &ident(&plan.table)).0
}

/// [`materialize`] in `dialect`, reading `from` (a quoted name); with its parameters.
fn materialize_in(plan: &SourcePlan, dialect: Dialect, from: &str) -> (String, Vec<Param>) {
    let bounds = PeriodBounds::new(plan, dialect);
    let t = ident(&plan.time_column);
    let mut case = String::from("CASE");
    for i in 0..plan.periods.len() {
        let _ = write!(
            case,
            " WHEN {t} >= {} AND {t} < {} THEN {i}",
            bounds.at(i, false),
            bounds.at(i, true)
        );
    }
    case.push_str(" END");
    let range = (0..plan.periods.len())
        .map(|i| {
            format!(
                "({t} >= {} AND {t} < {})",
                bounds.at(i, false),
                bounds.at(i, true)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let (double, text, flag) = (dialect.double(), dialect.text(), dialect.flag());
    let (one, zero) = (format!("CAST(1 AS {flag})"), format!("CAST(0 AS {flag})"));
    let mut cols = vec![format!("CAST({case} AS INT) AS __p")];
    for (k, (_, col)) in plan.dims.iter().enumerate() {
        cols.push(format!("CAST({} AS {text}) AS d{k}", ident(col)));
    }
    for (j, m) in plan.measures.iter().enumerate() {
        let cond = m.filter.as_ref().map(|f| f.render(dialect));
        let when = |v: &str| match &cond {
            Some(c) => format!("CASE WHEN {c} THEN {v} END"),
            None => v.to_string(),
        };
        let x = match (m.agg, m.expr.as_ref().map(|e| e.render(dialect))) {
            (Agg::Count, None) => match &cond {
                Some(c) => format!("CASE WHEN {c} THEN {one} ELSE {zero} END"),
                None => one.clone(),
            },
            (Agg::Count, Some(e)) => {
                let c = cond.clone().map_or(String::new(), |c| format!("{c} AND "));
                format!("CASE WHEN {c}({e}) IS NOT NULL THEN {one} ELSE {zero} END")
            }
            (Agg::CountDistinct, Some(e)) => when(&format!("({e})")),
            (_, Some(e)) => when(&format!("CAST(({e}) AS {double})")),
            // Rejected by the spec parser; count rows so the plan stays total.
            (_, None) => one.clone(),
        };
        cols.push(format!("{x} AS x{j}"));
    }
    if let Some(w) = &plan.weight {
        cols.push(format!("CAST({} AS {double}) AS __w", ident(w)));
    }
    let sql = format!("SELECT {} FROM {from} WHERE {range}", cols.join(", "));
    (sql, bounds.params)
}

/// A coefficient as a SQL literal (shortest round-trip decimal, never an exponent).
fn literal(c: f64, dialect: Dialect) -> String {
    let c = if c.is_finite() { c } else { 0.0 };
    format!("CAST({c} AS {})", dialect.double())
}

/// An aggregation over a source's materialized rows (`plan.mem_table()`). Output columns:
/// `__g` (group index); per dimension `d{k}` and `g{k}` (`GROUPING()`, 1 when grouped away,
/// so a real NULL value is told apart); `__rows`; per measure `m{j}_n`, `m{j}_s`, `m{j}_ss`,
/// `m{j}_v`; per noise combination `q{i}` = Σ (Σ cⱼ·xⱼ)².
pub fn aggregate(plan: &SourcePlan, agg: &Aggregate) -> String {
    aggregate_in(
        plan,
        agg,
        Dialect::DataFusion,
        SumMode::ExactSum,
        &ident(&plan.mem_table()),
    )
}

/// One statement for PostgreSQL: `ctes` (name, query: the source's relation and the
/// relations it reads), the source's rows in the periods ([`materialize`]) and their
/// aggregation ([`aggregate`]); with the period bounds as parameters. The last CTE is the
/// source itself.
pub fn pushdown(
    plan: &SourcePlan,
    agg: &Aggregate,
    ctes: &[(String, String)],
) -> (String, Vec<Param>) {
    let src = ctes.last().map(|(n, _)| ident(n)).unwrap_or_default();
    let (rows, params) = materialize_in(plan, Dialect::Postgres, &src);
    let mut with = ctes.to_vec();
    with.push(("__rows".to_string(), rows));
    let body = aggregate_in(
        plan,
        agg,
        Dialect::Postgres,
        SumMode::Numeric,
        &ident("__rows"),
    );
    (format!("{} {body}", with_clause(&with)), params)
}

/// One statement for a Ballista cluster (`engine::cluster`): the source's rows in the periods
/// ([`materialize`], reading the registered source) and their aggregation ([`aggregate`]),
/// fused as for PostgreSQL, so the scan, the derivations and the grouping sets run on the
/// executors and only aggregates come back. Sums are [`SumMode::Decimal`]: stock executors
/// know no `exact_sum`.
pub fn fused(plan: &SourcePlan, agg: &Aggregate) -> String {
    let (rows, _) = materialize_in(plan, Dialect::DataFusion, &ident(&plan.table));
    let body = aggregate_in(
        plan,
        agg,
        Dialect::DataFusion,
        SumMode::Decimal,
        &ident("__rows"),
    );
    format!("WITH {} AS (\n{rows}\n) {body}", ident("__rows"))
}

/// `WITH "name" AS NOT MATERIALIZED (query), ...` (PostgreSQL). Inlined, so the planner
/// sees the tables' statistics and indexes through every source. Each query starts and ends
/// on its own line, so a trailing `--` comment in an author's query cannot swallow the
/// closing parenthesis.
pub fn with_clause(ctes: &[(String, String)]) -> String {
    let parts: Vec<String> = ctes
        .iter()
        .map(|(n, q)| format!("{} AS NOT MATERIALIZED (\n{q}\n)", ident(n)))
        .collect();
    format!("WITH {}", parts.join(",\n"))
}

/// How a sum is written so that it does not depend on partitioning, batch sizes, parallel
/// workers or the order partial results arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SumMode {
    /// The `exact_sum` aggregate (`engine::exact_sum`): exact, then rounded once.
    ExactSum,
    /// PostgreSQL `NUMERIC` arithmetic.
    Numeric,
    /// For a Ballista cluster, whose stock executors know no `exact_sum`: each value times
    /// 2¹²⁰ (exact: a power of two) as a 256-bit decimal integer, summed as integers, the
    /// total back as a double times 2⁻¹²⁰ (exact again). So the total does not depend on how
    /// the rows were split or the order partial sums arrive in, and it is `exact_sum`'s
    /// wherever the values hold no bits below 2⁻¹²⁰ (values above 10⁻²⁰ or so; smaller bits
    /// are rounded per value), but for the last bit in rare ties: arrow turns the 256-bit
    /// total into a double from its top 64 bits. The 76 digits hold 7·10⁹ values at the
    /// largest size taken, 10³⁰ (a sum of squares: values up to 10¹⁵); a group holding a value
    /// that size or more, NaN or an infinity falls back to the double sum (IEEE rules, as
    /// `exact_sum`; order-dependent in its last bits).
    Decimal,
}

/// 2¹²⁰ and 2⁻¹²⁰ as SQL literals (both exact doubles; see [`SumMode::Decimal`]).
const SCALE_UP: &str = "CAST(1.329227995784916e36 AS DOUBLE)";
const SCALE_DOWN: &str = "CAST(7.52316384526264e-37 AS DOUBLE)";

/// An order-independent sum of a `DOUBLE` expression (see [`SumMode`]).
fn exact_sum(e: &str, mode: SumMode) -> String {
    match mode {
        SumMode::ExactSum => format!("exact_sum({e})"),
        SumMode::Numeric => format!("CAST(SUM(CAST({e} AS NUMERIC)) AS DOUBLE PRECISION)"),
        SumMode::Decimal => format!(
            "CASE WHEN SUM(CASE WHEN ({e}) IS NULL OR ABS({e}) < 1e30 THEN 0 ELSE 1 END) > 0 \
             THEN CAST(SUM({e}) AS DOUBLE) \
             ELSE CAST(SUM(CAST(CASE WHEN ABS({e}) < 1e30 THEN ({e}) * {SCALE_UP} END AS DECIMAL(76, 0))) AS DOUBLE) * {SCALE_DOWN} END"
        ),
    }
}

fn aggregate_in(
    plan: &SourcePlan,
    agg: &Aggregate,
    dialect: Dialect,
    mode: SumMode,
    from: &str,
) -> String {
    let double = dialect.double();
    let sum = |e: &str| exact_sum(e, mode);
    let mut group = String::from("CASE");
    for (g, periods) in agg.groups.iter().enumerate() {
        let list = periods.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let _ = write!(group, " WHEN __p IN ({}) THEN {g}", list.join(", "));
    }
    group.push_str(" END");
    let all: Vec<String> = agg.groups.iter().flatten().map(|p| p.to_string()).collect();

    let mut cols = vec!["__g".to_string()];
    let grouped = agg.sets.iter().any(|s| !s.is_empty());
    for k in (0..plan.dims.len()).filter(|_| grouped) {
        if agg.sets.iter().any(|s| s.contains(&k)) {
            cols.push(format!("d{k}"));
            cols.push(format!("GROUPING(d{k}) AS g{k}"));
        } else {
            // In no grouping set (every set of `why --compare` fixes its dimension, so its
            // totals group by that one only): always grouped away.
            cols.push(format!("CAST(NULL AS {}) AS d{k}", dialect.text()));
            cols.push(format!("CAST(1 AS {double}) AS g{k}"));
        }
    }
    // With a weight column a row stands for `__w` conversations (frequency weights): every
    // count, sum and sum of squares is weighted; minima, maxima and distinct values are not.
    let weighted = plan.weight.is_some();
    let w = |e: &str| {
        if weighted {
            format!("{e} * __w")
        } else {
            e.to_string()
        }
    };
    let present = |x: &str| {
        if weighted {
            sum(&format!(
                "CASE WHEN {x} IS NOT NULL THEN __w ELSE CAST(0 AS {double}) END"
            ))
        } else {
            format!("CAST(COUNT({x}) AS {double})")
        }
    };
    if weighted {
        cols.push(format!("{} AS __rows", sum("__w")));
        // Rows whose weight is missing, negative or not finite: an error, never a number.
        cols.push(format!(
            "CAST(SUM(CASE WHEN __w >= 0 AND __w < 1e300 THEN 0 ELSE 1 END) AS {double}) AS __bad_w"
        ));
    } else {
        cols.push(format!("CAST(COUNT(*) AS {double}) AS __rows"));
    }
    for (j, m) in plan.measures.iter().enumerate() {
        let x = format!("x{j}");
        match m.agg {
            Agg::Count => cols.push(format!("{} AS m{j}_n", sum(&w(&x)))),
            Agg::Sum | Agg::Mean => {
                cols.push(format!("{} AS m{j}_n", present(&x)));
                cols.push(format!("{} AS m{j}_s", sum(&w(&x))));
                cols.push(format!("{} AS m{j}_ss", sum(&w(&format!("{x} * {x}")))));
            }
            Agg::Min | Agg::Max => {
                let f = if m.agg == Agg::Min { "MIN" } else { "MAX" };
                cols.push(format!("{} AS m{j}_n", present(&x)));
                cols.push(format!("{f}({x}) AS m{j}_v"));
            }
            Agg::CountDistinct => {
                cols.push(format!("{} AS m{j}_n", present(&x)));
                cols.push(format!("CAST(COUNT(DISTINCT {x}) AS {double}) AS m{j}_v"));
            }
        }
    }
    let zero = format!("CAST(0 AS {double})");
    for (i, combo) in agg.psi.iter().enumerate() {
        let terms: Vec<String> = combo
            .iter()
            .map(|&(j, c)| format!("{} * COALESCE(x{j}, {zero})", literal(c, dialect)))
            .collect();
        let e = if terms.is_empty() {
            zero.clone()
        } else {
            format!("({})", terms.join(" + "))
        };
        cols.push(format!("{} AS q{i}", sum(&w(&format!("{e} * {e}")))));
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
        "SELECT {} FROM (SELECT *, {group} AS __g FROM {from} WHERE __p IN ({})) AS __s GROUP BY {group_by}",
        cols.join(", "),
        all.join(", ")
    )
}

/// The times a period can hold: rows outside (a mis-read year, a placeholder date such as
/// 2300-01-01) are counted and left out, never silently spread over the periods.
pub const PLAUSIBLE_TIMES: (&str, &str) = ("1900-01-01 00:00:00", "2200-01-01 00:00:00");

/// The aggregates of a time range: `lo`, `hi` (over plausible times), `n` (rows), `timed`
/// (rows with a time), `outside` (rows whose time is not plausible).
fn time_range_columns(t: &str, text: bool) -> String {
    let (from, to) = PLAUSIBLE_TIMES;
    let inside = format!("{t} >= TIMESTAMP '{from}' AND {t} < TIMESTAMP '{to}'");
    let cast = |e: String| {
        if text {
            format!("CAST({e} AS TEXT)")
        } else {
            e
        }
    };
    let double = if text { "DOUBLE PRECISION" } else { "DOUBLE" };
    format!(
        "{} AS lo, {} AS hi, CAST(COUNT(*) AS {double}) AS n, CAST(COUNT({t}) AS {double}) AS timed, \
         CAST(COUNT(*) FILTER (WHERE {t} IS NOT NULL AND NOT ({inside})) AS {double}) AS outside",
        cast(format!("MIN({t}) FILTER (WHERE {inside})")),
        cast(format!("MAX({t}) FILTER (WHERE {inside})")),
    )
}

/// The query for a source's time range (DataFusion).
pub fn time_range(table: &str, time_column: &str) -> String {
    let t = ident(time_column);
    format!(
        "SELECT {} FROM {}",
        time_range_columns(&t, false),
        ident(table)
    )
}

/// The query for a PostgreSQL source's time range: the last CTE is the source. Times come
/// back as text in the session's zone (UTC), which `engine::parse_timestamp` reads.
pub fn time_range_pushdown(ctes: &[(String, String)], time_column: &str) -> String {
    let t = ident(time_column);
    let src = ctes.last().map(|(n, _)| ident(n)).unwrap_or_default();
    format!(
        "{} SELECT {} FROM {src}",
        with_clause(ctes),
        time_range_columns(&t, true)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decimal_sum_scales_are_exact_powers_of_two() {
        let num = |s: &str| -> f64 {
            let n = s.trim_start_matches("CAST(").split(' ').next().unwrap();
            n.parse().unwrap()
        };
        assert_eq!(num(super::SCALE_UP), 2f64.powi(120));
        assert_eq!(num(super::SCALE_DOWN), 2f64.powi(-120));
    }
}
