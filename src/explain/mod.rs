//! The `why` pipeline: evaluation → branch attribution → segment attribution → noise.
//!
//! Input: the graph, a registered engine, the explained node, the current period, a
//! [`Baseline`] and [`Options`]. It reads the rows of every period it needs once (history,
//! baseline, current), attributes the node's change to branches, then for each formula node
//! splits its change over segments of the chosen dimensions (up to the search depth), tests
//! every branch change and every segment that passes the support and size minimums, widens
//! the noise by the over-dispersion seen in the node's own history, and controls the false
//! discovery rate with Benjamini–Hochberg (one family for branches, one for segments).
//! With `--compare DIM=A,B` ([`Comparison`]) the two sides are two populations of the current
//! period instead of two periods, and there is no history (see `compare.rs`).
//! Output: an [`Explanation`], from which `report::why::WhyReport::new` builds the report model.

pub mod choice;
mod compare;

pub use compare::Comparison;

use std::collections::{BTreeMap, HashMap};

use crate::period::Baseline;

use crate::attribution::insights::{self, Candidate, Insight, SearchOptions};
use crate::attribution::players::{self, PlayerEffect};
use crate::attribution::segments::{self, NodeContext, NodeKind, SegmentChange};
use crate::attribution::{Attribution, Undefined, attribute};
use crate::engine::Engine;
use crate::eval::{CauseCoverage, Cell, Dataset, EvalError, Evaluation, Psi, Segment};
use crate::graph::{Def, MetricGraph};
use crate::noise::volume::{self, VolumeFactor};
use crate::noise::{Dispersion, Test, dispersion, fdr};
use crate::period::Period;
use crate::plan::combinations;

/// What `why` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dimensions to split by (the tree's declared ones by default).
    pub dims: Vec<String>,
    pub search: SearchOptions,
    /// The false discovery rate controlled.
    pub fdr: f64,
    /// Periods of history before the current one used to estimate over-dispersion.
    pub history: u32,
    /// `--compare`: two populations of the current period instead of two periods.
    pub compare: Option<Comparison>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dims: Vec::new(),
            search: SearchOptions::default(),
            fdr: crate::noise::DEFAULT_FDR,
            history: 8,
            compare: None,
        }
    }
}

/// A test with its place in the false-discovery family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub test: Test,
    /// The BH-adjusted p-value within the family.
    pub q: f64,
    pub beyond_noise: bool,
}

/// The noise verdict of one node's change.
#[derive(Debug, Clone)]
pub struct NodeNoise {
    pub verdict: Option<Verdict>,
    pub dispersion: Dispersion,
}

/// One segment of one node.
#[derive(Debug, Clone)]
pub struct ScoredSegment {
    pub segment: Segment,
    pub change: SegmentChange,
    /// Passed the support and size minimums (so it was tested and may be reported).
    pub eligible: bool,
    pub verdict: Option<Verdict>,
    /// The segment with exactly the same rows listed first (this one is not tested again).
    pub alias_of: Option<usize>,
}

/// One node's segments.
#[derive(Debug, Clone)]
pub struct NodeSegments {
    pub node: usize,
    pub kind: NodeKind,
    /// The dimensions it was split by.
    pub dims: Vec<String>,
    /// Every segment up to the search depth.
    pub segments: Vec<ScoredSegment>,
    /// Per dimension, its values (indexes into `segments`): they partition the population.
    pub by_dimension: Vec<(String, Vec<usize>)>,
    /// Indexes into `segments` via `Insight::index`.
    pub insights: Vec<Insight>,
}

