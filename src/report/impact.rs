//! The `impact` report model: each action with its windows, the levels before and after,
//! the calibrated effect, the checks (control, whole tree, pre-trend, placebos), the verdict
//! and its sentence. It is the JSON boundary (`schemas/impact.schema.json`), what the text
//! renderer prints, and what owner reports and `notify` take actions from.

use serde::Serialize;

use super::pack::in_sentence;
use super::why::PeriodOut;
use super::words::Words;
use crate::graph::MetricGraph;
use crate::graph::actions::Action;
use crate::impact::did::{Calibrated, SizeCheck, Verdict};
use crate::impact::{ActionImpact, Levels, Options};
use crate::period::Period;
use crate::spec::actions::Expect;
use crate::spec::model::Unit;

/// Version of the `impact` JSON.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    pub schema_version: u32,
    pub tree: String,
    pub grain: crate::period::Grain,
    pub timezone: String,
    /// The period judged as of (the latest complete one by default).
    pub as_of: PeriodOut,
    pub settings: Settings,
    pub actions: Vec<ActionOut>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub before: u32,
    pub after: u32,
    pub min_after: u32,
    pub alpha: f64,
    pub max_placebos: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionOut {
    pub id: String,
    pub node: String,
    pub node_label: String,
    pub unit: Unit,
    pub owner: String,
    pub owner_name: String,
    /// `category = integrations`, or `everyone`.
    pub segment: String,
    /// The dimensions the segment fixes.
    pub dimensions: Vec<String>,
    pub start: String,
    pub end: Option<String>,
    pub expect: Expect,
    pub expected_size: Option<f64>,
    pub description: Option<String>,
    pub link: Option<String>,
    /// Compared with the rest of the population; false: with its own history only.
    pub controlled: bool,
    /// Period labels, oldest first.
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// The period the action started in, left out of both windows.
    pub skipped: Option<String>,
    pub treated: LevelsOut,
    pub control: Option<LevelsOut>,
    pub root: LevelsOut,
    pub effect: Option<TestOut>,
    pub control_change: Option<TestOut>,
    pub root_change: Option<TestOut>,
    pub pre_trend: Option<TestOut>,
    pub verdict: Verdict,
    /// The verdict in words (`verified`, `no effect yet`, ...).
    pub verdict_text: String,
    pub size: Option<SizeCheck>,
    /// The verdict as of the period before.
    pub previous_verdict: Verdict,
    /// It became verified or the wrong way in this period (a reason to tell its owner).
    pub became: bool,
    /// One sentence after the verdict: the effect and its interval, and the windows.
    pub sentence: String,
    /// What else to know: control and tree movement, pre-trend, placebos, no control.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelsOut {
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub change: Option<f64>,
}

