//! The `why` report model: the explained node then and now, its change attributed to
//! branches with a noise verdict for each, the segments that moved them, and what a reader
//! needs first — the branches ranked, the largest mover, a one-sentence headline.
//!
//! Built once from an [`Explanation`] by [`WhyReport::new`]; it is the JSON boundary
//! (`schemas/why.schema.json`, documented in `docs/output.md`) and every output renders from
//! it — the JSON and the text table (`report::text::why`), and the owner reports to come —
//! so none re-derives a number, a ranking or a verdict.

use serde::Serialize;

use super::format::{change, ratio, value};
use crate::attribution::segments::{NodeKind, Summable};
use crate::explain::{Explanation, NodeSegments, Verdict};
use crate::graph::MetricGraph;
use crate::noise::Dispersion;
use crate::period::Grain;
use crate::period::Period;
use crate::spec::model::Direction;

/// Version of the `why` JSON; 3 added the ranking, the largest mover, the headline, the
/// grain and time zone, and the tree-root share; 4 the split and its residual; 5 the
/// comparison of two populations (see docs/output.md's changelog).
pub const SCHEMA_VERSION: u32 = 5;

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

#[derive(Debug, Clone, Serialize)]
pub struct WhyReport {
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
    /// With `--compare` (v5): the two populations of `current`; every `baseline` value is
    /// the first population's and every `current` value the second's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonJson>,
    pub noise: NoiseJson,
    /// How the change was split (v4): `closed_form` or `path` (both the Aumann–Shapley split
    /// along the straight line between the periods' leaves), or `local` (node-local methods,
    /// chained).
    pub split: crate::attribution::Split,
    /// With `split: path` (v4): the largest relative gap numerical integration left between a
    /// node's change and the sum of its inputs' shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_residual: Option<f64>,
    /// With `players:` in the tree (v4): each player's effect, Shapley over groups of leaves
    /// (Das Gupta's factors); they add up to the explained node's change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub players: Option<Vec<PlayerJson>>,
    /// With `players:` (v4): the node that divides by zero where the periods' values are
    /// mixed, so the players' effects are undefined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub players_undefined_at: Option<String>,
    pub nodes: Vec<NodeJson>,
    /// Per event-log source: transfers per cause, baseline then current.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_causes: Vec<super::coverage::CoverageJson>,
    /// The tree's period length: `day`, `week` or `month` (v3).
    pub grain: Grain,
    /// The IANA time zone periods are cut in (v3).
    pub timezone: String,
    /// The explained node's inputs depth-first, each level ranked by the size of its effect
    /// on the explained node (v3): the rows of the branch table.
    pub ranking: Vec<RankedBranch>,
    /// The explained node's direct input that moved it most (v3).
    pub largest_mover: Option<Mover>,
    /// With `--node`: what the explained node contributed to the tree's root (v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_of_tree_root: Option<TreeRootShare>,
    /// The change in one plain sentence, for subjects, notifications and summaries (v3).
    pub headline: String,
}

/// `--compare DIM=A,B`: which populations the two sides are.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonJson {
    pub dimension: String,
    pub dimension_label: String,
    /// The first population's value of the dimension (the `baseline` side).
    pub baseline: String,
    /// The second's (the `current` side).
    pub current: String,
    /// `team = billing`, then `team = tech` (by the dimension's label).
    pub labels: [String; 2],
}

impl ComparisonJson {
    fn new(g: &MetricGraph, c: &crate::explain::Comparison) -> ComparisonJson {
        let label = g
            .spec
            .dimensions
            .iter()
            .find(|d| d.id == c.dimension)
            .map_or_else(|| c.dimension.clone(), |d| d.label.clone());
        ComparisonJson {
            dimension: c.dimension.clone(),
            dimension_label: label.clone(),
            baseline: c.values[0].clone(),
            current: c.values[1].clone(),
            labels: [0, 1].map(|k| format!("{label} = {}", c.values[k])),
        }
    }
}

/// One player (`players:`) and its effect on the explained node.
#[derive(Debug, Clone, Serialize)]
pub struct PlayerJson {
    pub name: String,
    pub leaves: Vec<String>,
    pub effect: f64,
    /// Effect ÷ the explained node's change.
    pub share: Option<f64>,
}

/// One row of the branch table: an input under its parent, at its depth.
#[derive(Debug, Clone, Serialize)]
pub struct RankedBranch {
    pub id: String,
    /// The node it is an input of.
    pub parent: String,
    /// 1 for the explained node's direct inputs.
    pub depth: usize,
    /// The last of its parent's inputs (for drawing the tree).
    pub last: bool,
    /// Its effect on the explained node, through this parent.
    pub contribution_to_root: f64,
    /// That effect as a share of the explained node's change; null when it did not change.
    pub share: Option<f64>,
}