/// Everything `why` reports.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub target: usize,
    pub current: Period,
    pub baseline: Vec<Period>,
    pub baseline_kind: String,
    pub attribution: Attribution,
    /// With `players:` in the tree: each player's effect (Shapley over groups of leaves), or
    /// the node that is not finite where the two periods' values are mixed.
    pub players: Option<Result<Vec<PlayerEffect>, usize>>,
    /// With `--node`: (the node's contribution to the tree's root, the root's change).
    pub tree_root_contribution: Option<(f64, f64)>,
    /// Per node of the explained subtree.
    pub noise: BTreeMap<usize, NodeNoise>,
    pub segments: Vec<NodeSegments>,
    /// Nodes not split, with the reason.
    pub unsplit: Vec<(usize, String)>,
    pub options: Options,
    pub branches_tested: usize,
    pub segments_tested: usize,
    /// Segments evaluated before the support and size minimums.
    pub segments_evaluated: usize,
    /// The tree's over-dispersion, pooled over its branches' history.
    pub tree_dispersion: Dispersion,
    /// History periods that had data.
    pub history_periods: usize,
    /// How much of each event log's transfers the cause rules name: baseline, then current.
    pub coverage: Vec<CauseCoverage>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A node is undefined in a period; the evaluation says why.
    #[error("undefined value")]
    Undefined(Undefined, Box<Evaluation>),
    #[error("{0}")]
    Invalid(String),
    /// `--compare` names a population with no rows in the period.
    #[error("{0}")]
    NoPopulation(String),
}

/// The periods one explanation reads: history, baseline and current, sorted and distinct,
/// and the groups of indexes into them that aggregations pool.
struct PeriodSet {
    all: Vec<Period>,
    baseline: Vec<Period>,
    /// `[baseline group, current group]`; with `--compare`, `[current]` (split in two by
    /// [`PeriodSet::aggregate`]).
    sides: Vec<Vec<usize>>,
    /// One group per history period, oldest first (none with `--compare`).
    history: Vec<Vec<usize>>,
    compare: Option<Comparison>,
}

impl PeriodSet {
    fn new(
        graph: &MetricGraph,
        target: usize,
        current: Period,
        baseline: &Baseline,
        history: u32,
    ) -> Result<PeriodSet, ExplainError> {
        let base_periods = baseline.periods(&current);
        if base_periods.contains(&current) {
            return Err(ExplainError::Invalid(
                "the baseline is the same period as the current one; pick another --baseline"
                    .into(),
            ));
        }
        if base_periods.len() > 1
            && let Some(l) = graph.subtree(target).into_iter().find(|&l| {
                matches!(&graph.nodes[l].def, Def::Measure(m) if m.agg == crate::spec::model::Agg::CountDistinct)
            })
        {
            return Err(ExplainError::Invalid(format!(
                "`{}` counts distinct values, which cannot be pooled over a trailing baseline; compare with one period (`--baseline ago:1`)",
                graph.nodes[l].id
            )));
        }
        let hist: Vec<Period> = (1..=history).rev().map(|k| current.back(k)).collect();
        let mut all: Vec<Period> = hist
            .iter()
            .chain(&base_periods)
            .chain(std::iter::once(&current))
            .copied()
            .collect();
        all.sort();
        all.dedup();
        let idx = |p: &Period| all.iter().position(|x| x == p).unwrap_or(0);
        let sides = vec![
            base_periods.iter().map(idx).collect::<Vec<_>>(),
            vec![idx(&current)],
        ];
        let history = hist.iter().map(|p| vec![idx(p)]).collect();
        Ok(PeriodSet {
            all,
            baseline: base_periods,
            sides,
            history,
            compare: None,
        })
    }

    /// One period, two populations: no baseline period and no history.
    fn populations(current: Period, compare: Comparison) -> PeriodSet {
        PeriodSet {
            all: vec![current],
            baseline: vec![current],
            sides: vec![vec![0]],
            history: Vec::new(),
            compare: Some(compare),
        }
    }

    /// The dimensions to read: with `--compare`, its dimension first.
    fn dims(&self, split: &[String]) -> Vec<String> {
        self.compare
            .iter()
            .map(|c| c.dimension.clone())
            .chain(split.iter().cloned())
            .collect()
    }

