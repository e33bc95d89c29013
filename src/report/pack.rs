//! The report set (`metrictree report`): an overview for the root's owner, one report per
//! owner with only the nodes they are accountable for, and an index. Built once from the
//! `why` models (the root's, and each companion's), the history and the provenance; every
//! format renders this model (templates in `templates/`, see `report::render`) and derives no
//! number, verdict or sentence of its own.
//!
//! The sentences are for readers who are not statisticians: changes of rates in points,
//! offsets instead of shares above 100 %, the noise verdict in words, segments by their
//! values, durations in minutes or hours (see `report::words`).

use serde::Serialize;

use super::chart::tree::TreeBox;
use super::chart::waterfall::Bar;
use super::chart::{Chart, mermaid, sparkline, tree, waterfall};
use super::history::HistoryReport;
use super::provenance::Provenance;
use super::why::{NodeJson, PeriodOut, SegmentJson, WhyReport};
use super::words::{Judgement, Words, arrow, segment_name, verb, verdict};
use crate::graph::MetricGraph;
use crate::report::impact::{ActionOut, ImpactReport};
use crate::spec::model::{Direction, Unit};
use crate::spec::question::{Question, Slot};
use crate::spec::targets::band_of;

/// Version of the report JSON (`schemas/report.schema.json`).
pub const SCHEMA_VERSION: u32 = 1;

/// A whole report set.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSet {
    pub overview: Page,
    pub owners: Vec<Page>,
    pub index: Index,
}

/// What every page shares: the tree, the periods, where it came from, the words it uses.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub schema_version: u32,
    pub tree: String,
    pub title: String,
    pub current: PeriodOut,
    pub baseline: PeriodOut,
    /// `week`, `day` or `month`.
    pub grain: String,
    pub provenance: Provenance,
    pub glossary: Vec<Term>,
    /// The hosted copy's address, when the tree sets `report_base_url`.
    pub base_url: Option<String>,
    /// Said wherever an industry range is shown.
    pub industry_note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Term {
    pub term: &'static str,
    pub meaning: &'static str,
}

/// One report: the overview or one owner's.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    #[serde(flatten)]
    pub context: Context,
    /// `overview` or `owner`.
    pub kind: &'static str,
    /// The file name without extension (`overview`, `owner-support_ops`).
    pub file: String,
    pub owner: OwnerRef,
    /// One sentence first.
    pub headline: String,
    /// Whether any of its nodes moved beyond noise.
    pub moved: bool,
    /// Overview: the root; owner reports: the owner's nodes, those that moved first.
    pub nodes: Vec<NodeCard>,
    /// Overview only: the root's direct branches, largest effect first (a row each, with its
    /// sparkline).
    pub branches: Vec<NodeCard>,
    /// Overview only: the companions, with targets and bands.
    pub companions: Vec<NodeCard>,
    /// Overview only: the root's change by branch, added and offset, in words.
    pub branch_lines: Vec<String>,
    /// Overview only: the segments that moved the root most, in words.
    pub insights: Vec<String>,
    /// Overview only: the root's change split into its branches.
    pub waterfall: Option<Chart>,
    /// Overview only: the tree with owners, values and changes.
    pub tree_diagram: Option<Chart>,
    /// How many charts the page draws (waterfall, tree, one sparkline per node shown).
    pub chart_count: usize,
    /// Overview only: the tree as a Mermaid flowchart (escaped), for Markdown.
    pub mermaid: Option<String>,
    /// Overview only: the waterfall's rows as text.
    pub waterfall_rows: Vec<(String, String)>,
    /// Actions and their verdicts: the owner's own on an owner page, every action on the
    /// overview (empty without actions; see `metrictree impact`).
    pub actions: Vec<ActionOut>,
    /// Where this page is hosted, when `report_base_url` is set.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnerRef {
    pub id: String,
    pub name: String,
}

