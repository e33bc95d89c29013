//! Who gets a message this period, and why: the tree's `notify:` rules applied to the owner
//! reports. Pure: the same reports give the same selection.
//!
//! - A branch (any node of the root's tree but the root) notifies its owner when it moved
//!   beyond noise (after false-discovery control) and its contribution to the root is at least
//!   `min_contribution` (default: the root's own noise, half its interval), or at least
//!   `min_share` of the root's change when the root itself moved beyond noise.
//! - A companion notifies its owner when it crossed its target or changed band.
//! - A node without an owner of its own reaches the nearest owned ancestor (as in reports).
//! - The root's owner gets the overview every period (`digest`, on by default).
//! - An action that became verified, or moved the wrong way, this period notifies its owner
//!   (judged as of this period and the one before, so it is said once).
//! - A muted owner gets nothing for periods ending on or before the date; a delegating owner's
//!   messages go to the delegate's addresses.

use chrono::NaiveDate;
use serde::Serialize;

use crate::graph::MetricGraph;
use crate::period::Grain;
use crate::report::pack::{NodeCard, Page, ReportSet, in_sentence};
use crate::report::why::WhyReport;
use crate::spec::model::Direction;
use crate::spec::targets::band_of;

/// Why an owner is told.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The node, or the root for the digest.
    pub node: String,
    /// `moved`, `target`, `band`, `digest`, `root_moved`, `action`, `delegated` or
    /// `delivery_failed`.
    pub kind: &'static str,
    pub text: String,
}

/// One owner to notify: whose report, who receives it, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The owner the report is about.
    pub owner: String,
    /// The owner whose addresses receive it (the owner, or its delegate).
    pub recipient: String,
    /// The root's owner receives the overview; everyone else their own report.
    pub digest: bool,
    pub reasons: Vec<Reason>,
}

/// An owner left out this period, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Quiet {
    pub owner: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    pub notices: Vec<Notice>,
    pub quiet: Vec<Quiet>,
}

/// Applies the rules. `period_end` is the last day of the reported period (for `mute`).
pub fn select(
    g: &MetricGraph,
    set: &ReportSet,
    root: &WhyReport,
    period_end: NaiveDate,
) -> Selection {
    let rules = &g.spec.notify;
    let root_node = root.node(&g.nodes[g.root].id);
    let root_delta = root_node.map_or(0.0, |n| n.delta);
    let root_test = root_node.and_then(|n| n.test.as_ref());
    let root_moved = root_test.is_some_and(|t| t.verdict == "beyond_noise");
    let min_abs = rules
        .min_contribution
        .unwrap_or_else(|| root_test.map_or(0.0, |t| ((t.ci_high - t.ci_low) / 2.0).abs()));
    let root_owner = &g.nodes[g.root].owner;

    let mut sel = Selection::default();
    for o in &g.spec.owners {
        let page = set.owners.iter().find(|p| p.owner.id == o.id);
        let mut reasons = Vec::new();
        let digest = rules.digest && *root_owner == o.id;
        if digest {
            reasons.push(Reason {
                node: g.nodes[g.root].id.clone(),
                kind: "digest",
                text: format!(
                    "the {} digest of {}, which you own",
                    match g.spec.grain {
                        Grain::Day => "daily",
                        Grain::Week => "weekly",
                        Grain::Month => "monthly",
                    },
                    in_sentence(&g.nodes[g.root].label)
                ),
            });
        }
        for c in page.map(|p| p.nodes.as_slice()).unwrap_or(&[]) {
            let Some(n) = g.index(&c.id) else { continue };
            let escalated = if g.nodes[n].owner_inherited && n != g.root {
                format!(" (it has no owner of its own, so it comes to {})", o.name)
            } else {
                String::new()
            };
            if n == g.root {
                if !digest && c.moved {
                    let text = format!(
                        "{} moved beyond noise: {} → {} ({})",
                        c.label, c.baseline_text, c.current_text, c.change_text
                    );
                    reasons.push(reason(c, "root_moved", text));
                }
            } else if c.companion {
                if let Some(r) = crossing(g, n, c) {
                    reasons.push(Reason {
                        text: r.text.clone() + &escalated,
                        ..r
                    });
                }
            } else if c.moved {
                let contrib = c.contribution_to_root.unwrap_or(0.0).abs();
                let by_abs = contrib >= min_abs;
                let by_share = root_moved
                    && root_delta != 0.0
                    && contrib >= rules.min_share * root_delta.abs();
                if by_abs || by_share {
                    let text = format!(
                        "{} moved beyond noise: {} → {} ({}); {}{escalated}",
                        c.label,
                        c.baseline_text,
                        c.current_text,
                        c.change_text,
                        c.contribution_text
                    );
                    reasons.push(reason(c, "moved", text));
                }
            }
        }
        // An action of theirs that became verified, or moved the wrong way, this period.
        for a in page.map(|p| p.actions.as_slice()).unwrap_or(&[]) {
            if a.became && a.owner == o.id {
                reasons.push(Reason {
                    node: a.node.clone(),
                    kind: "action",
                    text: format!("your action {} is {}: {}", a.id, a.verdict_text, a.sentence),
                });
            }
        }
        if reasons.is_empty() {
            let why = if page.is_none() {
                "owns no node the reports show".to_string()
            } else {
                "nothing of theirs moved beyond noise by enough, or crossed a target or band"
                    .to_string()
            };
            sel.quiet.push(Quiet {
                owner: o.id.clone(),
                why,
            });
            continue;
        }
        if let Some((_, until)) = rules.mute.iter().find(|(m, _)| m.value == o.id)
            && period_end <= *until
        {
            sel.quiet.push(Quiet {
                owner: o.id.clone(),
                why: format!(
                    "muted until {until} ({} reason(s) held back)",
                    reasons.len()
                ),
            });
            continue;
        }
        let recipient = delegate_of(g, &o.id);
        if recipient != o.id {
            reasons.push(Reason {
                node: String::new(),
                kind: "delegated",
                text: format!(
                    "{} receives {}'s messages as their delegate",
                    g.owner_name(&recipient),
                    o.name
                ),
            });
        }
        sel.notices.push(Notice {
            owner: o.id.clone(),
            recipient,
            digest,
            reasons,
        });
    }
    sel
}