    /// The two sides, in total and per grouping set in `sets`: two groups of periods, or
    /// with `--compare` the two populations of the period.
    fn aggregate(
        &self,
        data: &Dataset,
        sets: &[Vec<String>],
        psi: &[Psi],
    ) -> Result<Evaluation, ExplainError> {
        let Some(c) = &self.compare else {
            return Ok(data.aggregate(&self.sides, sets, psi)?);
        };
        let dim = &c.dimension;
        let mut with_dim = vec![vec![dim.clone()]];
        with_dim.extend(sets.iter().map(|s| {
            std::iter::once(dim.clone())
                .chain(s.iter().cloned())
                .collect()
        }));
        data.aggregate(&self.sides, &with_dim, psi)?
            .populations(dim, [&c.values[0], &c.values[1]])
            .map_err(|side| {
                let p = self.all[0].label();
                ExplainError::NoPopulation(format!(
                    "--compare: no rows with `{}` in {p}; the values of `{dim}` there are listed by `metrictree eval TREE --period {p} --by {dim}`",
                    c.label(side),
                ))
            })
    }
}

/// Per tested node (formula nodes and the explained node): the leaf multipliers of its own
/// change, which are also its noise combination ψ.
struct Multipliers {
    psi: Vec<Psi>,
    /// Node → index into `psi`.
    psi_of: BTreeMap<usize, usize>,
    /// Node → (leaf, multiplier).
    of: BTreeMap<usize, Vec<(usize, f64)>>,
}

impl Multipliers {
    fn new(graph: &MetricGraph, target: usize, x0: &[Option<f64>], x1: &[Option<f64>]) -> Self {
        let mut m = Multipliers {
            psi: Vec::new(),
            psi_of: BTreeMap::new(),
            of: BTreeMap::new(),
        };
        for n in graph.subtree(target) {
            let tested = n == target || !graph.nodes[n].is_leaf();
            if !tested || segments::non_additive_leaf(graph, n).is_some() {
                continue;
            }
            let Ok(a) = attribute(graph, n, x0, x1) else {
                continue;
            };
            let coef: Vec<(usize, f64)> = a
                .nodes
                .iter()
                .filter(|x| graph.nodes[x.node].is_leaf())
                .map(|x| (x.node, x.multiplier))
                .collect();
            m.psi_of.insert(n, m.psi.len());
            m.psi.push(Psi { coef: coef.clone() });
            m.of.insert(n, coef);
        }
        m
    }

    /// K = Σ M(ℓ)·x̄ₗ: the node's level in `cells` (the mean of the two), which the volume
    /// factor scales.
    fn level(&self, n: usize, cells: [Option<&Cell>; 2]) -> f64 {
        self.of.get(&n).map_or(0.0, |m| {
            m.iter()
                .map(|&(l, c)| {
                    let x = |k: usize| cells[k].and_then(|c| c.values[l].value).unwrap_or(0.0);
                    c * (x(0) + x(1)) / 2.0
                })
                .sum()
        })
    }
}

/// A node to split by segments, and by which of the asked dimensions.
struct SplitNode {
    node: usize,
    dims: Vec<String>,
}

/// Which nodes of the explained subtree are split, by which dimensions; the others with the
/// reason.
fn split_nodes(
    graph: &MetricGraph,
    target: usize,
    dims: &[String],
) -> (Vec<SplitNode>, Vec<(usize, String)>) {
    let mut unsplit = Vec::new();
    let mut split = Vec::new();
    for n in graph.subtree(target) {
        if graph.nodes[n].is_leaf() && n != target {
            continue;
        }
        if let Some(l) = segments::non_additive_leaf(graph, n) {
            unsplit.push((
                n,
                format!(
                    "`{}` is a {} and does not add up over segments",
                    graph.nodes[l].id,
                    agg_name(graph, l)
                ),
            ));
            continue;
        }
        let own: Vec<String> = dims
            .iter()
            .filter(|d| graph.splittable[n].contains(*d))
            .cloned()
            .collect();
        if own.is_empty() {
            if !dims.is_empty() {
                unsplit.push((
                    n,
                    "its leaves do not all map the dimensions asked for".into(),
                ));
            }
            continue;
        }
        split.push(SplitNode { node: n, dims: own });
    }
    (split, unsplit)
}