/// One node as a report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeCard {
    pub id: String,
    pub label: String,
    pub description: Option<String>,
    pub owner: OwnerRef,
    pub unit: Unit,
    pub direction: Direction,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub delta: f64,
    pub baseline_text: String,
    pub current_text: String,
    pub change_text: String,
    pub judgement: Judgement,
    pub arrow: &'static str,
    /// Beyond noise (after false-discovery control).
    pub moved: bool,
    /// `beyond_noise`, `within_noise` or `not_tested`.
    pub verdict: &'static str,
    pub verdict_text: String,
    /// Its effect on the tree's root; `None` for companions (beside the tree).
    pub contribution_to_root: Option<f64>,
    pub contribution_text: String,
    pub companion: bool,
    /// What moved it: its inputs that mattered, in words.
    pub drivers: Vec<String>,
    /// Its top segments, in words.
    pub segments: Vec<String>,
    /// The last periods, oldest first, and the same as block characters.
    pub history: Vec<Option<f64>>,
    pub history_labels: Vec<String>,
    pub sparkline_text: String,
    pub sparkline: Chart,
    pub target: Option<TargetStatus>,
    pub band: Option<String>,
    pub benchmark: Option<String>,
    /// The question for its owner (when it moved).
    pub question: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    pub target: f64,
    /// `None` when the node has no better direction.
    pub met: Option<bool>,
    pub text: String,
}

/// The index page: every report, with one line each.
#[derive(Debug, Clone, Serialize)]
pub struct Index {
    #[serde(flatten)]
    pub context: Context,
    pub headline: String,
    pub entries: Vec<IndexEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexEntry {
    pub file: String,
    pub title: String,
    pub owner: OwnerRef,
    pub moved: bool,
    pub headline: String,
    pub url: Option<String>,
}

/// Everything the set is built from.
pub struct Inputs<'a> {
    pub graph: &'a MetricGraph,
    /// The root explained.
    pub root: &'a WhyReport,
    /// Each companion explained (in the tree's order); `None` where it could not be.
    pub companions: &'a [Option<WhyReport>],
    /// Every node's last periods, ending with the current one.
    pub history: &'a HistoryReport,
    pub provenance: Provenance,
    /// Only this owner's report (and the index); the overview is kept for the root's owner.
    pub only_owner: Option<&'a str>,
    /// The tree's actions judged as of the current period.
    pub impact: Option<&'a ImpactReport>,
}

const GLOSSARY: [Term; 7] = [
    Term {
        term: "points",
        meaning: "the difference between two percentages: 23.7% to 27.3% is +3.6 points (not +3.6%)",
    },
    Term {
        term: "beyond noise",
        meaning: "larger than the usual period-to-period movement of this measure, even allowing for the number of measures checked at once; treat it as a real change",
    },
    Term {
        term: "could be noise",
        meaning: "large enough to notice alone, but with many measures checked at once a change like it turns up by chance",
    },
    Term {
        term: "contribution",
        meaning: "how much of the top measure's change came from this branch; contributions of all branches add up to the change exactly",
    },
    Term {
        term: "offset",
        meaning: "a branch that moved the other way and made the total change smaller",
    },
    Term {
        term: "segment",
        meaning: "a slice of the conversations by channel, team, category or tier, named by its values (chat × billing)",
    },
    Term {
        term: "band",
        meaning: "a named range the measure is in (for the handoff rate: lean, balanced, transfer-heavy, bouncing)",
    },
];