impl From<Levels> for LevelsOut {
    fn from(l: Levels) -> LevelsOut {
        LevelsOut {
            before: l.before,
            after: l.after,
            change: l.before.zip(l.after).map(|(b, a)| a - b),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestOut {
    pub estimate: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p: f64,
    pub beyond_noise: bool,
    /// φ: the model's variance is multiplied by it (from the placebos; 1 with fewer than 4).
    pub dispersion: f64,
    /// Earlier dates with no action where the same estimate was computed.
    pub placebos: usize,
    /// How many of them the calibrated test calls beyond noise.
    pub placebos_beyond: usize,
}

impl TestOut {
    fn new(c: &Calibrated, alpha: f64) -> TestOut {
        TestOut {
            estimate: c.test.estimate,
            se: c.test.se,
            ci_low: c.test.ci_low,
            ci_high: c.test.ci_high,
            p: c.test.p,
            beyond_noise: c.test.p <= alpha,
            dispersion: c.dispersion.phi,
            placebos: c.placebos,
            placebos_beyond: c.placebos_beyond,
        }
    }
}

impl ImpactReport {
    pub fn new(
        g: &MetricGraph,
        as_of: &Period,
        actions: &[Action],
        impacts: &[ActionImpact],
        o: &Options,
    ) -> ImpactReport {
        let tz = g.spec.timezone;
        let w = Words::new(g.spec.locale);
        ImpactReport {
            schema_version: SCHEMA_VERSION,
            tree: g.spec.name.clone(),
            grain: g.spec.grain,
            timezone: tz.name().to_string(),
            as_of: PeriodOut::new(as_of, tz),
            settings: Settings {
                before: o.before,
                after: o.after,
                min_after: o.min_after,
                alpha: o.alpha,
                max_placebos: o.placebos,
            },
            actions: impacts
                .iter()
                .map(|x| action_out(g, &w, &actions[x.action], x, o))
                .collect(),
        }
    }

    /// The JSON output (pretty, newline-ended, safe to print on a terminal).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        Ok(crate::text::json_safe(serde_json::to_string_pretty(self)?) + "\n")
    }

    /// The actions one owner shipped.
    pub fn of_owner<'a>(&'a self, owner: &'a str) -> impl Iterator<Item = &'a ActionOut> {
        self.actions.iter().filter(move |a| a.owner == owner)
    }
}

fn span(ps: &[Period]) -> String {
    match ps {
        [] => "no period".into(),
        [p] => p.label(),
        [a, .., b] => format!("{}..{}", a.label(), b.label()),
    }
}

fn action_out(g: &MetricGraph, w: &Words, a: &Action, x: &ActionImpact, o: &Options) -> ActionOut {
    let node = &g.nodes[a.node];
    let unit = node.unit;
    let segment = if a.segment.is_empty() {
        "everyone".to_string()
    } else {
        a.segment
            .iter()
            .map(|(d, v)| format!("{d} = {v}"))
            .collect::<Vec<_>>()
            .join(" ∧ ")
    };
    let test = |c: &Option<Calibrated>| c.as_ref().map(|c| TestOut::new(c, o.alpha));
    let effect = test(&x.effect);
    let grain = g.spec.grain.name();
    let label = in_sentence(&node.label);
    let windows = format!("{} against {}", span(&x.after), span(&x.before));
    let interval = |t: &TestOut| {
        format!(
            "95% interval {} to {}",
            w.change(t.ci_low, unit),
            w.change(t.ci_high, unit)
        )
    };
    let verdict_text = x.verdict.words().to_string();
    let sentence = match (x.verdict, &effect) {
        (Verdict::TooEarly, _) if x.after.is_empty() && a.start >= x.as_of.end_date() => {
            format!("{} starts on {}, after {}", a.id, a.start, x.as_of.label())
        }
        (Verdict::TooEarly, _) => format!(
            "{} {grain}(s) since {} started; {} are needed",
            x.after.len(),
            a.id,
            o.min_after
        ),
        (Verdict::Undefined, _) | (_, None) => x
            .why_undefined
            .clone()
            .unwrap_or_else(|| "a value compared is undefined".into()),
        (_, Some(t)) => {
            let moved = if t.estimate < 0.0 {
                "fell"
            } else if t.estimate > 0.0 {
                "rose"
            } else {
                "held"
            };
            let amount = w
                .change(t.estimate.abs(), unit)
                .trim_start_matches('+')
                .to_string();
            if x.controlled {
                format!(
                    "{label} in {segment} {moved} {amount} against the rest of the population ({}), {windows}",
                    interval(t)
                )
            } else {
                format!(
                    "{label} {moved} {amount} against its own history ({}), {windows}",
                    interval(t)
                )
            }
        }
    };
    let mut notes = Vec::new();
    if let Some(p) = &x.skipped {
        notes.push(format!(
            "{} is left out of both windows: the action started during it.",
            p.label()
        ));
    }
    if !x.controlled {
        notes.push("An action on everyone leaves no untouched group to compare with: anything else that changed at the same time counts in the estimate.".into());
    }
    if let Some(c) = test(&x.control_change).filter(|c| c.beyond_noise) {
        notes.push(format!(
            "The rest of the population moved too ({}, beyond noise); the estimate nets that out.",
            w.change(c.estimate, unit)
        ));
    }
    // With a control, its change is what moved anyway; without one, the whole tree's.
    if let Some(r) =
        test(&x.root_change).filter(|r| r.beyond_noise && !x.controlled && a.node != g.root)
    {
        let root = &g.nodes[g.root];
        notes.push(format!(
            "The whole tree moved over the same {grain}s: {} {} (beyond noise); with no control, part of the estimate may come from whatever moved it.",
            in_sentence(&root.label),
            w.change(r.estimate, root.unit)
        ));
    }
    if let Some(p) = test(&x.pre_trend).filter(|p| p.beyond_noise) {
        notes.push(format!(
            "Before the start the segment was already drifting from the rest ({} within the {grain}s before): the comparison assumes it would otherwise have kept pace, so read the verdict with care.",
            w.change(p.estimate, unit)
        ));
    }
    if let Some(t) = &effect {
        if t.placebos < crate::noise::dispersion::MIN_HISTORY {
            notes.push(format!(
                "Only {} earlier date(s) to calibrate the noise with: the interval assumes independent {grain}s and may be too narrow.",
                t.placebos
            ));
        } else {
            notes.push(format!(
                "At {} earlier dates with no action the same estimate was beyond noise {} time(s); the noise is {} the rows' sampling noise.",
                t.placebos,
                t.placebos_beyond,
                if t.dispersion > 1.0 {
                    format!("{:.1}× (in variance)", t.dispersion)
                } else {
                    "no more than".into()
                }
            ));
        }
    }
    if let (Some(s), Some(size)) = (a.size, x.size) {
        let e = w.change(a.expect.sign() * s, unit);
        notes.push(match size {
            SizeCheck::AsExpected => format!("The effect is about the size expected ({e})."),
            SizeCheck::Smaller => format!("The effect is smaller than expected ({e})."),
            SizeCheck::Larger => format!("The effect is larger than expected ({e})."),
        });
    }
    ActionOut {
        id: a.id.clone(),
        node: node.id.clone(),
        node_label: node.label.clone(),
        unit,
        owner: a.owner.clone(),
        owner_name: g.owner_name(&a.owner),
        segment,
        dimensions: a.segment.iter().map(|(d, _)| d.clone()).collect(),
        start: a.start.to_string(),
        end: a.end.map(|d| d.to_string()),
        expect: a.expect,
        expected_size: a.size,
        description: a.description.clone(),
        link: a.link.clone(),
        controlled: x.controlled,
        before: x.before.iter().map(Period::label).collect(),
        after: x.after.iter().map(Period::label).collect(),
        skipped: x.skipped.map(|p| p.label()),
        treated: x.treated.into(),
        control: x.control.map(Into::into),
        root: x.root.into(),
        effect,
        control_change: test(&x.control_change),
        root_change: test(&x.root_change),
        pre_trend: test(&x.pre_trend),
        verdict: x.verdict,
        verdict_text,
        size: x.size,
        previous_verdict: x.previous,
        became: x.became(),
        sentence,
        notes,
    }
}