/// The noise of the explained node and its branches: per node its test (widened by its
/// over-dispersion and the volume factor) and verdict, with the branches as one
/// false-discovery family.
struct BranchNoise {
    noise: BTreeMap<usize, NodeNoise>,
    branches_tested: usize,
    tree_dispersion: Dispersion,
    history_periods: usize,
}

/// What every test shares: the graph, the two sides' totals, the multipliers and the
/// per-source volume factors (σ²_ε already scaled for this comparison).
struct NoiseContext<'a> {
    graph: &'a MetricGraph,
    target: usize,
    totals: [&'a Cell; 2],
    multipliers: &'a Multipliers,
    volumes: Vec<VolumeFactor>,
}

impl NoiseContext<'_> {
    fn source_of(&self, n: usize) -> usize {
        count_source(self.graph, n, segments::kind(self.graph, n))
    }

    /// Each node's test and verdict, its over-dispersion from its own history (shrunk toward
    /// the tree's), and the branches' false-discovery family.
    fn branches(&self, hist: &Evaluation, fdr_level: f64) -> BranchNoise {
        let (graph, target, m) = (self.graph, self.target, self.multipliers);
        let subtree = graph.subtree(target);
        // History z-scores per node (the volume factor's realized effect removed).
        let mut history_z: Vec<(usize, Vec<f64>)> = Vec::new();
        let mut history_periods = 0;
        for &n in &subtree {
            let q = m.psi_of.get(&n).copied();
            let eps = &self.volumes[self.source_of(n)].eps;
            let mut z = Vec::new();
            for k in 1..hist.groups.len() {
                let (a, b) = (hist.total(k - 1), hist.total(k));
                let e = eps.get(k - 1).copied().flatten().unwrap_or(0.0);
                let noise = choice::Noise {
                    shift: m.level(n, [Some(a), Some(b)]) * e,
                    ..choice::Noise::NONE
                };
                if let Some(t) = choice::node_test(graph, n, a, b, q, noise) {
                    z.push(t.statistic);
                }
            }
            history_periods = history_periods.max(
                (0..hist.groups.len())
                    .filter(|&g| hist.total(g).values[n].value.is_some())
                    .count(),
            );
            history_z.push((n, z));
        }
        // The tree's over-dispersion, pooled over the explained node and its formula branches.
        let pooled: Vec<f64> = history_z
            .iter()
            .filter(|(n, _)| *n == target || !graph.nodes[*n].is_leaf())
            .flat_map(|(_, z)| z.iter().copied())
            .collect();
        let tree_dispersion = dispersion::estimate(&pooled);
        let [t0, t1] = self.totals;
        struct NodeTest {
            node: usize,
            test: Option<Test>,
            dispersion: Dispersion,
        }
        let tests: Vec<NodeTest> = history_z
            .iter()
            .map(|(n, z)| {
                let n = *n;
                let d = dispersion::shrunk(z, tree_dispersion);
                let k = m.level(n, [Some(t0), Some(t1)]);
                let noise = choice::Noise {
                    phi: d.phi,
                    volume_var: k * k * self.volumes[self.source_of(n)].sigma2,
                    shift: 0.0,
                };
                let q = m.psi_of.get(&n).copied();
                NodeTest {
                    node: n,
                    test: choice::node_test(graph, n, t0, t1, q, noise),
                    dispersion: d,
                }
            })
            .collect();
        // The explained node's own change is one pre-specified test (q = p); the branches under
        // it (formula nodes; leaves are context) form one false-discovery family.
        let is_branch = |n: usize| n != target && !graph.nodes[n].is_leaf();
        let branch_p: Vec<f64> = tests
            .iter()
            .filter(|x| is_branch(x.node))
            .filter_map(|x| x.test)
            .map(|t| t.p)
            .collect();
        let mut branch_q = fdr::bh_adjust(&branch_p).into_iter();
        let mut noise = BTreeMap::new();
        for x in &tests {
            let verdict = match x.test {
                Some(t) if x.node == target => Some(Verdict {
                    test: t,
                    q: t.p,
                    beyond_noise: t.p <= fdr_level,
                }),
                Some(t) if is_branch(x.node) => {
                    let q = branch_q.next().unwrap_or(1.0);
                    Some(Verdict {
                        test: t,
                        q,
                        beyond_noise: q <= fdr_level,
                    })
                }
                _ => None,
            };
            noise.insert(
                x.node,
                NodeNoise {
                    verdict,
                    dispersion: x.dispersion,
                },
            );
        }
        BranchNoise {
            noise,
            branches_tested: branch_p.len(),
            tree_dispersion,
            history_periods,
        }
    }
}