impl ReportSet {
    pub fn new(i: &Inputs) -> ReportSet {
        let g = i.graph;
        let w = Words::new(g.spec.locale);
        let ctx = context(i);
        let cards = Cards { i, w };
        let root_card = cards.card(g.root, Some(i.root), false);
        let companion_cards: Vec<NodeCard> = g
            .companions
            .iter()
            .zip(i.companions)
            .map(|(&c, r)| cards.card(c, r.as_ref(), true))
            .collect();

        // Per owner: the root, the formula branches under it and its direct inputs, and the
        // companions they own.
        let mut owned: Vec<(usize, NodeCard)> = Vec::new();
        let mut seen = vec![false; g.nodes.len()];
        for rb in &i.root.ranking {
            let Some(n) = g.index(&rb.id) else { continue };
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            let branch = rb.depth == 1 || !g.nodes[n].is_leaf();
            if branch {
                owned.push((n, cards.card(n, Some(i.root), false)));
            }
        }
        owned.insert(0, (g.root, root_card.clone()));
        for (k, &c) in g.companions.iter().enumerate() {
            // A companion that also feeds the root (warning W002) is shown once, in the tree.
            if !seen[c] && c != g.root {
                owned.push((c, companion_cards[k].clone()));
            }
        }

        let base = g.spec.report_base_url.clone();
        let url = |file: &str| base.as_ref().map(|b| format!("{b}/{file}.html"));
        let root_owner = owner_ref(g, &g.nodes[g.root].owner);
        // The overview's branch table: the root's direct inputs, largest effect first.
        let branch_cards: Vec<NodeCard> = i
            .root
            .ranking
            .iter()
            .filter(|b| b.depth == 1)
            .filter_map(|b| owned.iter().find(|(n, _)| g.nodes[*n].id == b.id))
            .map(|(_, c)| c.clone())
            .collect();
        let overview = overview(
            i,
            &ctx,
            root_card,
            branch_cards,
            companion_cards,
            root_owner.clone(),
            url("overview"),
        );

        let mut owners = Vec::new();
        for o in &g.spec.owners {
            if i.only_owner.is_some_and(|x| x != o.id) {
                continue;
            }
            let mut nodes: Vec<NodeCard> = owned
                .iter()
                .filter(|(n, _)| g.nodes[*n].owner == o.id)
                .map(|(_, c)| c.clone())
                .collect();
            let actions: Vec<ActionOut> = i
                .impact
                .map(|r| r.of_owner(&o.id).cloned().collect())
                .unwrap_or_default();
            if nodes.is_empty() && actions.is_empty() {
                continue;
            }
            // Those that moved first, the largest effect on the root first; then the rest in
            // tree order.
            nodes.sort_by(|a, b| {
                b.moved.cmp(&a.moved).then_with(|| {
                    if a.moved && b.moved {
                        // In the tree first (they moved the root), largest effect first.
                        let e = |c: &NodeCard| c.contribution_to_root.map(f64::abs);
                        e(b).is_some()
                            .cmp(&e(a).is_some())
                            .then_with(|| e(b).unwrap_or(0.0).total_cmp(&e(a).unwrap_or(0.0)))
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
            });
            let moved: Vec<&NodeCard> = nodes.iter().filter(|c| c.moved).collect();
            let mut headline = if nodes.is_empty() {
                format!("{}'s actions as of {}.", o.name, ctx.current.label)
            } else if moved.is_empty() {
                format!(
                    "No material change for {}: none of your {} measure(s) moved beyond {g_}-to-{g_} noise in {}.",
                    o.name,
                    nodes.len(),
                    ctx.current.label,
                    g_ = ctx.grain
                )
            } else {
                let first = moved[0];
                let mut s = format!(
                    "{} {} from {} to {} ({}), beyond {g_}-to-{g_} noise",
                    first.label,
                    verb(first.delta),
                    first.baseline_text,
                    first.current_text,
                    first.change_text,
                    g_ = ctx.grain
                );
                if moved.len() > 1 {
                    s.push_str(&format!(
                        "; {} more of your measures moved",
                        moved.len() - 1
                    ));
                }
                s.push('.');
                s
            };
            for a in actions.iter().filter(|a| a.became) {
                headline.push_str(&format!(" Your action {}: {}.", a.id, a.verdict_text));
            }
            let file = format!("owner-{}", o.id);
            let nodes_len = nodes.len();
            owners.push(Page {
                context: ctx.clone(),
                kind: "owner",
                url: url(&file),
                file,
                owner: OwnerRef {
                    id: o.id.clone(),
                    name: o.name.clone(),
                },
                headline,
                moved: !moved.is_empty(),
                nodes,
                branches: Vec::new(),
                companions: Vec::new(),
                branch_lines: Vec::new(),
                insights: Vec::new(),
                chart_count: nodes_len,
                waterfall: None,
                tree_diagram: None,
                mermaid: None,
                waterfall_rows: Vec::new(),
                actions,
            });
        }
        // With one owner asked for, the index lists what was written: that owner's page.
        let mut entries = Vec::new();
        if i.only_owner.is_none() {
            entries.push(IndexEntry {
                file: overview.file.clone(),
                title: format!("Overview for {}", overview.owner.name),
                owner: overview.owner.clone(),
                moved: overview.moved,
                headline: overview.headline.clone(),
                url: overview.url.clone(),
            });
        }
        entries.extend(owners.iter().map(|p| IndexEntry {
            file: p.file.clone(),
            title: format!("Report for {}", p.owner.name),
            owner: p.owner.clone(),
            moved: p.moved,
            headline: p.headline.clone(),
            url: p.url.clone(),
        }));
        let index = Index {
            context: ctx,
            headline: overview.headline.clone(),
            entries,
        };
        ReportSet {
            overview,
            owners,
            index,
        }
    }
}

fn owner_ref(g: &MetricGraph, id: &str) -> OwnerRef {
    OwnerRef {
        id: id.to_string(),
        name: g.owner_name(id),
    }
}

fn context(i: &Inputs) -> Context {
    let g = i.graph;
    Context {
        schema_version: SCHEMA_VERSION,
        tree: g.spec.name.clone(),
        title: g.spec.title.clone().unwrap_or_else(|| g.spec.name.clone()),
        current: i.root.current.clone(),
        baseline: i.root.baseline.clone(),
        grain: g.spec.grain.name().to_string(),
        provenance: i.provenance.clone(),
        glossary: GLOSSARY.to_vec(),
        base_url: g.spec.report_base_url.clone(),
        industry_note: g.spec.industry.map(|ind| {
            format!(
                "Industry ranges are published estimates for {} support teams: a guide to where similar teams sit, not a target.",
                ind.name()
            )
        }),
    }
}

/// A sparkline's text alternative: every period's value.
fn history_desc(
    label: &str,
    labels: &[String],
    values: &[Option<f64>],
    w: &Words,
    unit: Unit,
) -> String {
    let each: Vec<String> = labels
        .iter()
        .zip(values)
        .map(|(l, v)| format!("{l} {}", w.value(*v, unit)))
        .collect();
    format!("{label}: {}", each.join(", "))
}

/// Lower-cases a label's first letter for use inside a sentence ("Routing handoffs" →
/// "routing handoffs"), unless it reads as an abbreviation ("CSAT ...").
pub fn in_sentence(label: &str) -> String {
    let mut cs = label.chars();
    match (cs.next(), cs.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            let mut s: String = a.to_lowercase().collect();
            s.push_str(&label[a.len_utf8()..]);
            s
        }
        _ => label.to_string(),
    }
}

struct Cards<'a> {
    i: &'a Inputs<'a>,
    w: Words,
}

impl Cards<'_> {
    /// A node's card from the `why` model it was explained in.
    fn card(&self, n: usize, why: Option<&WhyReport>, companion: bool) -> NodeCard {
        let g = self.i.graph;
        let w = self.w;
        let node = &g.nodes[n];
        let j = why.and_then(|x| x.node(&node.id));
        let (baseline, current, delta) = match j {
            Some(j) => (Some(j.baseline), Some(j.current), j.delta),
            None => (None, None, 0.0),
        };
        let test = j.and_then(|j| j.test.as_ref());
        let moved = test.is_some_and(|t| t.verdict == "beyond_noise");
        let verdict_key = match test {
            Some(t) if t.verdict == "beyond_noise" => "beyond_noise",
            Some(_) => "within_noise",
            None => "not_tested",
        };
        // The root and each companion are tested alone; the branches as one family.
        let tested = if companion || n == g.root {
            1
        } else {
            self.i.root.noise.branches_tested
        };
        let verdict_text = verdict(
            test.map(|t| t.verdict == "beyond_noise"),
            test.map(|t| (t.ci_low, t.ci_high)),
            g.spec.grain.name(),
            tested,
        );
        let root = &self.i.root;
        let root_node = root.root_node();
        let contribution = (!companion).then(|| {
            if n == g.root {
                root_node.delta
            } else {
                root.ranking
                    .iter()
                    .filter(|r| r.id == node.id)
                    .map(|r| r.contribution_to_root)
                    .sum()
            }
        });
        let contribution_text = match contribution {
            None => format!(
                "beside the tree: it does not add up into {}",
                in_sentence(&root_node.label)
            ),
            Some(_) if n == g.root => "the measure the tree explains".to_string(),
            Some(c) => format!(
                "{} of {}'s {} change",
                w.change(c, root_node.unit),
                in_sentence(&root_node.label),
                w.change(root_node.delta, root_node.unit)
            ),
        };
        let hist = self.i.history.node(&node.id);
        let history: Vec<Option<f64>> = hist.map(|h| h.values.clone()).unwrap_or_default();
        let history_labels: Vec<String> = self
            .i
            .history
            .periods
            .iter()
            .map(|p| p.period.label.clone())
            .collect();
        let target = node
            .target
            .map(|t| target_status(&w, t, current, node.unit, node.direction));
        let band = current.and_then(|v| {
            let bands = &node.reporting.bands;
            let b = band_of(bands, v)?;
            let k = bands.iter().position(|x| x == b).unwrap_or(0);
            let lo = k.checked_sub(1).and_then(|p| bands[p].below);
            let range = match (lo, b.below) {
                (None, Some(hi)) => format!("below {}", w.value(Some(hi), node.unit)),
                (Some(lo), Some(hi)) => format!(
                    "{} to {}",
                    w.value(Some(lo), node.unit),
                    w.value(Some(hi), node.unit)
                ),
                (Some(lo), None) => format!("{} and above", w.value(Some(lo), node.unit)),
                (None, None) => "any value".to_string(),
            };
            Some(format!("{} ({range})", b.label))
        });
        let benchmark = match (node.reporting.benchmark, g.spec.industry, current) {
            (Some(b), Some(ind), Some(v)) => {
                // The unit fits the range (checked when the tree is read).
                let (lo_v, hi_v) = ind.range(b);
                let pos = if v < lo_v {
                    "below"
                } else if v > hi_v {
                    "above"
                } else {
                    "within"
                };
                Some(format!(
                    "{pos} the industry estimate for {} ({} to {}; a guide, not a target)",
                    ind.name(),
                    w.value(Some(lo_v), node.unit),
                    w.value(Some(hi_v), node.unit)
                ))
            }
            _ => None,
        };
        let (segments, top) = match j {
            Some(j) => self.segments(j),
            None => (Vec::new(), None),
        };
        let drivers = j.map(|j| self.drivers(j)).unwrap_or_default();
        let owner = owner_ref(g, &node.owner);
        let question = moved.then(|| {
            let q = node
                .reporting
                .question
                .clone()
                .unwrap_or_else(Question::generic);
            let (seg, before, after) = match top {
                Some(s) if s.baseline.is_some() && s.current.is_some() && !s.parts.is_empty() => {
                    (segment_name(&parts(s)), s.baseline, s.current)
                }
                _ => ("all segments".to_string(), baseline, current),
            };
            let d = match (before, after) {
                (Some(b), Some(a)) => a - b,
                _ => delta,
            };
            q.render(|slot| match slot {
                Slot::Node => node.label.clone(),
                Slot::Owner => owner.name.clone(),
                Slot::Segment => seg.clone(),
                Slot::Before => w.value(before, node.unit),
                Slot::After => w.value(after, node.unit),
                Slot::Change => w.change(d, node.unit),
                Slot::Direction => verb(d).to_string(),
            })
        });
        NodeCard {
            id: node.id.clone(),
            label: node.label.clone(),
            description: node.description.clone(),
            owner,
            unit: node.unit,
            direction: node.direction,
            baseline,
            current,
            delta,
            baseline_text: w.value(baseline, node.unit),
            current_text: w.value(current, node.unit),
            change_text: w.change(delta, node.unit),
            judgement: Judgement::of(delta, node.direction),
            arrow: arrow(delta),
            moved,
            verdict: verdict_key,
            verdict_text,
            contribution_to_root: contribution,
            contribution_text,
            companion,
            drivers,
            segments,
            sparkline_text: sparkline::blocks(&history),
            sparkline: sparkline::draw(
                &node.label,
                &history,
                &history_desc(&node.label, &history_labels, &history, &w, node.unit),
            ),
            history,
            history_labels,
            target,
            band,
            benchmark,
            question,
        }
    }

