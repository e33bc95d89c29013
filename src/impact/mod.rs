//! The impact loop: did an action on a branch move it?
//!
//! Input: the graph, a registered engine, the tree's [`Action`]s and the period to judge as
//! of. One [`Dataset`] reads every period from the data's start (at most
//! [`MAX_PERIODS`] back) with the actions' segment dimensions, and one aggregation gives each
//! period's cells: the whole population and each action's segment. The rest of the
//! population (the control) is the total minus the segment, cell by cell; windows of
//! periods pool by summing cells ([`crate::eval::pooled`]).
//!
//! For each action: the node in the segment before (the `before` periods up to the start)
//! and after (up to `after` periods from the start), minus the same change in the control —
//! a difference-in-differences estimate — with the model's variance (the tests `why` uses,
//! rows as independent draws) calibrated by in-time placebos ([`did`]): the same estimate at
//! every earlier date where both windows fit before the start and no other action on the
//! node began. An action on everyone has no control: its node's own before/after change is
//! judged against its own history the same way, and it is labelled uncontrolled. The same
//! estimate within the before window (its second half against its first) checks for a
//! pre-trend; the control's change says what moved anyway, and for an action on everyone the
//! root's change over the same windows says whether the whole tree moved.
//! Output: one [`ActionImpact`] per action, also judged as of the period before (so that a
//! verdict that just appeared can be told once).

pub mod did;

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::Datelike;

use crate::engine::Engine;
use crate::eval::{Cell, Dataset, EvalError, Evaluation, Psi, Segment, pooled};
use crate::explain::choice::{Noise, node_test};
use crate::graph::MetricGraph;
use crate::graph::actions::Action;
use crate::period::{Grain, Period};
use did::{Calibrated, Estimate, SizeCheck, Verdict};

/// The most periods one run reads (ten years of weeks).
pub const MAX_PERIODS: i64 = 520;

/// A node with more leaves than this has no delta-method variance here (the pairs' noise
/// sums grow with the square).
pub const MAX_DELTA_LEAVES: usize = 16;

/// The windows and thresholds of `impact`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Periods before the start compared.
    pub before: u32,
    /// Periods from the start compared, at most.
    pub after: u32,
    /// Fewer periods since the start than this: too early to judge.
    pub min_after: u32,
    /// The two-sided level of "beyond noise".
    pub alpha: f64,
    /// Placebo dates used, at most (the latest before the start).
    pub placebos: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            before: 4,
            after: 4,
            min_after: 2,
            alpha: crate::noise::DEFAULT_FDR,
            placebos: 26,
        }
    }
}

/// A node's value over the two windows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Levels {
    pub before: Option<f64>,
    pub after: Option<f64>,
}

/// What one action did, as of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionImpact {
    /// Index into the actions.
    pub action: usize,
    pub as_of: Period,
    /// The periods compared (oldest first).
    pub before: Vec<Period>,
    pub after: Vec<Period>,
    /// The period the action started in, left out of both windows when it started after
    /// that period's first day.
    pub skipped: Option<Period>,
    /// Compared with the rest of the population (false: an action on everyone).
    pub controlled: bool,
    /// The node in the action's segment (everyone, when uncontrolled).
    pub treated: Levels,
    /// The node in the rest of the population.
    pub control: Option<Levels>,
    /// The tree's root, everyone.
    pub root: Levels,
    /// The effect: the difference in differences (or the change, when uncontrolled).
    pub effect: Option<Calibrated>,
    pub control_change: Option<Calibrated>,
    /// The root's change over the same windows (for an action on everyone).
    pub root_change: Option<Calibrated>,
    /// The effect's estimate within the before window (second half against first).
    pub pre_trend: Option<Calibrated>,
    pub verdict: Verdict,
    /// For `Undefined`: why.
    pub why_undefined: Option<String>,
    pub size: Option<SizeCheck>,
    /// The verdict as of the period before `as_of`.
    pub previous: Verdict,
}