/// One segment of one node before the false-discovery family is known.
struct DraftSegment {
    segment: Segment,
    change: SegmentChange,
    eligible: bool,
    test: Option<Test>,
    alias_of: Option<usize>,
}

/// One split node's segments before the false-discovery family is known.
struct DraftNode {
    node: usize,
    kind: NodeKind,
    dims: Vec<String>,
    segments: Vec<DraftSegment>,
    by_dimension: Vec<(String, Vec<usize>)>,
}

/// Every segment of a split node, with its change and (unadjusted) test. Segments with
/// exactly the same rows (e.g. a team that owns one category) are one segment under two
/// names: the first (in order) is tested, the others alias it.
fn draft_segments(
    ctx: &NoiseContext,
    seg_eval: &Evaluation,
    split: SplitNode,
    noise: &BTreeMap<usize, NodeNoise>,
    options: &Options,
) -> DraftNode {
    let (graph, n) = (ctx.graph, split.node);
    let kind = segments::kind(graph, n);
    let count_source = count_source(graph, n, kind);
    let node_ctx = NodeContext {
        graph,
        node: n,
        kind,
        multipliers: ctx.multipliers.of.get(&n).cloned().unwrap_or_default(),
        count_source,
        totals: ctx.totals,
    };
    let phi = noise.get(&n).map_or(1.0, |x| x.dispersion.phi);
    let volume_var = ctx.volumes[count_source].sigma2;
    let dims = split.dims;
    let mut keys: Vec<&Segment> = seg_eval
        .segments_in(0)
        .chain(seg_eval.segments_in(1))
        .filter(|s| s.dims().all(|d| dims.iter().any(|x| x == d)))
        .collect();
    keys.sort();
    keys.dedup();
    let q = ctx.multipliers.psi_of.get(&n).copied();
    let mut list: Vec<DraftSegment> = Vec::with_capacity(keys.len());
    let mut seen: HashMap<Vec<u64>, usize> = HashMap::new();
    for s in keys {
        let cells: [Option<&Cell>; 2] = [seg_eval.cell(0, s), seg_eval.cell(1, s)];
        let change = node_ctx.segment(cells);
        let eligible = change.support() >= options.search.min_support
            && change.count[0].max(change.count[1]) >= options.search.min_count;
        let sampling: f64 = q.map_or(0.0, |i| cells.iter().flatten().map(|c| c.psi[i]).sum());
        let k = ctx.multipliers.level(n, cells);
        let noise = choice::Noise {
            phi,
            volume_var: k * k * volume_var,
            shift: 0.0,
        };
        let test = choice::delta(change.contribution, sampling, noise);
        let signature: Vec<u64> = cells
            .iter()
            .flat_map(|c| {
                let rows = c.map_or(0.0, |c| c.rows[count_source]);
                std::iter::once(rows).chain(node_ctx.multipliers.iter().flat_map(move |&(l, _)| {
                    let st = c.and_then(|c| c.stats[l]).unwrap_or_default();
                    [st.n, st.sum, st.sumsq]
                }))
            })
            .map(f64::to_bits)
            .collect();
        let alias_of = match seen.get(&signature) {
            Some(&first) if list.len() > first => Some(first),
            _ => {
                seen.insert(signature, list.len());
                None
            }
        };
        list.push(DraftSegment {
            segment: s.clone(),
            change,
            eligible,
            test,
            alias_of,
        });
    }
    let by_dimension = dims
        .iter()
        .map(|d| {
            let idx = list
                .iter()
                .enumerate()
                .filter(|(_, x)| x.segment.depth() == 1 && x.segment.0[0].0 == *d)
                .map(|(i, _)| i)
                .collect();
            (d.clone(), idx)
        })
        .collect();
    DraftNode {
        node: n,
        kind,
        dims,
        segments: list,
        by_dimension,
    }
}