    /// The node's top segments in words, and the one its question is about.
    fn segments<'j>(&self, j: &'j NodeJson) -> (Vec<String>, Option<&'j SegmentJson>) {
        let Some(s) = &j.segments else {
            return (Vec::new(), None);
        };
        let g = self.i.graph;
        let w = self.w;
        let volume = s
            .volume
            .as_ref()
            .and_then(|v| g.index(v))
            .map(|v| in_sentence(&g.nodes[v].label).to_lowercase())
            .unwrap_or_else(|| "the volume".into());
        let lines = s
            .insights
            .iter()
            .take(3)
            .map(|ins| {
                let name = segment_name(&parts(ins));
                let effect = format!("{} on the total", w.change(ins.contribution, j.unit));
                let noise = match &ins.test {
                    Some(t) if t.verdict == "beyond_noise" => "beyond noise",
                    Some(_) => "could be noise",
                    None => "not tested",
                };
                let mix_led =
                    matches!((ins.rate, ins.mix), (Some(r), Some(m)) if m.abs() > r.abs());
                let body = if mix_led {
                    format!(
                        "more of the {volume} moved {} {name} ({} → {} of them)",
                        if ins.share_current > ins.share_baseline {
                            "into"
                        } else {
                            "out of"
                        },
                        w.share(ins.share_baseline),
                        w.share(ins.share_current)
                    )
                } else if s.kind == "rate" && (ins.baseline.is_none() || ins.current.is_none()) {
                    format!(
                        "in {name}, {} {} ({} of {volume})",
                        in_sentence(&j.label),
                        match ins.current {
                            Some(_) => format!("is new: {} now", w.value(ins.current, j.unit)),
                            None => format!("is gone: {} before", w.value(ins.baseline, j.unit)),
                        },
                        w.share(ins.volume_share)
                    )
                } else if s.kind == "rate" {
                    format!(
                        "in {name}, {} itself {} from {} to {} ({} of {volume})",
                        in_sentence(&j.label),
                        verb(ins.current.unwrap_or(0.0) - ins.baseline.unwrap_or(0.0)),
                        w.value(ins.baseline, j.unit),
                        w.value(ins.current, j.unit),
                        w.share(ins.volume_share)
                    )
                } else {
                    format!(
                        "{name}: {} → {}",
                        w.value(ins.baseline, j.unit),
                        w.value(ins.current, j.unit)
                    )
                };
                format!("{body}: {effect}, {noise}")
            })
            .collect();
        // The question needs a segment with a value then and now (not one that is new).
        let asked = s
            .insights
            .iter()
            .take(3)
            .find(|x| x.baseline.is_some() && x.current.is_some() && !x.parts.is_empty());
        (lines, asked)
    }

    /// The inputs that moved the node, in words. A denominator gets its own sentence ("more
    /// conversations lowered it") rather than a share.
    fn drivers(&self, j: &NodeJson) -> Vec<String> {
        let g = self.i.graph;
        let w = self.w;
        if j.delta == 0.0 || j.inputs.len() < 2 {
            return Vec::new();
        }
        let why_of = |id: &str| {
            self.i
                .root
                .node(id)
                .or_else(|| self.i.companions.iter().flatten().find_map(|c| c.node(id)))
        };
        let mut inputs: Vec<_> = j
            .inputs
            .iter()
            .filter(|x| x.contribution.abs() >= 0.05 * j.delta.abs())
            .collect();
        inputs.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        inputs
            .iter()
            .take(4)
            .filter_map(|inp| {
                let n = g.index(&inp.id)?;
                let x = why_of(&inp.id)?;
                let denominator = matches!(
                    &g.nodes[g.index(&j.id)?].def,
                    crate::graph::Def::Formula { shape: crate::spec::formula::Shape::Ratio { den, .. }, inputs, .. }
                        if inputs.get(*den) == Some(&n)
                );
                let effect = if inp.contribution > 0.0 { "raising" } else { "lowering" };
                Some(format!(
                    "{} {} from {} to {}{}, {effect} {} by {}",
                    g.nodes[n].label,
                    verb(x.delta),
                    w.value(Some(x.baseline), x.unit),
                    w.value(Some(x.current), x.unit),
                    if denominator { " (what it is divided by)" } else { "" },
                    in_sentence(&j.label),
                    w.change(inp.contribution.abs(), j.unit).trim_start_matches(['+', '−', '±'])
                ))
            })
            .collect()
    }
}