impl ActionImpact {
    /// Whether this period's verdict is news: it became verified or the wrong way.
    pub fn became(&self) -> bool {
        matches!(self.verdict, Verdict::Verified | Verdict::MovedTheWrongWay)
            && self.previous != self.verdict
    }
}

/// Judges every action as of `as_of`; `first` is the period the data starts in. No placebo
/// window holds the start of another action in `known` on the same node (the tree's actions;
/// a calibration study passes none, so that each action stands alone).
pub fn assess(
    graph: &MetricGraph,
    engine: &Engine,
    actions: &[Action],
    known: &[Action],
    as_of: Period,
    first: Period,
    o: &Options,
) -> Result<Vec<ActionImpact>, EvalError> {
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    let first = if offset(&first, &as_of) >= MAX_PERIODS {
        as_of.back(MAX_PERIODS as u32 - 1)
    } else {
        first
    };
    let n = offset(&first, &as_of).max(0) + 1;
    let periods: Vec<Period> = (0..n).map(|k| as_of.back((n - 1 - k) as u32)).collect();
    let mut dims: Vec<String> = Vec::new();
    for d in &graph.spec.dimensions {
        if actions
            .iter()
            .any(|a| a.segment.iter().any(|(x, _)| *x == d.id))
        {
            dims.push(d.id.clone());
        }
    }
    let data = Dataset::load(graph, engine, &periods, &dims)?;
    // The delta method needs, per cell, the second moments of the nodes' leaves over rows:
    // Σx², and Σ(x+y)² for each pair (from which Σxy follows). Rates of counts use the z test
    // and means Welch's, which need none.
    let mut nodes: Vec<usize> = actions
        .iter()
        .map(|a| a.node)
        .filter(|&n| needs_delta(graph, n))
        .collect();
    // The whole tree's change is said for actions on everyone.
    if actions.iter().any(|a| a.segment.is_empty()) && needs_delta(graph, graph.root) {
        nodes.push(graph.root);
    }
    nodes.sort();
    nodes.dedup();
    let mut psi = Vec::new();
    let mut moments = BTreeMap::new();
    for &nd in &nodes {
        let leaves: Vec<usize> = graph
            .subtree(nd)
            .into_iter()
            .filter(|&l| graph.nodes[l].is_leaf())
            .collect();
        if leaves.len() > MAX_DELTA_LEAVES {
            continue;
        }
        for (i, &l) in leaves.iter().enumerate() {
            for &m in &leaves[i..] {
                let key = (l.min(m), l.max(m));
                if moments.contains_key(&key) {
                    continue;
                }
                moments.insert(key, psi.len());
                let coef = if l == m {
                    vec![(l, 1.0)]
                } else {
                    vec![(l, 1.0), (m, 1.0)]
                };
                psi.push(Psi { coef });
            }
        }
    }
    let mut sets: Vec<Vec<String>> = actions
        .iter()
        .filter(|a| !a.segment.is_empty())
        .map(|a| a.segment.iter().map(|(d, _)| d.clone()).collect())
        .collect();
    sets.sort();
    sets.dedup();
    let groups: Vec<Vec<usize>> = (0..periods.len()).map(|i| vec![i]).collect();
    let e = data.aggregate(&groups, &sets, &psi)?;
    let ctx = Context {
        graph,
        periods: &periods,
        e: &e,
        moments: &moments,
        o,
    };
    let now = periods.len() as i64 - 1;
    Ok(actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let previous = ctx.judge(i, a, known, now - 1).verdict;
            ActionImpact {
                previous,
                ..ctx.judge(i, a, known, now)
            }
        })
        .collect())
}

