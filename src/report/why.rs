//! `why` output: the explained node then and now, and its change attributed to branches —
//! as a tree-shaped table for people, or as JSON (schema: `schemas/why.schema.json`).

use serde::Serialize;

use super::format::{change, share, value};
use super::style::Styles;
use crate::attribution::Attribution;
use crate::graph::MetricGraph;
use crate::period::Period;
use crate::spec::model::Direction;

pub const SCHEMA_VERSION: u32 = 1;

/// A period as output: label and local bounds in RFC 3339 with the tree's offset.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodOut {
    pub label: String,
    pub start: String,
    pub end: String,
}

impl PeriodOut {
    pub fn new(p: &Period, tz: chrono_tz::Tz) -> PeriodOut {
        let (s, e) = p.utc_bounds(tz);
        PeriodOut {
            label: p.label(),
            start: s.with_timezone(&tz).to_rfc3339(),
            end: e.with_timezone(&tz).to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WhyJson {
    pub schema_version: u32,
    pub tree: String,
    pub root: String,
    /// The tree's root, when `--node` explains another node.
    pub tree_root: String,
    pub current: PeriodOut,
    pub baseline: PeriodOut,
    pub nodes: Vec<NodeJson>,
}

#[derive(Debug, Serialize)]
pub struct NodeJson {
    pub id: String,
    pub label: String,
    pub owner: String,
    pub owner_name: String,
    pub unit: crate::spec::model::Unit,
    pub direction: Direction,
    pub method: &'static str,
    pub current: f64,
    pub baseline: f64,
    pub delta: f64,
    pub contribution: f64,
    pub share: Option<f64>,
    pub status: &'static str,
    pub inputs: Vec<InputJson>,
}

#[derive(Debug, Serialize)]
pub struct InputJson {
    pub id: String,
    pub gradient: f64,
    pub contribution: f64,
    pub contribution_to_root: f64,
}

pub fn json(g: &MetricGraph, a: &Attribution, current: &Period, baseline: &Period) -> WhyJson {
    let tz = g.spec.timezone;
    let d_root = a.get(a.root).map(|n| n.delta).unwrap_or(0.0);
    WhyJson {
        schema_version: SCHEMA_VERSION,
        tree: g.spec.name.clone(),
        root: g.nodes[a.root].id.clone(),
        tree_root: g.nodes[g.root].id.clone(),
        current: PeriodOut::new(current, tz),
        baseline: PeriodOut::new(baseline, tz),
        nodes: a
            .nodes
            .iter()
            .map(|n| {
                let node = &g.nodes[n.node];
                NodeJson {
                    id: node.id.clone(),
                    label: node.label.clone(),
                    owner: node.owner.clone(),
                    owner_name: g
                        .owner(&node.owner)
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                    unit: node.unit,
                    direction: node.direction,
                    method: n.method,
                    current: n.current,
                    baseline: n.baseline,
                    delta: n.delta,
                    contribution: n.contribution,
                    share: (d_root != 0.0).then(|| n.contribution / d_root),
                    status: "ok",
                    inputs: n
                        .inputs
                        .iter()
                        .map(|i| InputJson {
                            id: g.nodes[i.node].id.clone(),
                            gradient: i.gradient,
                            contribution: i.contribution,
                            contribution_to_root: i.contribution_to_root,
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// The human view. `tree_root_share` is (the tree root's label, this node's contribution to it)
/// when explaining a branch with `--node`.
pub fn text(
    g: &MetricGraph,
    a: &Attribution,
    current: &Period,
    baseline: &Period,
    context: Option<(String, String)>,
    st: &Styles,
) -> String {
    let root = &g.nodes[a.root];
    let r = a.get(a.root).expect("the root is attributed");
    let owner = g
        .owner(&root.owner)
        .map(|o| o.name.as_str())
        .unwrap_or(&root.owner);
    let mut out = String::new();
    out.push_str(&format!(
        "{}Why did {} change?{}  {} vs {} ({}ly, {})\n\n",
        st.bold,
        root.label,
        st.reset,
        current.label(),
        baseline.label(),
        match g.spec.grain {
            crate::period::Grain::Day => "dai",
            crate::period::Grain::Week => "week",
            crate::period::Grain::Month => "month",
        },
        g.spec.timezone.name()
    ));
    let sign_style = |d: f64, dir: Direction| match (dir, d > 0.0, d < 0.0) {
        (Direction::HigherIsBetter, true, _) | (Direction::LowerIsBetter, _, true) => st.good,
        (Direction::HigherIsBetter, _, true) | (Direction::LowerIsBetter, true, _) => st.bad,
        _ => "",
    };
    out.push_str(&format!(
        "  {}{}{}  {} → {}  {}{}{}   owner: {}\n",
        st.bold,
        root.label,
        st.reset,
        value(Some(r.baseline), root.unit),
        value(Some(r.current), root.unit),
        sign_style(r.delta, root.direction),
        change(r.delta, root.unit),
        st.reset,
        owner
    ));
    if let Some((tree_root, contribution)) = &context {
        out.push_str(&format!("  contributes {contribution} to {tree_root}\n"));
    }
    out.push('\n');

    // Rows: depth-first from the root, inputs ranked by |flow|.
    struct Row {
        label: String,
        owner: String,
        then: String,
        now: String,
        change: String,
        contrib: String,
        share: String,
        style: &'static str,
    }
    let mut rows = Vec::new();
    fn walk(
        g: &MetricGraph,
        a: &Attribution,
        node: usize,
        prefix: &str,
        rows: &mut Vec<Row>,
        path: &mut Vec<usize>,
        sign_style: &dyn Fn(f64, Direction) -> &'static str,
    ) {
        let Some(n) = a.get(node) else { return };
        let root = &g.nodes[a.root];
        let d_root = a.get(a.root).map(|r| r.delta).unwrap_or(0.0);
        let mut inputs: Vec<_> = n.inputs.iter().collect();
        inputs.sort_by(|x, y| {
            y.contribution_to_root
                .abs()
                .total_cmp(&x.contribution_to_root.abs())
        });
        let count = inputs.len();
        for (k, inp) in inputs.into_iter().enumerate() {
            let last = k + 1 == count;
            let child = &g.nodes[inp.node];
            let ca = a.get(inp.node).expect("inputs are attributed");
            let owner = g
                .owner(&child.owner)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| child.owner.clone());
            rows.push(Row {
                label: format!(
                    "{prefix}{}{}",
                    if last { "└─ " } else { "├─ " },
                    child.label
                ),
                owner,
                then: value(Some(ca.baseline), child.unit),
                now: value(Some(ca.current), child.unit),
                change: change(ca.delta, child.unit),
                contrib: change(inp.contribution_to_root, root.unit),
                share: share(inp.contribution_to_root, d_root),
                style: sign_style(inp.contribution_to_root, root.direction),
            });
            if !path.contains(&inp.node) {
                path.push(inp.node);
                let next = format!("{prefix}{}", if last { "   " } else { "│  " });
                walk(g, a, inp.node, &next, rows, path, sign_style);
                path.pop();
            }
        }
    }
    walk(
        g,
        a,
        a.root,
        "  ",
        &mut rows,
        &mut vec![a.root],
        &sign_style,
    );
    let header = Row {
        label: "  Branch".into(),
        owner: "Owner".into(),
        then: baseline.label(),
        now: current.label(),
        change: "Change".into(),
        contrib: format!("→ {}", short(&root.label)),
        share: "Share".into(),
        style: "",
    };
    let w = |f: &dyn Fn(&Row) -> &String| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| f(r).chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [
        w(&|r| &r.label),
        w(&|r| &r.owner),
        w(&|r| &r.then),
        w(&|r| &r.now),
        w(&|r| &r.change),
        w(&|r| &r.contrib),
        w(&|r| &r.share),
    ];
    let line = |r: &Row, style: &str, reset: &str| {
        format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}  {style}{:>w5$}{reset}  {:>w6$}\n",
            r.label,
            r.owner,
            r.then,
            r.now,
            r.change,
            r.contrib,
            r.share,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5],
            w6 = widths[6],
        )
    };
    out.push_str(&format!("{}{}{}", st.dim, line(&header, "", ""), st.reset));
    for r in &rows {
        out.push_str(&line(
            r,
            r.style,
            if r.style.is_empty() { "" } else { st.reset },
        ));
    }
    if let Some(top) = a.nodes.iter().find(|n| n.node == a.root).and_then(|n| {
        n.inputs.iter().max_by(|x, y| {
            x.contribution_to_root
                .abs()
                .total_cmp(&y.contribution_to_root.abs())
        })
    }) {
        let child = &g.nodes[top.node];
        let owner = g
            .owner(&child.owner)
            .map(|o| o.name.as_str())
            .unwrap_or(&child.owner);
        out.push_str(&format!(
            "\nLargest mover: {} ({}), {} of the {} change.\n",
            child.label,
            owner,
            share(top.contribution_to_root, r.delta).trim_start_matches('+'),
            change(r.delta, root.unit)
        ));
    }
    out
}

fn short(label: &str) -> String {
    let s: String = label.chars().take(18).collect();
    if label.chars().count() > 18 {
        format!("{s}…")
    } else {
        s
    }
}
