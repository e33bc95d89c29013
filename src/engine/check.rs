//! Checks the tree against the data's schema: time columns, dimension columns, and every
//! measure's expression and filter (planned by the engine, not run). Each problem points at
//! the tree file's text, with the closest column name when there is one. For PostgreSQL
//! sources the whole pushed-down statement is also planned by the server.

use datafusion::arrow::datatypes::Schema;

use super::{Backend, Engine, is_time_type};
use crate::diag::{Diagnostic, did_you_mean};
use crate::graph::{Def, MetricGraph};
use crate::spec::model::{Located, Source};
use crate::sql::probe;

fn unknown_column(what: &str, col: &Located<String>, s: &Source, schema: &Schema) -> Diagnostic {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    Diagnostic::error(
        "E031",
        format!("source `{}` has no column `{}` ({what})", s.id, col.value),
    )
    .at(col.pos)
    .subject(format!("source `{}`", s.id))
    .help(did_you_mean(&col.value, names.iter().copied(), "columns"))
}

pub(super) fn check_columns(s: &Source, schema: &Schema) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    match schema.field_with_name(&s.time.value) {
        Err(_) => out.push(unknown_column("its time column", &s.time, s, schema)),
        Ok(f) if f.data_type().is_null() => out.push(
            Diagnostic::error(
                "E031",
                format!(
                    "time column `{}` of source `{}` holds no values: the data has no rows",
                    s.time.value, s.id
                ),
            )
            .at(s.time.pos)
            .help("export the data again with its rows (the file holds only a header, or only empty times)"),
        ),
        Ok(f) if !is_time_type(f.data_type()) => out.push(
            Diagnostic::error(
                "E031",
                format!(
                    "time column `{}` of source `{}` holds {}, not timestamps",
                    s.time.value,
                    s.id,
                    f.data_type()
                ),
            )
            .at(s.time.pos)
            .help("write times as ISO 8601 (`2026-11-16 09:15:00` or `2026-11-16T09:15:00+01:00`), or cast in a SQL source"),
        ),
        Ok(_) => {}
    }
    if let Some(w) = &s.weight {
        match schema.field_with_name(&w.value) {
            Err(_) => out.push(unknown_column("its weight column", w, s, schema)),
            Ok(f) if !f.data_type().is_numeric() && !f.data_type().is_null() => out.push(
                Diagnostic::error(
                    "E031",
                    format!(
                        "weight column `{}` of source `{}` holds {}, not numbers",
                        w.value,
                        s.id,
                        f.data_type()
                    ),
                )
                .at(w.pos)
                .help("a weight is how many conversations a row stands for: export it as plain numbers, or cast it in a SQL source"),
            ),
            Ok(_) => {}
        }
    }
    for (dim, col) in &s.dimensions {
        if schema.field_with_name(&col.value).is_err() {
            out.push(unknown_column(
                &format!("mapped to dimension `{}`", dim.value),
                col,
                s,
                schema,
            ));
        }
    }
    out
}