/// Whether node `n`'s test is the delta method (which needs the leaves' second moments): not
/// for a ratio of two counts of one source (the z test) or a mean (Welch's).
fn needs_delta(g: &MetricGraph, n: usize) -> bool {
    use crate::graph::Def;
    use crate::spec::formula::Shape;
    use crate::spec::model::Agg;
    let count_of = |i: usize| match &g.nodes[i].def {
        Def::Measure(m) if m.agg == Agg::Count => Some(m.source),
        _ => None,
    };
    match &g.nodes[n].def {
        Def::Measure(m) => m.agg != Agg::Mean,
        Def::Formula {
            inputs,
            shape: Shape::Ratio { num, den, .. },
            ..
        } => {
            !(count_of(inputs[*num]).is_some() && count_of(inputs[*num]) == count_of(inputs[*den]))
        }
        Def::Formula { .. } => true,
    }
}

/// Periods from `a` to `b` (negative when `b` is earlier).
fn offset(a: &Period, b: &Period) -> i64 {
    match a.grain {
        Grain::Day => (b.start - a.start).num_days(),
        Grain::Week => (b.start - a.start).num_days().div_euclid(7),
        Grain::Month => {
            (b.start.year() as i64 * 12 + b.start.month0() as i64)
                - (a.start.year() as i64 * 12 + a.start.month0() as i64)
        }
    }
}

/// An estimate over windows of period indexes (before, after).
type Estimator<'a> = dyn Fn(&[i64], &[i64]) -> Option<Estimate> + 'a;

/// Whose cells a window pools.
#[derive(Clone, Copy, PartialEq)]
enum Group {
    /// The action's segment (everyone, for an action without one).
    Treated,
    /// Everyone but the segment.
    Control,
    /// Everyone.
    Total,
}

struct Context<'a> {
    graph: &'a MetricGraph,
    periods: &'a [Period],
    e: &'a Evaluation,
    /// (leaf, leaf) → the noise sum holding Σx² (same leaf) or Σ(x+y)².
    moments: &'a BTreeMap<(usize, usize), usize>,
    o: &'a Options,
}