fn parts(s: &SegmentJson) -> Vec<(String, Option<String>)> {
    s.parts
        .iter()
        .map(|p| (p.dimension.clone(), p.value.clone()))
        .collect()
}

fn target_status(w: &Words, t: f64, v: Option<f64>, unit: Unit, dir: Direction) -> TargetStatus {
    let tt = w.value(Some(t), unit);
    let (met, text) = match (v, dir) {
        (None, _) => (None, format!("target {tt}; no value this period")),
        (Some(v), Direction::LowerIsBetter) => (
            Some(v <= t),
            if v <= t {
                format!("on target (at most {tt})")
            } else {
                format!(
                    "off target: {} above the target of at most {tt}",
                    w.change(v - t, unit).trim_start_matches('+')
                )
            },
        ),
        (Some(v), Direction::HigherIsBetter) => (
            Some(v >= t),
            if v >= t {
                format!("on target (at least {tt})")
            } else {
                format!(
                    "off target: {} below the target of at least {tt}",
                    w.change(t - v, unit).trim_start_matches('+')
                )
            },
        ),
        (Some(v), Direction::Neutral) => {
            (None, format!("target {tt}; now {}", w.value(Some(v), unit)))
        }
    };
    TargetStatus {
        target: t,
        met,
        text,
    }
}