/// The direct input with the largest effect.
#[derive(Debug, Clone, Serialize)]
pub struct Mover {
    pub id: String,
    pub label: String,
    pub owner_name: String,
    pub contribution: f64,
    /// Of the explained node's change; null when it did not change.
    pub share: Option<f64>,
}

/// The explained node's part in the tree root's change.
#[derive(Debug, Clone, Serialize)]
pub struct TreeRootShare {
    pub label: String,
    pub unit: crate::spec::model::Unit,
    pub contribution: f64,
    /// Of the tree root's change; null when it did not change.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct SegmentsJson {
    /// `summable`, `rate` or `other`.
    pub kind: &'static str,
    /// Rates: the id of the volume node (the denominator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    pub dimensions: Vec<DimensionJson>,
    pub insights: Vec<SegmentJson>,
    /// With `why --segments all` (v4): every segment evaluated, conjunctions included, in
    /// order of depth then label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<SegmentJson>>,
}

/// One dimension's segments: they partition the population, so their contributions add up
/// to the node's change.
#[derive(Debug, Clone, Serialize)]
pub struct DimensionJson {
    pub dimension: String,
    pub sum_of_contributions: f64,
    pub segments: Vec<SegmentJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartJson {
    pub dimension: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
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
    /// Its share of volume, the larger of the two periods' (v3).
    pub volume_share: f64,
}

#[derive(Debug, Clone, Serialize)]
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
        volume_share: c.share[1].max(c.share[0]),
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
        all: None,
    }
}

impl WhyReport {
    /// Fills `segments.all` of every split node (`why --segments all`).
    pub fn list_every_segment(&mut self, g: &MetricGraph, x: &Explanation) {
        for ns in &x.segments {
            let id = &g.nodes[ns.node].id;
            let Some(node) = self.nodes.iter_mut().find(|n| &n.id == id) else {
                continue;
            };
            let delta = node.delta;
            if let Some(s) = node.segments.as_mut() {
                let mut order: Vec<usize> = (0..ns.segments.len()).collect();
                order.sort_by_key(|&i| {
                    let seg = &ns.segments[i].segment;
                    (seg.depth(), seg.label())
                });
                s.all = Some(
                    order
                        .into_iter()
                        .map(|i| segment_json(ns, i, delta))
                        .collect(),
                );
            }
        }
    }

    /// The model of an explanation: every number, ranking and verdict the outputs show.
    pub fn new(g: &MetricGraph, x: &Explanation) -> WhyReport {
        let mut r = base(g, x);
        r.ranking = ranking(g, x);
        r.largest_mover = largest_mover(g, x);
        r.share_of_tree_root = x.tree_root_contribution.map(|(c, d)| {
            let tr = &g.nodes[g.root];
            TreeRootShare {
                label: tr.label.clone(),
                unit: tr.unit,
                contribution: c,
                share: ratio(c, d),
            }
        });
        r.headline = headline(&r);
        r
    }

    /// The JSON output (pretty, newline-ended, safe to print on a terminal).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        Ok(crate::text::json_safe(serde_json::to_string_pretty(self)?) + "\n")
    }

    /// The explained node.
    pub fn root_node(&self) -> &NodeJson {
        self.node(&self.root)
            .expect("the explained node is in the report")
    }

    pub fn node(&self, id: &str) -> Option<&NodeJson> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// The parts of the report read straight off the explanation.