/// Who receives an owner's messages: the end of its delegation chain, or the owner.
pub fn delegate_of(g: &MetricGraph, owner: &str) -> String {
    let rules = &g.spec.notify;
    let mut recipient = owner.to_string();
    for _ in 0..=rules.delegate.len() {
        // A circle is an error when the tree is checked; the bound is only a guard.
        match rules.delegate.iter().find(|(f, _)| f.value == recipient) {
            Some((_, to)) => recipient = to.value.clone(),
            None => break,
        }
    }
    recipient
}

fn reason(c: &NodeCard, kind: &'static str, text: String) -> Reason {
    Reason {
        node: c.id.clone(),
        kind,
        text,
    }
}

/// A companion that went on or off target, or into another band, between the two periods.
fn crossing(g: &MetricGraph, n: usize, c: &NodeCard) -> Option<Reason> {
    let node = &g.nodes[n];
    let (b, v) = (c.baseline?, c.current?);
    if let Some(t) = node.target {
        let met = |x: f64| match node.direction {
            Direction::HigherIsBetter => Some(x >= t),
            Direction::LowerIsBetter => Some(x <= t),
            Direction::Neutral => None,
        };
        if let (Some(was), Some(is)) = (met(b), met(v))
            && was != is
        {
            let how = if is {
                "came back on target"
            } else {
                "went off target"
            };
            let target = c.target.as_ref().map_or(String::new(), |t| {
                let detail = t.text.strip_prefix("off target: ");
                let detail = detail.or_else(|| t.text.strip_prefix("on target "));
                format!(", {}", detail.unwrap_or(&t.text))
            });
            let text = format!(
                "{} {how}: {} → {}{target}",
                c.label, c.baseline_text, c.current_text
            );
            return Some(reason(c, "target", text));
        }
    }
    let bands = &node.reporting.bands;
    let (was, is) = (band_of(bands, b)?, band_of(bands, v)?);
    (was != is).then(|| {
        let text = format!(
            "{} moved from “{}” to “{}”: {} → {}",
            c.label, was.label, is.label, c.baseline_text, c.current_text
        );
        reason(c, "band", text)
    })
}

/// The page a notice delivers: the overview for the digest, else the owner's report.
pub fn page_of<'s>(set: &'s ReportSet, n: &Notice) -> Option<&'s Page> {
    if n.digest {
        Some(&set.overview)
    } else {
        set.owners.iter().find(|p| p.owner.id == n.owner)
    }
}