fn overview(
    i: &Inputs,
    ctx: &Context,
    root: NodeCard,
    branches_cards: Vec<NodeCard>,
    companions: Vec<NodeCard>,
    owner: OwnerRef,
    url: Option<String>,
) -> Page {
    let g = i.graph;
    let w = &Words::new(g.spec.locale);
    let r = i.root;
    let rn = r.root_node();
    let d = rn.delta;
    // Direct branches, largest effect first.
    let branches: Vec<(&str, f64)> = r
        .ranking
        .iter()
        .filter(|b| b.depth == 1)
        .map(|b| (b.id.as_str(), b.contribution_to_root))
        .collect();
    let label = |id: &str| {
        g.index(id)
            .map_or_else(|| id.to_string(), |n| g.nodes[n].label.clone())
    };
    let owner_name = |id: &str| {
        g.index(id)
            .map_or_else(String::new, |n| owner_ref(g, &g.nodes[n].owner).name)
    };
    let mut headline = if d == 0.0 {
        format!(
            "{} held at {} in {}",
            rn.label, root.current_text, ctx.current.label
        )
    } else {
        format!(
            "{} {} from {} to {} ({}), {}",
            rn.label,
            verb(d),
            root.baseline_text,
            root.current_text,
            root.change_text,
            match root.verdict {
                "beyond_noise" => format!("beyond {g_}-to-{g_} noise", g_ = ctx.grain),
                "within_noise" => format!("within {g_}-to-{g_} noise", g_ = ctx.grain),
                _ => "not tested for noise".to_string(),
            }
        )
    };
    let same_sign: Vec<&(&str, f64)> = branches.iter().filter(|(_, c)| *c * d > 0.0).collect();
    if let Some((id, c)) = same_sign.first() {
        let lead = if c / d >= 0.5 {
            "most of it is"
        } else {
            "the largest part is"
        };
        // A segment that moved the branch the way the branch moved (so the way it moved the
        // root, whatever the sign of the branch's effect).
        let top_seg = r
            .node(id)
            .and_then(|n| n.segments.as_ref().map(|s| (n.delta, s)))
            .and_then(|(bd, s)| {
                s.insights.iter().find(|x| {
                    x.test.as_ref().is_some_and(|t| t.verdict == "beyond_noise")
                        && x.contribution * bd > 0.0
                })
            })
            .map(|s| format!(" from {}", segment_name(&parts(s))))
            .unwrap_or_default();
        headline.push_str(&format!(
            "; {lead} {}{top_seg} ({}), owned by {}",
            in_sentence(&label(id)),
            w.change(*c, rn.unit),
            owner_name(id)
        ));
        let offsets: Vec<String> = branches
            .iter()
            .filter(|(_, x)| x * d < 0.0 && x.abs() >= 0.1 * d.abs())
            .map(|(id, x)| format!("{} from {}", w.change(*x, rn.unit), in_sentence(&label(id))))
            .collect();
        if !offsets.is_empty() {
            headline.push_str(&format!(", offset by {}", offsets.join(" and ")));
        }
    }
    headline.push('.');

    let branch_lines: Vec<String> = branches
        .iter()
        .map(|(id, c)| {
            let how = if *c == 0.0 {
                "no effect on it".to_string()
            } else if c * d >= 0.0 {
                format!("added {}", w.change(*c, rn.unit))
            } else {
                format!("offset {}", w.change(*c, rn.unit))
            };
            format!("{} ({}): {how}", label(id), owner_name(id))
        })
        .collect();
    let insights = root.segments.clone();

    // The waterfall: baseline, each branch, current.
    let mut bars = vec![Bar {
        label: r.baseline.label.clone(),
        text: root.baseline_text.clone(),
        from: rn.baseline,
        to: rn.baseline,
        total: true,
        judgement: Judgement::Neutral,
    }];
    let mut level = rn.baseline;
    // Each step is judged by what it did to the root.
    let root_dir = g.nodes[g.root].direction;
    for (id, c) in &branches {
        bars.push(Bar {
            label: label(id),
            text: w.change(*c, rn.unit),
            from: level,
            to: level + c,
            total: false,
            judgement: Judgement::of(*c, root_dir),
        });
        level += c;
    }
    bars.push(Bar {
        label: r.current.label.clone(),
        text: root.current_text.clone(),
        from: rn.current,
        to: rn.current,
        total: true,
        judgement: root.judgement,
    });
    let (axis_lo, _) = waterfall::axis(&bars);
    let waterfall_rows = bars
        .iter()
        .map(|b| (b.label.clone(), b.text.clone()))
        .collect();
    let wf = waterfall::draw(
        &format!(
            "{}: {} to {}, by branch",
            rn.label, r.baseline.label, r.current.label
        ),
        &bars,
        &format!(
            "The axis starts at {}, not at zero.",
            w.value(Some(axis_lo), rn.unit)
        ),
    );

    // The tree diagram: the root, its branches, their formula branches.
    let boxed = |n: usize, card: Option<&NodeCard>| -> TreeBox {
        let node = &g.nodes[n];
        let j = r.node(&node.id);
        let (b, c, dl) = j.map_or((None, None, 0.0), |j| {
            (Some(j.baseline), Some(j.current), j.delta)
        });
        TreeBox {
            label: node.label.clone(),
            owner: owner_ref(g, &node.owner).name,
            values: format!("{} → {}", w.value(b, node.unit), w.value(c, node.unit)),
            change: card.map_or_else(|| w.change(dl, node.unit), |c| c.change_text.clone()),
            delta: dl,
            judgement: Judgement::of(dl, node.direction),
            children: Vec::new(),
        }
    };
    let mut top = boxed(g.root, Some(&root));
    for (id, _) in &branches {
        let Some(n) = g.index(id) else { continue };
        let mut b = boxed(n, None);
        if !g.nodes[n].is_leaf() {
            let mut kids: Vec<(usize, f64)> = r
                .ranking
                .iter()
                .filter(|x| x.depth == 2 && x.parent == *id)
                .filter_map(|x| g.index(&x.id).map(|k| (k, x.contribution_to_root)))
                .filter(|(k, _)| !g.nodes[*k].is_leaf())
                .collect();
            kids.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
            b.children = kids.into_iter().map(|(k, _)| boxed(k, None)).collect();
        }
        top.children.push(b);
    }
    let tree_chart = tree::draw(
        &format!(
            "The {} tree, {} vs {}",
            in_sentence(&rn.label),
            r.current.label,
            r.baseline.label
        ),
        &top,
    );
    let mermaid = mermaid::flowchart(&top);
    let chart_count = 2 + 1 + branches_cards.len() + companions.len();
    Page {
        context: ctx.clone(),
        kind: "overview",
        file: "overview".into(),
        owner,
        headline,
        moved: root.moved || companions.iter().any(|c| c.moved),
        nodes: vec![root],
        branches: branches_cards,
        companions,
        branch_lines,
        insights,
        chart_count,
        waterfall: Some(wf),
        tree_diagram: Some(tree_chart),
        mermaid: Some(mermaid),
        waterfall_rows,
        url,
        actions: i.impact.map(|r| r.actions.clone()).unwrap_or_default(),
    }
}