impl Context<'_> {
    /// A window's cell for a group: the periods' cells summed (the control: total minus
    /// segment). `None` when a period of the window was not read, or for the control of an
    /// action on everyone.
    fn window(&self, seg: &Segment, group: Group, w: &[i64]) -> Option<Cell> {
        let len = self.periods.len() as i64;
        if w.is_empty() || w.iter().any(|&t| t < 0 || t >= len) {
            return None;
        }
        let totals: Vec<&Cell> = w.iter().map(|&t| self.e.total(t as usize)).collect();
        let everyone = |c: &[&Cell]| {
            let parts: Vec<(&Cell, f64)> = c.iter().map(|c| (*c, 1.0)).collect();
            pooled(self.graph, &parts, w.len())
        };
        if group == Group::Total || (group == Group::Treated && seg.is_total()) {
            return Some(everyone(&totals));
        }
        if seg.is_total() {
            return None;
        }
        // A period without a row of the segment counts zero for it.
        let segs: Vec<Cow<Cell>> = w
            .iter()
            .zip(&totals)
            .map(|(&t, total)| match self.e.cell(t as usize, seg) {
                Some(c) => Cow::Borrowed(c),
                None => Cow::Owned(zero_like(total)),
            })
            .collect();
        let parts: Vec<(&Cell, f64)> = match group {
            Group::Control => totals
                .iter()
                .zip(&segs)
                .flat_map(|(t, s)| [(*t, 1.0), (s.as_ref(), -1.0)])
                .collect(),
            _ => segs.iter().map(|c| (c.as_ref(), 1.0)).collect(),
        };
        Some(pooled(self.graph, &parts, w.len()))
    }

    fn value(&self, n: usize, seg: &Segment, group: Group, w: &[i64]) -> Option<f64> {
        self.window(seg, group, w)?.values[n].value
    }

    fn levels(&self, n: usize, seg: &Segment, group: Group, b: &[i64], a: &[i64]) -> Levels {
        Levels {
            before: self.value(n, seg, group, b),
            after: self.value(n, seg, group, a),
        }
    }

    /// The change of node `n` in a group from window `b` to window `a`, with the model's
    /// variance (the test `why` would use: z for a rate of counts, Welch for a mean, the
    /// delta method otherwise).
    fn change(
        &self,
        n: usize,
        seg: &Segment,
        group: Group,
        b: &[i64],
        a: &[i64],
    ) -> Option<Estimate> {
        let cb = self.window(seg, group, b)?;
        let ca = self.window(seg, group, a)?;
        if let Some(t) = node_test(self.graph, n, &cb, &ca, None, Noise::NONE) {
            return Some(Estimate {
                value: t.estimate,
                var: t.se * t.se,
            });
        }
        // The delta method, each window's gradient at its own values.
        let value = ca.values[n].value? - cb.values[n].value?;
        let var = self.level_var(n, &cb)? + self.level_var(n, &ca)?;
        (var > 0.0 && var.is_finite()).then_some(Estimate { value, var })
    }

    /// The delta-method variance of node `n`'s value in a cell: c'Sc with c the leaves'
    /// gradient at the cell's values and S their second moments over rows.
    fn level_var(&self, n: usize, cell: &Cell) -> Option<f64> {
        let x: Vec<Option<f64>> = cell.values.iter().map(|v| v.value).collect();
        let a = crate::attribution::attribute(self.graph, n, &x, &x).ok()?;
        let c: Vec<(usize, f64)> = a
            .nodes
            .iter()
            .filter(|x| self.graph.nodes[x.node].is_leaf())
            .map(|x| (x.node, x.multiplier))
            .collect();
        let sq = |l: usize, m: usize| -> Option<f64> {
            let q = |k: (usize, usize)| cell.psi.get(*self.moments.get(&k)?).copied();
            let (l, m) = (l.min(m), l.max(m));
            if l == m {
                q((l, l))
            } else {
                Some((q((l, m))? - q((l, l))? - q((m, m))?) / 2.0)
            }
        };
        let mut v = 0.0;
        for &(l, cl) in &c {
            for &(m, cm) in &c {
                v += cl * cm * sq(l, m)?;
            }
        }
        Some(v.max(0.0))
    }

    /// The effect estimate: the segment's change less the control's, or everyone's change.
    fn effect(&self, n: usize, seg: &Segment, b: &[i64], a: &[i64]) -> Option<Estimate> {
        if seg.is_total() {
            return self.change(n, seg, Group::Total, b, a);
        }
        Some(
            self.change(n, seg, Group::Treated, b, a)?
                .minus(self.change(n, seg, Group::Control, b, a)?),
        )
    }

    /// `f` over windows `b` → `a`, calibrated by the same estimate at the latest dates whose
    /// windows end before index `limit` and hold none of the `avoid` indexes.
    fn calibrated(
        &self,
        f: &Estimator,
        b: &[i64],
        a: &[i64],
        limit: i64,
        avoid: &[i64],
    ) -> Option<Calibrated> {
        let est = f(b, a)?;
        let (lb, la) = (b.len() as i64, a.len() as i64);
        let mut placebos = Vec::new();
        let mut s = limit - la;
        while s - lb >= 0 && placebos.len() < self.o.placebos as usize {
            if !avoid.iter().any(|&x| x >= s - lb && x < s + la) {
                let pb: Vec<i64> = (s - lb..s).collect();
                let pa: Vec<i64> = (s..s + la).collect();
                if let Some(p) = f(&pb, &pa) {
                    placebos.push(p);
                }
            }
            s -= 1;
        }
        did::calibrate(est, &placebos)
    }

    /// One action as of the period at index `now`.
    fn judge(&self, i: usize, a: &Action, known: &[Action], now: i64) -> ActionImpact {
        let (g, o) = (self.graph, self.o);
        let grain = g.spec.grain;
        let first = self.periods[0];
        let starts = |x: &Action| {
            let p = Period::containing(grain, x.start);
            let i = offset(&first, &p);
            (p, if x.start != p.start { i + 1 } else { i })
        };
        let (p_start, i_first_after) = starts(a);
        let i_start = offset(&first, &p_start);
        let i_end = a
            .end
            .map_or(i64::MAX, |e| offset(&first, &Period::containing(grain, e)));
        let before: Vec<i64> = (i_start - o.before as i64..i_start)
            .filter(|&t| t >= 0)
            .collect();
        let last_after = now.min(i_first_after + o.after as i64 - 1).min(i_end);
        let after: Vec<i64> = (i_first_after.max(0)..=last_after).collect();
        let avoid: Vec<i64> = known
            .iter()
            .filter(|x| x.node == a.node && (x.id != a.id || x.start != a.start))
            .map(|x| starts(x).1)
            .collect();
        let seg = Segment(
            a.segment
                .iter()
                .map(|(d, v)| (d.clone(), Some(v.clone())))
                .collect(),
        );
        let n = a.node;
        let controlled = !seg.is_total();
        let total = Segment::total();
        let effect_of = |b: &[i64], w: &[i64]| self.effect(n, &seg, b, w);
        let effect = self.calibrated(&effect_of, &before, &after, i_start, &avoid);
        let control_change = controlled
            .then(|| {
                let f = |b: &[i64], w: &[i64]| self.change(n, &seg, Group::Control, b, w);
                self.calibrated(&f, &before, &after, i_start, &avoid)
            })
            .flatten();
        let root_of = |b: &[i64], w: &[i64]| self.change(g.root, &total, Group::Total, b, w);
        let root_change = (!controlled)
            .then(|| self.calibrated(&root_of, &before, &after, i_start, &avoid))
            .flatten();
        let pre_trend = (before.len() >= 2)
            .then(|| {
                let h = before.len() / 2;
                let b2 = &before[before.len() - h..];
                let b1 = &before[before.len() - 2 * h..before.len() - h];
                self.calibrated(&effect_of, b1, b2, b2[0], &avoid)
            })
            .flatten();
        let (verdict, why_undefined) = if (after.len() as u32) < o.min_after {
            (Verdict::TooEarly, None)
        } else if before.is_empty() {
            (
                Verdict::Undefined,
                Some("the data holds no period before the start".to_string()),
            )
        } else {
            match &effect {
                Some(c) => (did::verdict(&c.test, a.expect, o.alpha), None),
                None => (
                    Verdict::Undefined,
                    Some(format!(
                        "`{}` is undefined or does not vary in a window compared",
                        g.nodes[n].id
                    )),
                ),
            }
        };
        let size = match (a.size, &effect, verdict) {
            (
                Some(s),
                Some(c),
                Verdict::Verified | Verdict::NoEffectYet | Verdict::MovedTheWrongWay,
            ) => Some(did::size_check(&c.test, a.expect, s)),
            _ => None,
        };
        let at = |w: &[i64]| -> Vec<Period> {
            w.iter()
                .filter(|&&t| t >= 0 && (t as usize) < self.periods.len())
                .map(|&t| self.periods[t as usize])
                .collect()
        };
        ActionImpact {
            action: i,
            as_of: self.periods[now.clamp(0, self.periods.len() as i64 - 1) as usize],
            before: at(&before),
            after: at(&after),
            skipped: (a.start != p_start.start).then_some(p_start),
            controlled,
            treated: self.levels(
                n,
                &seg,
                if controlled {
                    Group::Treated
                } else {
                    Group::Total
                },
                &before,
                &after,
            ),
            control: controlled.then(|| self.levels(n, &seg, Group::Control, &before, &after)),
            root: self.levels(g.root, &total, Group::Total, &before, &after),
            effect,
            control_change,
            root_change,
            pre_trend,
            verdict,
            why_undefined,
            size,
            previous: Verdict::Undefined,
        }
    }
}

/// A segment's cell for a period where it has no row: every leaf its total has counts zero.
fn zero_like(total: &Cell) -> Cell {
    Cell {
        values: total.values.clone(),
        stats: total
            .stats
            .iter()
            .map(|s| s.map(|_| crate::eval::LeafStats::default()))
            .collect(),
        rows: vec![0.0; total.rows.len()],
        psi: vec![0.0; total.psi.len()],
    }
}