/// One false-discovery family over every tested segment of every node; then each node's
/// insights. Returns the nodes' segments and the family's size.
fn score_segments(drafts: Vec<DraftNode>, options: &Options) -> (Vec<NodeSegments>, usize) {
    let ps: Vec<f64> = drafts
        .iter()
        .flat_map(|d| d.segments.iter())
        .filter(|x| x.eligible && x.alias_of.is_none())
        .filter_map(|x| x.test.map(|t| t.p))
        .collect();
    let segments_tested = ps.len();
    let mut qs = fdr::bh_adjust(&ps).into_iter();
    let mut out = Vec::new();
    for d in drafts {
        let mut segs: Vec<ScoredSegment> = Vec::with_capacity(d.segments.len());
        for x in d.segments {
            let verdict = match (x.eligible, x.test, x.alias_of) {
                (true, Some(t), None) => {
                    let q = qs.next().unwrap_or(1.0);
                    Some(Verdict {
                        test: t,
                        q,
                        beyond_noise: q <= options.fdr,
                    })
                }
                (_, _, Some(first)) => segs[first].verdict,
                _ => None,
            };
            segs.push(ScoredSegment {
                segment: x.segment,
                change: x.change,
                eligible: x.eligible,
                verdict,
                alias_of: x.alias_of,
            });
        }
        let eligible: Vec<usize> = (0..segs.len())
            .filter(|&i| segs[i].eligible && segs[i].alias_of.is_none())
            .collect();
        let cands: Vec<Candidate> = eligible
            .iter()
            .map(|&i| Candidate {
                segment: segs[i].segment.clone(),
                contribution: segs[i].change.contribution,
                share: 0.5 * (segs[i].change.share[0] + segs[i].change.share[1]),
                variance: segs[i].verdict.map_or(0.0, |v| v.test.se * v.test.se),
            })
            .collect();
        let insights = insights::select(&cands, &options.search)
            .into_iter()
            .map(|ins| Insight {
                index: eligible[ins.index],
                folds: ins
                    .folds
                    .into_iter()
                    .map(|(p, k)| (eligible[p], k))
                    .collect(),
            })
            .collect();
        out.push(NodeSegments {
            node: d.node,
            kind: d.kind,
            dims: d.dims,
            segments: segs,
            by_dimension: d.by_dimension,
            insights,
        });
    }
    (out, segments_tested)
}

