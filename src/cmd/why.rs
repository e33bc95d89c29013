//! `metrictree why TREE [--period P] [--baseline B] [--node N] [--by DIMS]`: the change,
//! attributed to branches and segments, with a noise verdict for each.

use super::{
    Failure, Outcome, known_dimension, load_tree, open_engine, print_warnings, resolve_period,
};
use crate::attribution::Side;
use crate::attribution::insights::SearchOptions;
use crate::cli::{Format, SearchArgs, TreeArgs};
use crate::eval::{Evaluation, Status};
use crate::explain::{ExplainError, Options, explain};
use crate::graph::MetricGraph;
use crate::period::Baseline;
use crate::report::style::Styles;

pub fn run(
    tree: &TreeArgs,
    period: Option<&str>,
    baseline: Option<&str>,
    node: Option<&str>,
    search: &SearchArgs,
    format: Format,
) -> Outcome {
    let (g, report) = load_tree(tree)?;
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
    let options = options(&g, target, search)?;
    let baseline = match baseline {
        Some(b) => Baseline::parse(b, g.spec.grain).map_err(Failure::runtime)?,
        None => Baseline::Previous,
    };
    let engine = open_engine(&g, &report, &tree.access())?;
    let (current, extent, _) = resolve_period(&g, &report, &engine, period)?;
    let x = explain(&g, &engine, target, current, &baseline, options).map_err(|e| match e {
        ExplainError::Undefined(u, e) => undefined_error(&g, &e, &extent, u.node, u.side),
        ExplainError::Eval(e) => Failure::runtime(e.to_string()),
        ExplainError::Invalid(m) => Failure::runtime(m),
    })?;
    print_warnings(
        &report,
        crate::report::coverage::warnings(
            &g,
            &x.coverage,
            &crate::report::why::coverage_labels(&g, &x),
        ),
    );
    Ok(match format {
        Format::Json => {
            let j = crate::report::why::json(&g, &x);
            crate::text::json_safe(serde_json::to_string_pretty(&j).map_err(anyhow::Error::from)?)
                + "\n"
        }
        Format::Text => crate::report::why::text(&g, &x, &Styles::for_stdout()),
    })
}

/// Checks the search flags against the tree.
fn options(g: &MetricGraph, target: usize, a: &SearchArgs) -> Result<Options, Failure> {
    let explicit = !a.by.is_empty();
    let dims: Vec<String> = if a.by.iter().any(|d| d == "none") {
        Vec::new()
    } else if explicit {
        for d in &a.by {
            known_dimension(g, d)?;
        }
        let mut dims: Vec<String> = Vec::new();
        for d in &a.by {
            if !dims.contains(d) {
                dims.push(d.clone());
            }
        }
        dims
    } else {
        g.spec.dimensions.iter().map(|d| d.id.clone()).collect()
    };
    if explicit && !dims.is_empty() {
        if let Some(l) = crate::attribution::segments::non_additive_leaf(g, target) {
            return Err(Failure::runtime(format!(
                "`{}` cannot be split by segments: its leaf `{}` is not a count or a sum, so its segments do not add up; write it as a ratio of two sums (e.g. sum over count) to split it, or drop --by",
                g.nodes[target].id, g.nodes[l].id
            )));
        }
        if let Some(d) = dims.iter().find(|d| !g.splittable[target].contains(*d)) {
            return Err(Failure::runtime(format!(
                "`{}` cannot be split by `{d}`: not every leaf under it maps that dimension; map it under `dimensions:` of their sources, or pick another",
                g.nodes[target].id
            )));
        }
    }
    if !(0.0..=1.0).contains(&a.min_support) {
        return Err(Failure::runtime(format!(
            "--min-support {} is not a share; give a number from 0 to 1, like 0.01",
            a.min_support
        )));
    }
    if !(a.fdr > 0.0 && a.fdr < 1.0) {
        return Err(Failure::runtime(format!(
            "--fdr {} is not a rate; give a number between 0 and 1, like 0.05",
            a.fdr
        )));
    }
    Ok(Options {
        dims,
        search: SearchOptions {
            depth: a.depth as usize,
            min_support: a.min_support,
            min_count: a.min_count as f64,
            top: usize::from(a.top),
            ..SearchOptions::default()
        },
        fdr: a.fdr,
        history: a.history,
    })
}

/// "`routing_rate` is undefined in 2026-W45 (the baseline): ..." naming where it started.
fn undefined_error(
    g: &MetricGraph,
    e: &Evaluation,
    extent: &crate::eval::DataExtent,
    node: usize,
    side: Side,
) -> Failure {
    let p = match side {
        Side::Baseline => 0,
        Side::Current => 1,
    };
    let v = e.total(p).values[node];
    let origin = v.cause.unwrap_or(node);
    let ov = e.total(p).values[origin];
    let why = match ov.status {
        Status::NoData => format!(
            "the data has no rows for `{}` in that period (the data runs from {} to {})",
            g.nodes[origin].id,
            extent.first.format("%Y-%m-%d %H:%M"),
            extent.last.format("%Y-%m-%d %H:%M")
        ),
        Status::ZeroDenominator => {
            format!("`{}` divides by zero in that period", g.nodes[origin].id)
        }
        Status::Empty => format!("`{}` aggregates no rows in that period", g.nodes[origin].id),
        Status::NotFinite => match &g.nodes[origin].def {
            crate::graph::Def::Measure(m) => format!(
                "`{}` is not a finite number in that period: its values in source `{}` sum beyond ±1.8e308 or hold NaN or inf",
                g.nodes[origin].id, g.spec.sources[m.source].id
            ),
            _ => format!(
                "the formula of `{}` overflows (beyond ±1.8e308) in that period",
                g.nodes[origin].id
            ),
        },
        _ => format!("`{}` is undefined", g.nodes[origin].id),
    };
    let which = if side == Side::Baseline {
        "baseline"
    } else {
        "current period"
    };
    let fix = match ov.status {
        Status::ZeroDenominator => format!(
            "give `{}` `on_zero: 0` if zero is the right value there, or pick other periods",
            g.nodes[origin].id
        ),
        Status::NotFinite => "check the source's values (write `nulls: [NaN, inf]` to read such markers as missing), or measure in larger units".to_string(),
        _ => format!(
            "pick periods inside the data (its last period is {}) with `--period` and `--baseline`",
            crate::period::Period::containing(g.spec.grain, extent.last.date()).label()
        ),
    };
    Failure::runtime(format!(
        "`{}` is undefined in {} (the {which}): {why}; {fix}",
        g.nodes[node].id,
        e.groups[p]
            .iter()
            .map(|&i| e.periods[i].label())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
