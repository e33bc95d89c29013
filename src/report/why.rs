//! `why` output: the explained node then and now, its change attributed to branches with a
//! noise verdict for each, and under the branches the segments that moved them — as a
//! tree-shaped table for people, or as JSON (schema: `schemas/why.schema.json`).

use serde::Serialize;

use super::format::{change, interval, share, value};
use super::style::Styles;
use crate::attribution::segments::{NodeKind, Summable};
use crate::explain::{Explanation, NodeSegments, Verdict};
use crate::graph::MetricGraph;
use crate::noise::Dispersion;
use crate::period::Period;
use crate::spec::model::Direction;

pub const SCHEMA_VERSION: u32 = 2;

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

    /// Several consecutive periods as one span (`2026-W42..2026-W45`).
    pub fn span(ps: &[Period], tz: chrono_tz::Tz) -> PeriodOut {
        let first = PeriodOut::new(&ps[0], tz);
        let last = PeriodOut::new(&ps[ps.len() - 1], tz);
        if ps.len() == 1 {
            return first;
        }
        PeriodOut {
            label: format!("{}..{}", first.label, last.label),
            start: first.start,
            end: last.end,
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
    /// `previous`, `period`, `ago:N` or `trailing:N`.
    pub baseline_kind: String,
    /// The baseline's periods (several when pooled).
    pub baseline_periods: Vec<String>,
    pub noise: NoiseJson,
    pub nodes: Vec<NodeJson>,
    /// Per event-log source: transfers per cause, baseline then current.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_causes: Vec<super::coverage::CoverageJson>,
}

#[derive(Debug, Serialize)]
pub struct NoiseJson {
    pub confidence: f64,
    pub fdr: f64,
    pub fdr_method: &'static str,
    pub branches_tested: usize,
    pub segments_evaluated: usize,
    pub segments_tested: usize,
    pub dimensions: Vec<String>,
    pub depth: usize,
    pub min_support: f64,
    pub min_count: f64,
    pub history_periods: usize,
    pub tree_dispersion: Dispersion,
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
    pub test: Option<TestJson>,
    /// The over-dispersion factor estimated from this node's history.
    pub dispersion: Dispersion,
    pub inputs: Vec<InputJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<SegmentsJson>,
    /// Why the node is not split by segments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsplit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InputJson {
    pub id: String,
    pub gradient: f64,
    pub contribution: f64,
    pub contribution_to_root: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestJson {
    pub method: crate::noise::Method,
    pub estimate: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub statistic: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    pub p: f64,
    /// Benjamini–Hochberg adjusted p-value within its family.
    pub q: f64,
    pub dispersion: f64,
    /// `beyond_noise` or `within_noise`.
    pub verdict: &'static str,
}

impl TestJson {
    fn new(v: &Verdict) -> TestJson {
        let t = &v.test;
        TestJson {
            method: t.method,
            estimate: t.estimate,
            se: t.se,
            ci_low: t.ci_low,
            ci_high: t.ci_high,
            statistic: t.statistic,
            df: t.df,
            p: t.p,
            q: v.q,
            dispersion: t.dispersion,
            verdict: if v.beyond_noise {
                "beyond_noise"
            } else {
                "within_noise"
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SegmentsJson {
    /// `summable`, `rate` or `other`.
    pub kind: &'static str,
    /// Rates: the id of the volume node (the denominator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    pub dimensions: Vec<DimensionJson>,
    pub insights: Vec<SegmentJson>,
}

/// One dimension's segments: they partition the population, so their contributions add up
/// to the node's change.
#[derive(Debug, Serialize)]
pub struct DimensionJson {
    pub dimension: String,
    pub sum_of_contributions: f64,
    pub segments: Vec<SegmentJson>,
}

#[derive(Debug, Serialize)]
pub struct PartJson {
    pub dimension: String,
    pub value: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SegmentJson {
    pub label: String,
    pub parts: Vec<PartJson>,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub contribution: f64,
    /// Of the node's change.
    pub share_of_change: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
    pub share_baseline: f64,
    pub share_current: f64,
    pub support: f64,
    pub rows_baseline: f64,
    pub rows_current: f64,
    /// Below the support or size minimums: not tested, never headlined.
    pub suppressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summable: Option<Summable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_rest: Option<f64>,
    pub test: Option<TestJson>,
    /// Broader segments this one explains (insights only), with the share it explains.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folds: Vec<FoldJson>,
    /// The segment with exactly the same rows under another name (tested once, there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_rows_as: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FoldJson {
    pub label: String,
    pub share: f64,
}

fn segment_json(ns: &NodeSegments, i: usize, delta: f64) -> SegmentJson {
    let s = &ns.segments[i];
    let c = &s.change;
    SegmentJson {
        label: s.segment.label(),
        parts: s
            .segment
            .0
            .iter()
            .map(|(d, v)| PartJson {
                dimension: d.clone(),
                value: v.clone(),
            })
            .collect(),
        baseline: c.baseline,
        current: c.current,
        contribution: c.contribution,
        share_of_change: (delta != 0.0).then(|| c.contribution / delta),
        rate: c.rate,
        mix: c.mix,
        share_baseline: c.share[0],
        share_current: c.share[1],
        support: c.support(),
        rows_baseline: c.count[0],
        rows_current: c.count[1],
        suppressed: !s.eligible,
        summable: c.summable,
        ratio_to_rest: c.ratio_to_rest,
        test: s.verdict.as_ref().map(TestJson::new),
        folds: Vec::new(),
        same_rows_as: s.alias_of.map(|a| ns.segments[a].segment.label()),
    }
}

fn segments_json(g: &MetricGraph, ns: &NodeSegments, delta: f64) -> SegmentsJson {
    SegmentsJson {
        kind: match ns.kind {
            NodeKind::Summable => "summable",
            NodeKind::Rate { .. } => "rate",
            NodeKind::Other => "other",
        },
        volume: match ns.kind {
            NodeKind::Rate { volume } => Some(g.nodes[volume].id.clone()),
            _ => None,
        },
        dimensions: ns
            .by_dimension
            .iter()
            .map(|(d, idx)| DimensionJson {
                dimension: d.clone(),
                sum_of_contributions: idx
                    .iter()
                    .map(|&i| ns.segments[i].change.contribution)
                    .sum(),
                segments: idx.iter().map(|&i| segment_json(ns, i, delta)).collect(),
            })
            .collect(),
        insights: ns
            .insights
            .iter()
            .map(|ins| {
                let mut j = segment_json(ns, ins.index, delta);
                j.folds = ins
                    .folds
                    .iter()
                    .map(|&(p, k)| FoldJson {
                        label: ns.segments[p].segment.label(),
                        share: k,
                    })
                    .collect();
                j
            })
            .collect(),
    }
}

pub fn json(g: &MetricGraph, x: &Explanation) -> WhyJson {
    let tz = g.spec.timezone;
    let a = &x.attribution;
    let d_root = a.get(a.root).map(|n| n.delta).unwrap_or(0.0);
    WhyJson {
        schema_version: SCHEMA_VERSION,
        tree: g.spec.name.clone(),
        root: g.nodes[a.root].id.clone(),
        tree_root: g.nodes[g.root].id.clone(),
        current: PeriodOut::new(&x.current, tz),
        baseline: PeriodOut::span(&x.baseline, tz),
        baseline_kind: x.baseline_kind.clone(),
        baseline_periods: x.baseline.iter().map(Period::label).collect(),
        noise: NoiseJson {
            confidence: crate::noise::inference::LEVEL,
            fdr: x.options.fdr,
            fdr_method: "benjamini_hochberg",
            branches_tested: x.branches_tested,
            segments_evaluated: x.segments_evaluated,
            segments_tested: x.segments_tested,
            dimensions: x.options.dims.clone(),
            depth: x.options.search.depth,
            min_support: x.options.search.min_support,
            min_count: x.options.search.min_count,
            history_periods: x.history_periods,
            tree_dispersion: x.tree_dispersion,
        },
        transfer_causes: super::coverage::json(g, &x.coverage, &coverage_labels(g, x)),
        nodes: a
            .nodes
            .iter()
            .map(|n| {
                let node = &g.nodes[n.node];
                let noise = x.noise.get(&n.node);
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
                    test: noise.and_then(|z| z.verdict.as_ref()).map(TestJson::new),
                    dispersion: noise.map_or(Dispersion::NONE, |z| z.dispersion),
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
                    segments: x.segments_of(n.node).map(|s| segments_json(g, s, n.delta)),
                    unsplit: x
                        .unsplit
                        .iter()
                        .find(|u| u.0 == n.node)
                        .map(|u| u.1.clone()),
                }
            })
            .collect(),
    }
}

/// One verdict as a word for the table.
fn verdict_word(v: Option<&Verdict>) -> &'static str {
    match v {
        Some(v) if v.beyond_noise => "beyond",
        Some(_) => "within",
        None => "—",
    }
}

/// An insight as two lines (`indent` before each): where, how much, its interval and
/// verdict; then the mix/rate split, the rate inside, its volume and what it covers.
fn insight_lines(
    ns: &NodeSegments,
    ins: &crate::attribution::insights::Insight,
    unit: crate::spec::model::Unit,
    indent: &str,
    st: &Styles,
) -> String {
    let s = &ns.segments[ins.index];
    let c = &s.change;
    let verdict = match &s.verdict {
        Some(v) => format!(
            "  {}  {}",
            interval(v.test.ci_low, v.test.ci_high, unit),
            if v.beyond_noise {
                "beyond noise"
            } else {
                "within noise"
            }
        ),
        None => String::new(),
    };
    let mut detail = Vec::new();
    if let (Some(r), Some(m)) = (c.rate, c.mix) {
        detail.push(format!("rate {}, mix {}", change(r, unit), change(m, unit)));
    }
    if let (NodeKind::Rate { .. }, Some(b), Some(n)) = (ns.kind, c.baseline, c.current) {
        detail.push(format!(
            "{} → {} inside",
            value(Some(b), unit),
            value(Some(n), unit)
        ));
    }
    detail.push(format!(
        "{:.0}% of volume",
        100.0 * c.share[1].max(c.share[0])
    ));
    let folds: Vec<String> = ins
        .folds
        .iter()
        .map(|&(p, _)| crate::text::escape(&ns.segments[p].segment.label()).into_owned())
        .collect();
    if !folds.is_empty() {
        detail.push(format!("covers {}", folds.join(", ")));
    }
    format!(
        "{indent}▸ {}{}{}  {}{verdict}\n{indent}    {}{}{}\n",
        st.bold,
        crate::text::escape(&s.segment.label()),
        st.reset,
        change(c.contribution, unit),
        st.dim,
        detail.join("; "),
        st.reset
    )
}

/// The human view.
pub fn text(g: &MetricGraph, x: &Explanation, st: &Styles) -> String {
    let g = &super::terminal::escaped(g);
    let a = &x.attribution;
    let root = &g.nodes[a.root];
    let r = a.get(a.root).expect("the root is attributed");
    let owner = g
        .owner(&root.owner)
        .map(|o| o.name.as_str())
        .unwrap_or(&root.owner);
    let base_label = PeriodOut::span(&x.baseline, g.spec.timezone).label;
    let mut out = String::new();
    out.push_str(&format!(
        "{}Why did {} change?{}  {} vs {}{} ({}ly, {})\n\n",
        st.bold,
        root.label,
        st.reset,
        x.current.label(),
        base_label,
        if x.baseline.len() > 1 { " pooled" } else { "" },
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
    let root_verdict = x.noise.get(&a.root).and_then(|n| n.verdict.as_ref());
    out.push_str(&format!(
        "  {}{}{}  {} → {}  {}{}{}  {}   owner: {}\n",
        st.bold,
        root.label,
        st.reset,
        value(Some(r.baseline), root.unit),
        value(Some(r.current), root.unit),
        sign_style(r.delta, root.direction),
        change(r.delta, root.unit),
        st.reset,
        match root_verdict {
            Some(v) => format!(
                "{} {}",
                interval(v.test.ci_low, v.test.ci_high, root.unit),
                if v.beyond_noise {
                    "beyond noise"
                } else {
                    "within noise"
                }
            ),
            None => String::new(),
        },
        owner
    ));
    if let Some((c, d)) = x.tree_root_contribution {
        let tr = &g.nodes[g.root];
        out.push_str(&format!(
            "  contributes {} ({}) to {}\n",
            change(c, tr.unit),
            share(c, d),
            tr.label
        ));
    }
    if let Some(ns) = x.segments_of(a.root)
        && !ns.insights.is_empty()
    {
        out.push_str("\n  Where it moved:\n");
        for ins in &ns.insights {
            out.push_str(&insight_lines(ns, ins, root.unit, "    ", st));
        }
    }
    out.push('\n');

    // Rows: depth-first from the root, inputs ranked by |flow|; a branch's insights follow it.
    struct Row {
        cells: [String; 9],
        style: &'static str,
        /// Free lines printed after the row.
        after: Vec<String>,
    }
    let mut rows = Vec::new();
    struct Walk<'a> {
        g: &'a MetricGraph,
        x: &'a Explanation,
        st: &'a Styles,
        sign_style: &'a dyn Fn(f64, Direction) -> &'static str,
    }
    fn walk(w: &Walk, node: usize, prefix: &str, rows: &mut Vec<Row>, path: &mut Vec<usize>) {
        let (g, a) = (w.g, &w.x.attribution);
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
            let v = w.x.noise.get(&inp.node).and_then(|z| z.verdict.as_ref());
            let next = format!("{prefix}{}", if last { "   " } else { "│  " });
            let mut after = Vec::new();
            // Insights under the explained node's direct branches.
            if node == a.root
                && let Some(ns) = w.x.segments_of(inp.node)
            {
                for ins in &ns.insights {
                    after.push(insight_lines(
                        ns,
                        ins,
                        child.unit,
                        &format!("{next}  "),
                        w.st,
                    ));
                }
            }
            rows.push(Row {
                cells: [
                    format!(
                        "{prefix}{}{}",
                        if last { "└─ " } else { "├─ " },
                        child.label
                    ),
                    owner,
                    value(Some(ca.baseline), child.unit),
                    value(Some(ca.current), child.unit),
                    change(ca.delta, child.unit),
                    v.map(|v| interval(v.test.ci_low, v.test.ci_high, child.unit))
                        .unwrap_or_default(),
                    verdict_word(v).into(),
                    change(inp.contribution_to_root, root.unit),
                    share(inp.contribution_to_root, d_root),
                ],
                style: (w.sign_style)(inp.contribution_to_root, root.direction),
                after,
            });
            if !path.contains(&inp.node) {
                path.push(inp.node);
                walk(w, inp.node, &next, rows, path);
                path.pop();
            }
        }
    }
    let wk = Walk {
        g,
        x,
        st,
        sign_style: &sign_style,
    };
    walk(&wk, a.root, "  ", &mut rows, &mut vec![a.root]);
    let header = Row {
        cells: [
            "  Branch".into(),
            "Owner".into(),
            base_label.clone(),
            x.current.label(),
            "Change".into(),
            "95% interval".into(),
            "Noise".into(),
            format!("→ {}", short(&root.label)),
            "Share".into(),
        ],
        style: "",
        after: Vec::new(),
    };
    let widths: Vec<usize> = (0..9)
        .map(|c| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r.cells[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &Row, style: &str, reset: &str| {
        let mut l = String::new();
        for (c, cell) in r.cells.iter().enumerate() {
            let pad = " ".repeat(widths[c].saturating_sub(cell.chars().count()));
            match c {
                0 | 1 | 6 => l.push_str(&format!("{cell}{pad}  ")),
                7 => l.push_str(&format!("{style}{pad}{cell}{reset}  ")),
                _ => l.push_str(&format!("{pad}{cell}  ")),
            }
        }
        format!("{}\n", l.trim_end())
    };
    out.push_str(&format!("{}{}{}", st.dim, line(&header, "", ""), st.reset));
    for r in &rows {
        out.push_str(&line(
            r,
            r.style,
            if r.style.is_empty() { "" } else { st.reset },
        ));
        for l in &r.after {
            out.push_str(l);
        }
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
    out.push_str(&super::coverage::text(
        g,
        &x.coverage,
        &coverage_labels(g, x),
        st,
    ));
    out.push_str(&format!("{}{}{}", st.dim, noise_note(x), st.reset));
    out
}

/// The two sides' labels, as cause coverage lists them.
pub fn coverage_labels(g: &MetricGraph, x: &Explanation) -> Vec<String> {
    vec![
        PeriodOut::span(&x.baseline, g.spec.timezone).label,
        x.current.label(),
    ]
}

/// How the verdicts were reached, in one paragraph.
fn noise_note(x: &Explanation) -> String {
    let o = &x.options;
    let mut s = format!("\nNoise: {} branch changes tested", x.branches_tested);
    if !o.dims.is_empty() {
        s.push_str(&format!(
            " and {} segments (of {} evaluated over {}, up to {} combined; support ≥ {}%, ≥ {} rows)",
            value(Some(x.segments_tested as f64), crate::spec::model::Unit::Count),
            value(Some(x.segments_evaluated as f64), crate::spec::model::Unit::Count),
            o.dims.join(", "),
            o.search.depth,
            o.search.min_support * 100.0,
            o.search.min_count
        ));
    }
    s.push_str(&format!(
        "; false discovery rate {}% (Benjamini–Hochberg); 95% intervals",
        o.fdr * 100.0
    ));
    if x.history_periods >= 2 {
        s.push_str(&format!(
            ", widened by the over-dispersion of {} periods of history",
            x.history_periods
        ));
    } else {
        s.push_str(", binomial/Poisson noise only (no history)");
    }
    s.push_str(".\n");
    for (_, why) in &x.unsplit {
        s.push_str(&format!("Not split by segments: {why}.\n"));
    }
    s
}

fn short(label: &str) -> String {
    let s: String = label.chars().take(18).collect();
    if label.chars().count() > 18 {
        format!("{s}…")
    } else {
        s
    }
}
