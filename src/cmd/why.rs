//! `metrictree why TREE [--period P] [--baseline P] [--node N]`: the change, attributed.

use std::path::Path;

use super::{Failure, Outcome, load, open_engine, resolve_period};
use crate::attribution::{Side, attribute};
use crate::cli::Format;
use crate::eval::{Evaluation, Status};
use crate::graph::MetricGraph;
use crate::period::Period;
use crate::report::format::{change, share};
use crate::report::style::Styles;

pub fn run(
    path: &Path,
    data_dir: Option<&Path>,
    period: Option<&str>,
    baseline: Option<&str>,
    node: Option<&str>,
    format: Format,
) -> Outcome {
    let (g, report) = load(path)?;
    let target = match node {
        None => g.root,
        Some(id) => g.index(id).ok_or_else(|| {
            let ids = g.nodes.iter().map(|n| n.id.as_str());
            Failure::runtime(format!(
                "unknown node `{id}`: {}",
                crate::diag::did_you_mean(id, ids, "nodes")
            ))
        })?,
    };
    let engine = open_engine(&g, &report, data_dir)?;
    let (current, _, _) = resolve_period(&g, &engine, period)?;
    let base = match baseline {
        Some(b) => Period::parse(b, g.spec.grain).map_err(|e| Failure::runtime(e.to_string()))?,
        None => current.prev(),
    };
    if base == current {
        return Err(Failure::runtime(
            "the baseline is the same period as the current one; pick another --baseline",
        ));
    }
    let e = crate::eval::evaluate(&g, &engine, &[base, current], &[])
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let x0: Vec<Option<f64>> = e.total(0).values.iter().map(|v| v.value).collect();
    let x1: Vec<Option<f64>> = e.total(1).values.iter().map(|v| v.value).collect();
    let a = attribute(&g, target, &x0, &x1).map_err(|u| undefined_error(&g, &e, u.node, u.side))?;
    Ok(match format {
        Format::Json => {
            let j = crate::report::why::json(&g, &a, &current, &base);
            serde_json::to_string_pretty(&j).map_err(anyhow::Error::from)? + "\n"
        }
        Format::Text => {
            let context = (target != g.root)
                .then(|| attribute(&g, g.root, &x0, &x1).ok())
                .flatten()
                .and_then(|ra| {
                    let c = ra.get(target)?.contribution;
                    let d = ra.get(g.root)?.delta;
                    let root = &g.nodes[g.root];
                    Some((
                        root.label.clone(),
                        format!("{} ({})", change(c, root.unit), share(c, d)),
                    ))
                });
            crate::report::why::text(&g, &a, &current, &base, context, &Styles::for_stdout())
        }
    })
}

/// "`routing_rate` is undefined in 2026-W45 (the baseline): ..." naming where it started.
fn undefined_error(g: &MetricGraph, e: &Evaluation, node: usize, side: Side) -> Failure {
    let p = match side {
        Side::Baseline => 0,
        Side::Current => 1,
    };
    let v = e.total(p).values[node];
    let origin = v.cause.unwrap_or(node);
    let ov = e.total(p).values[origin];
    let why = match ov.status {
        Status::NoData => format!(
            "source data has no rows for `{}` in that period",
            g.nodes[origin].id
        ),
        Status::ZeroDenominator => {
            format!("`{}` divides by zero in that period", g.nodes[origin].id)
        }
        Status::Empty => format!("`{}` aggregates no rows in that period", g.nodes[origin].id),
        _ => format!("`{}` is undefined", g.nodes[origin].id),
    };
    let which = if side == Side::Baseline {
        "baseline"
    } else {
        "current period"
    };
    Failure::runtime(format!(
        "`{}` is undefined in {} (the {which}): {why}; pick periods with data, or give the ratio `on_zero: 0` if zero is the right value there",
        g.nodes[node].id,
        e.periods[p].label()
    ))
}