/// Plans `SELECT expr ... WHERE filter` for every measure and reports what does not plan.
pub fn check_measures(engine: &Engine, graph: &MetricGraph) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for n in &graph.nodes {
        let Def::Measure(m) = &n.def else { continue };
        let s = &graph.spec.sources[m.source];
        let Some(info) = &engine.info[m.source] else {
            continue;
        };
        for (what, part, sql) in [
            (
                "expression",
                &m.expr,
                m.expr_sql.as_ref().map(|e| probe::expression(&s.id, e)),
            ),
            (
                "filter",
                &m.filter,
                m.filter_sql.as_ref().map(|f| probe::filter(&s.id, f)),
            ),
        ] {
            let (Some(part), Some(sql)) = (part, sql) else {
                continue;
            };
            if let Err(e) = engine.plan_only(&sql) {
                let bare = crate::spec::parse::is_id(&part.value)
                    && info.schema.field_with_name(&part.value).is_err();
                let d = if bare {
                    unknown_column(
                        &format!("in the {what} of node `{}`", n.id),
                        part,
                        s,
                        &info.schema,
                    )
                } else {
                    let msg = e.lines().next().unwrap_or(&e).to_string();
                    let names: Vec<&str> = info
                        .schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect();
                    Diagnostic::error(
                        "E032",
                        format!(
                            "the {what} of node `{}` does not work on source `{}`: {msg}",
                            n.id, s.id
                        ),
                    )
                    .at(part.pos)
                    .help(format!(
                        "write a SQL {what} over the columns of `{}`: {}",
                        s.id,
                        names.join(", ")
                    ))
                };
                out.push(d.subject(format!("node `{}`", n.id)));
            }
        }
        // A sum, mean, minimum or maximum of text: the values that are not numbers (a
        // thousands separator, a unit) would stop `eval` with a cast error; name them now.
        if let (Some(e), Some(part), false) = (
            &m.expr_sql,
            &m.expr,
            matches!(
                m.agg,
                crate::spec::model::Agg::Count | crate::spec::model::Agg::CountDistinct
            ),
        ) && matches!(info.backend, Backend::Files)
        {
            let text_probe = probe::text_as_number(&s.id, e);
            let texty = engine
                .expr_type(&probe::expression_type(&s.id, e))
                .is_some_and(|t| {
                    !t.is_numeric()
                        && !t.is_null()
                        && t != datafusion::arrow::datatypes::DataType::Boolean
                });
            if texty
                && let Ok(rows) = engine.query(&s.id, &text_probe)
                && rows.len > 0
            {
                let samples: Vec<String> = (0..rows.len)
                    .filter_map(|r| rows.text("v", r))
                    .map(|v| format!("`{}`", crate::text::excerpt(&v)))
                    .collect();
                out.push(
                    Diagnostic::error(
                        "E032",
                        format!(
                            "the expression of node `{}` is text in source `{}` and not every value is a number, e.g. {}",
                            n.id,
                            s.id,
                            samples.join(", ")
                        ),
                    )
                    .at(part.pos)
                    .subject(format!("node `{}`", n.id))
                    .help(format!(
                        "numbers with thousands separators or units cannot be summed: export plain numbers, or write `expr: CAST(replace({}, ',', '') AS DOUBLE PRECISION)`",
                        part.value
                    )),
                );
            }
        }
    }
    out
}

/// Plans, in the database, the statement each PostgreSQL source will run (every measure,
/// every dimension the source maps, one period), so type errors that only PostgreSQL sees
/// are found by `check` rather than by the first report.
pub fn check_pushdown(engine: &Engine, graph: &MetricGraph) -> Vec<Diagnostic> {
    let period = crate::period::Period::containing(
        graph.spec.grain,
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a valid date"),
    );
    let dims: Vec<String> = graph.spec.dimensions.iter().map(|d| d.id.clone()).collect();
    let modes: Vec<_> = engine
        .info
        .iter()
        .map(|i| {
            i.as_ref()
                .map_or(crate::plan::TimeMode::Local, |i| i.time_mode)
        })
        .collect();
    let mut out = Vec::new();
    for sp in crate::plan::plan(graph, &[period], &dims, &modes) {
        let Some(Backend::Postgres { db, ctes }) =
            engine.info[sp.source].as_ref().map(|i| &i.backend)
        else {
            continue;
        };
        let agg = crate::plan::Aggregate {
            groups: vec![vec![0]],
            sets: (0..sp.dims.len()).map(|k| vec![k]).collect(),
            psi: Vec::new(),
        };
        let (sql, _) = crate::sql::pushdown(&sp, &agg, ctes);
        let Err(e) = engine.pg_prepare(*db, &sql) else {
            continue;
        };
        let s = &graph.spec.sources[sp.source];
        // Find the measure the database rejects, to point at its filter or expression.
        let culprit = sp.measures.iter().find_map(|m| {
            let one = crate::plan::SourcePlan {
                measures: vec![m.clone()],
                ..sp.clone()
            };
            let (sql, _) = crate::sql::pushdown(&one, &agg, ctes);
            engine
                .pg_prepare(*db, &sql)
                .err()
                .and_then(|e| m.node.map(|n| (n, e)))
        });
        let d = match culprit {
            Some((n, e)) => {
                let node = &graph.nodes[n];
                let pos = match &node.def {
                    Def::Measure(m) => m
                        .filter
                        .as_ref()
                        .or(m.expr.as_ref())
                        .map_or(node.pos, |l| l.pos),
                    Def::Formula { .. } => node.pos,
                };
                Diagnostic::error(
                    "E034",
                    format!(
                        "node `{}` does not run in PostgreSQL (source `{}`): {e}",
                        node.id, s.id
                    ),
                )
                .at(pos)
                .subject(format!("node `{}`", node.id))
            }
            None => Diagnostic::error(
                "E034",
                format!(
                    "the measures of source `{}` do not run in PostgreSQL: {e}",
                    s.id
                ),
            )
            .at(s.pos)
            .subject(format!("source `{}`", s.id)),
        };
        out.push(d.help("the filter or expression works in files but not in the database, usually because of a type: compare text with text, cast with CAST(x AS ...); PostgreSQL has no % for DOUBLE PRECISION"));
    }
    out
}