/// Runs the pipeline: periods → one dataset → branch attribution → multipliers → the
/// aggregations (sides by segment, history) → branch noise → segments → their noise.
pub fn explain(
    graph: &MetricGraph,
    engine: &Engine,
    target: usize,
    current: Period,
    baseline: &Baseline,
    options: Options,
) -> Result<Explanation, ExplainError> {
    let periods = match &options.compare {
        None => PeriodSet::new(graph, target, current, baseline, options.history)?,
        Some(c) => PeriodSet::populations(current, c.clone()),
    };
    let data = Dataset::load(graph, engine, &periods.all, &periods.dims(&options.dims))?;
    let totals = periods.aggregate(&data, &[], &[])?;
    let values =
        |g: usize| -> Vec<Option<f64>> { totals.total(g).values.iter().map(|v| v.value).collect() };
    let (x0, x1) = (values(0), values(1));
    let attribution = attribute(graph, target, &x0, &x1)
        .map_err(|u| ExplainError::Undefined(u, Box::new(totals.clone())))?;
    let multipliers = Multipliers::new(graph, target, &x0, &x1);
    let (split, unsplit) = split_nodes(graph, target, &options.dims);

    let depth = options.search.depth.clamp(1, 3);
    let sets: Vec<Vec<String>> = combinations(options.dims.len(), depth)
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| c.into_iter().map(|k| options.dims[k].clone()).collect())
        .collect();
    let seg_eval = periods.aggregate(&data, &sets, &multipliers.psi)?;
    let hist_eval = data.aggregate(&periods.history, &[], &multipliers.psi)?;
    let coverage = data.coverage(&periods.sides, &graph.subtree(target))?;

    // The volume factor of each source, once; σ²_ε for this comparison (a pooled baseline
    // of N periods: × (1 + 1/N)/2).
    let pooled = periods.baseline.len() as f64;
    let volumes = (0..graph.spec.sources.len())
        .map(|s| {
            let rows: Vec<f64> = (0..hist_eval.groups.len())
                .map(|g| hist_eval.total(g).rows[s])
                .collect();
            let mut f = volume::factor(&rows);
            f.sigma2 = f.sigma2 * (1.0 + 1.0 / pooled) / 2.0;
            f
        })
        .collect();
    let ctx = NoiseContext {
        graph,
        target,
        totals: [seg_eval.total(0), seg_eval.total(1)],
        multipliers: &multipliers,
        volumes,
    };
    let branches = ctx.branches(&hist_eval, options.fdr);
    let drafts: Vec<DraftNode> = split
        .into_iter()
        .map(|s| draft_segments(&ctx, &seg_eval, s, &branches.noise, &options))
        .collect();
    let evaluated = drafts.iter().map(|d| d.segments.len()).sum();
    let (segments_out, segments_tested) = score_segments(drafts, &options);

    Ok(Explanation {
        target,
        current,
        baseline: periods.baseline,
        baseline_kind: match &options.compare {
            None => baseline.kind(),
            Some(_) => "population".into(),
        },
        tree_root_contribution: (target != graph.root)
            .then(|| attribute(graph, graph.root, &x0, &x1).ok())
            .flatten()
            .and_then(|ra| Some((ra.get(target)?.contribution, ra.get(graph.root)?.delta))),
        players: players::effects(
            graph,
            target,
            &x0.iter().map(|v| v.unwrap_or(0.0)).collect::<Vec<_>>(),
            &x1.iter().map(|v| v.unwrap_or(0.0)).collect::<Vec<_>>(),
        ),
        attribution,
        noise: branches.noise,
        segments: segments_out,
        unsplit,
        options,
        branches_tested: branches.branches_tested,
        segments_tested,
        segments_evaluated: evaluated,
        tree_dispersion: branches.tree_dispersion,
        history_periods: branches.history_periods,
        coverage,
    })
}

fn agg_name(graph: &MetricGraph, leaf: usize) -> &'static str {
    match &graph.nodes[leaf].def {
        Def::Measure(m) => match m.agg {
            crate::spec::model::Agg::Mean => "mean",
            crate::spec::model::Agg::Min => "minimum",
            crate::spec::model::Agg::Max => "maximum",
            crate::spec::model::Agg::CountDistinct => "count of distinct values",
            _ => "measure",
        },
        Def::Formula { .. } => "formula",
    }
}

/// The source whose rows measure a segment's size: the volume's (rates) or the first leaf's.
fn count_source(graph: &MetricGraph, node: usize, kind: NodeKind) -> usize {
    let from = match kind {
        NodeKind::Rate { volume } => volume,
        _ => node,
    };
    graph
        .subtree(from)
        .into_iter()
        .find_map(|l| match &graph.nodes[l].def {
            Def::Measure(m) => Some(m.source),
            _ => None,
        })
        .unwrap_or(0)
}

impl NodeSegments {
    /// The segments that are the same rows as `i` under other names.
    pub fn aliases(&self, i: usize) -> impl Iterator<Item = &ScoredSegment> {
        self.segments.iter().filter(move |s| s.alias_of == Some(i))
    }
}

impl Explanation {
    pub fn segments_of(&self, node: usize) -> Option<&NodeSegments> {
        self.segments.iter().find(|s| s.node == node)
    }
}