fn base(g: &MetricGraph, x: &Explanation) -> WhyReport {
    let tz = g.spec.timezone;
    let a = &x.attribution;
    let d_root = a.get(a.root).map(|n| n.delta).unwrap_or(0.0);
    WhyReport {
        schema_version: SCHEMA_VERSION,
        tree: g.spec.name.clone(),
        root: g.nodes[a.root].id.clone(),
        tree_root: g.nodes[g.root].id.clone(),
        current: PeriodOut::new(&x.current, tz),
        baseline: PeriodOut::span(&x.baseline, tz),
        baseline_kind: x.baseline_kind.clone(),
        baseline_periods: x.baseline.iter().map(Period::label).collect(),
        comparison: x
            .options
            .compare
            .as_ref()
            .map(|c| ComparisonJson::new(g, c)),
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
        split: a.split,
        split_residual: a.residual,
        players: match &x.players {
            Some(Ok(ps)) => Some(
                ps.iter()
                    .map(|p| PlayerJson {
                        name: p.name.clone(),
                        leaves: p.leaves.iter().map(|&l| g.nodes[l].id.clone()).collect(),
                        effect: p.effect,
                        share: ratio(p.effect, d_root),
                    })
                    .collect(),
            ),
            _ => None,
        },
        players_undefined_at: match &x.players {
            Some(Err(n)) => Some(g.nodes[*n].id.clone()),
            _ => None,
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
                    owner_name: g.owner_name(&node.owner),
                    unit: node.unit,
                    direction: node.direction,
                    method: n.method,
                    current: n.current,
                    baseline: n.baseline,
                    delta: n.delta,
                    contribution: n.contribution,
                    share: ratio(n.contribution, d_root),
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
        grain: g.spec.grain,
        timezone: g.spec.timezone.name().to_string(),
        ranking: Vec::new(),
        largest_mover: None,
        share_of_tree_root: None,
        headline: String::new(),
    }
}

/// The explained node's inputs depth-first from it, each node's inputs ranked by the size of
/// their effect on the explained node (ties keep the tree's order). A node reached by two
/// paths is listed under both; a path never repeats a node.
fn ranking(g: &MetricGraph, x: &Explanation) -> Vec<RankedBranch> {
    let a = &x.attribution;
    let d_root = a.get(a.root).map(|r| r.delta).unwrap_or(0.0);
    fn walk(
        g: &MetricGraph,
        a: &crate::attribution::Attribution,
        d_root: f64,
        node: usize,
        depth: usize,
        path: &mut Vec<usize>,
        out: &mut Vec<RankedBranch>,
    ) {
        let Some(n) = a.get(node) else { return };
        let mut inputs: Vec<_> = n.inputs.iter().collect();
        inputs.sort_by(|x, y| {
            y.contribution_to_root
                .abs()
                .total_cmp(&x.contribution_to_root.abs())
        });
        let count = inputs.len();
        for (k, inp) in inputs.into_iter().enumerate() {
            out.push(RankedBranch {
                id: g.nodes[inp.node].id.clone(),
                parent: g.nodes[node].id.clone(),
                depth,
                last: k + 1 == count,
                contribution_to_root: inp.contribution_to_root,
                share: ratio(inp.contribution_to_root, d_root),
            });
            if !path.contains(&inp.node) {
                path.push(inp.node);
                walk(g, a, d_root, inp.node, depth + 1, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    walk(g, a, d_root, a.root, 1, &mut vec![a.root], &mut out);
    out
}

/// The explained node's direct input with the largest effect (the last of equals).
fn largest_mover(g: &MetricGraph, x: &Explanation) -> Option<Mover> {
    let a = &x.attribution;
    let r = a.get(a.root)?;
    let top = r.inputs.iter().max_by(|x, y| {
        x.contribution_to_root
            .abs()
            .total_cmp(&y.contribution_to_root.abs())
    })?;
    let child = &g.nodes[top.node];
    Some(Mover {
        id: child.id.clone(),
        label: child.label.clone(),
        owner_name: g.owner_name(&child.owner),
        contribution: top.contribution_to_root,
        share: ratio(top.contribution_to_root, r.delta),
    })
}

/// "Handoff rate rose from 23.7% to 27.3% (+3.59 pp, beyond noise); the largest mover was
/// Routing handoffs (Support Operations), 105% of the change." With `--compare`: "Handoff
/// rate was 23.7% for Team = billing and 27.3% for Team = tech in 2026-W40 (…); the largest
/// difference was in …, 105% of the gap."
fn headline(r: &WhyReport) -> String {
    let n = r.root_node();
    let verb = if n.delta > 0.0 { "rose" } else { "fell" };
    let noise = match &n.test {
        Some(t) if t.verdict == "beyond_noise" => ", beyond noise",
        Some(_) => ", within noise",
        None => "",
    };
    let mut s = if let Some(c) = &r.comparison {
        format!(
            "{} was {} for {} and {} for {} in {} ({}{noise})",
            n.label,
            value(Some(n.baseline), n.unit),
            c.labels[0],
            value(Some(n.current), n.unit),
            c.labels[1],
            r.current.label,
            change(n.delta, n.unit)
        )
    } else if n.delta == 0.0 {
        format!("{} held at {}", n.label, value(Some(n.current), n.unit))
    } else {
        format!(
            "{} {verb} from {} to {} ({}{noise})",
            n.label,
            value(Some(n.baseline), n.unit),
            value(Some(n.current), n.unit),
            change(n.delta, n.unit)
        )
    };
    if r.comparison.is_none() {
        s.push_str(&format!(" in {} vs {}", r.current.label, r.baseline.label));
    }
    if let Some(m) = &r.largest_mover
        && n.delta != 0.0
    {
        let (what, of) = if r.comparison.is_some() {
            ("the largest difference was in", "gap")
        } else {
            ("the largest mover was", "change")
        };
        s.push_str(&format!(
            "; {what} {} ({}), {} of the {of}",
            m.label,
            m.owner_name,
            super::format::share_of(m.share).trim_start_matches('+')
        ));
    }
    s.push('.');
    s
}

/// The sides' labels, as cause coverage lists them (with `--compare`, the one period both
/// populations share).
pub fn coverage_labels(g: &MetricGraph, x: &Explanation) -> Vec<String> {
    if x.options.compare.is_some() {
        return vec![x.current.label()];
    }
    vec![
        PeriodOut::span(&x.baseline, g.spec.timezone).label,
        x.current.label(),
    ]
}
