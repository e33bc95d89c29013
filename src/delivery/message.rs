//! The messages a selection turns into — one per owner and target — with their identity:
//! the *slot* (tree, period, baseline, owner, channel, route, target) says what a message is
//! for, the *content* hash what it shows, and the id derived from both is the `Message-ID`,
//! the webhook `Idempotency-Key` and the payload's `id`.
//!
//! The content hash covers the report model at displayed precision (the texts an owner
//! reads, not the floats behind them, nor rendered bytes that change with templates or the
//! tool's version), so a run over the same data finds its messages already sent, and a
//! changed report for the same period is an update.

use serde::Serialize;

use super::rules::{Notice, Reason, Selection, page_of};
use crate::engine::fingerprint::hash_bytes;
use crate::graph::MetricGraph;
use crate::report::chart::clip;
use crate::report::pack::{Page, ReportSet};
use crate::spec::model::Owner;
use crate::spec::notify::target_env;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Slack,
    Webhook,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
            Channel::Webhook => "webhook",
        }
    }
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An owner's report (or the root owner's digest).
    Report,
    /// Deliveries of this run that failed, for the `fallback` owner.
    DeliveryFailed,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Report => "report",
            Kind::DeliveryFailed => "delivery_failed",
        }
    }
}

/// One message to one target.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    pub channel: Channel,
    /// The owner the report is about.
    pub owner: String,
    /// The owner whose address this is (a delegate, or the owner).
    pub recipient: String,
    /// An e-mail address, or a Slack/webhook key as the tree writes it.
    pub target: String,
    /// For Slack and webhook keys: the operator's variable that holds the URL.
    pub env: Option<String>,
    pub digest: bool,
    pub reasons: Vec<Reason>,
    /// The page it delivers (with the channel's dimensions redacted); it also names the
    /// tree and the periods.
    pub page: Page,
    /// Hash of what it shows.
    pub content: String,
}

impl Message {
    pub fn tree(&self) -> &str {
        &self.page.context.tree
    }

    pub fn period(&self) -> &str {
        &self.page.context.current.label
    }

    pub fn baseline(&self) -> &str {
        &self.page.context.baseline.label
    }

    /// Hash of the slot for a route (`outbox`, `smtp`, `http`).
    pub fn slot(&self, via: &str) -> String {
        let parts = [
            "metrictree-delivery-v1",
            self.kind.name(),
            self.tree(),
            self.period(),
            self.baseline(),
            &self.owner,
            self.channel.name(),
            via,
            &self.target,
        ];
        hash_bytes(parts.join("\n").as_bytes())
    }

    /// The stable id: 32 hex digits from slot, content and the id it replaces (so a report
    /// that returns to earlier content after an update is a new message, not a repeat).
    pub fn id(&self, via: &str, replaces: Option<&str>) -> String {
        let h = hash_bytes(
            format!(
                "{}\n{}\n{}",
                self.slot(via),
                self.content,
                replaces.unwrap_or("")
            )
            .as_bytes(),
        );
        h[..32].to_string()
    }

    /// One line for people: `email support_ops → support-ops@example.com`.
    pub fn describe(&self) -> String {
        let via = if self.recipient != self.owner {
            format!(" (delegated to {})", self.recipient)
        } else {
            String::new()
        };
        format!(
            "{:<7} {} → {}{via}",
            self.channel.name(),
            self.owner,
            self.target
        )
    }

    /// The subject line (and Slack header): tree, period and the page's first clause.
    pub fn subject(&self, update: bool) -> String {
        let title = &self.page.context.title;
        let head = first_clause(&self.page.headline);
        if self.kind == Kind::DeliveryFailed {
            return clip(&format!("{title}, {}: {head}", self.period()), 150);
        }
        let what = if self.digest {
            format!("{title}, {} digest", self.period())
        } else {
            format!("{title}, {}", self.period())
        };
        let s = format!("{}{what}: {head}", if update { "Update: " } else { "" });
        clip(&s, 150)
    }
}

/// The page's headline up to its first `;` (the rest is in the message).
fn first_clause(h: &str) -> &str {
    h.split(';').next().unwrap_or(h).trim_end_matches('.')
}

/// The report sets a run needs: one per channel (each with its dimensions redacted).
pub struct Sets<'a> {
    pub email: &'a ReportSet,
    pub slack: &'a ReportSet,
    pub webhook: &'a ReportSet,
}

/// The messages for a selection: every target of each notice's recipient, in owner order
/// then e-mail, Slack, webhook.
pub fn messages(g: &MetricGraph, sel: &Selection, sets: &Sets) -> Vec<Message> {
    let mut out = Vec::new();
    for n in &sel.notices {
        let Some(to) = g.owner(&n.recipient) else {
            continue;
        };
        for (channel, target, env) in targets(to) {
            let set = match channel {
                Channel::Email => sets.email,
                Channel::Slack => sets.slack,
                Channel::Webhook => sets.webhook,
            };
            let Some(page) = page_of(set, n) else {
                continue;
            };
            out.push(Message {
                kind: Kind::Report,
                channel,
                owner: n.owner.clone(),
                recipient: n.recipient.clone(),
                target,
                env,
                digest: n.digest,
                reasons: n.reasons.clone(),
                content: content_hash(page, n),
                page: page.clone(),
            });
        }
    }
    out
}

/// An owner's targets as (channel, address or key, the variable holding a key's URL).
fn targets(o: &Owner) -> impl Iterator<Item = (Channel, String, Option<String>)> + '_ {
    [
        (Channel::Email, &o.email),
        (Channel::Slack, &o.slack),
        (Channel::Webhook, &o.webhook),
    ]
    .into_iter()
    .filter_map(|(c, t)| {
        let t = t.clone()?;
        let env = match c {
            Channel::Email => None,
            _ => target_env(c.name(), &t),
        };
        Some((c, t, env))
    })
}

/// The messages that tell the `fallback` owner (or its delegate) which deliveries failed.
pub fn failure_messages(g: &MetricGraph, failed: &[String], overview: &Page) -> Vec<Message> {
    let Some(fallback) = &g.spec.notify.fallback else {
        return Vec::new();
    };
    let recipient = super::rules::delegate_of(g, &fallback.value);
    let Some(to) = g.owner(&recipient) else {
        return Vec::new();
    };
    let mut page = overview.clone();
    page.owner = crate::report::pack::OwnerRef {
        id: fallback.value.clone(),
        name: g.owner_name(&fallback.value),
    };
    page.url = None;
    page.headline = format!(
        "{} message(s) about {} were not delivered",
        failed.len(),
        page.context.current.label
    );
    page.nodes.clear();
    page.branches.clear();
    page.companions.clear();
    page.branch_lines.clear();
    page.insights.clear();
    page.waterfall_rows.clear();
    let reasons: Vec<Reason> = failed
        .iter()
        .map(|f| Reason {
            node: String::new(),
            kind: "delivery_failed",
            text: f.clone(),
        })
        .collect();
    let content = hash_bytes(failed.join("\n").as_bytes());
    targets(to)
        .map(|(channel, target, env)| Message {
            kind: Kind::DeliveryFailed,
            channel,
            owner: fallback.value.clone(),
            recipient: recipient.clone(),
            target,
            env,
            digest: false,
            reasons: reasons.clone(),
            page: page.clone(),
            content: content.clone(),
        })
        .collect()
}

/// What an owner reads, at displayed precision.
#[derive(Serialize)]
struct Shown<'a> {
    headline: &'a str,
    digest: bool,
    reasons: Vec<&'a str>,
    nodes: Vec<ShownNode<'a>>,
}

#[derive(Serialize)]
struct ShownNode<'a> {
    id: &'a str,
    label: &'a str,
    owner: &'a str,
    texts: [&'a str; 6],
    drivers: &'a [String],
    segments: &'a [String],
    question: Option<&'a str>,
    target: Option<&'a str>,
    band: Option<&'a str>,
    benchmark: Option<&'a str>,
}

fn content_hash(page: &Page, n: &Notice) -> String {
    let cards = page
        .nodes
        .iter()
        .chain(&page.branches)
        .chain(&page.companions);
    let shown = Shown {
        headline: &page.headline,
        digest: n.digest,
        reasons: n.reasons.iter().map(|r| r.text.as_str()).collect(),
        nodes: cards
            .map(|c| ShownNode {
                id: &c.id,
                label: &c.label,
                owner: &c.owner.id,
                texts: [
                    &c.baseline_text,
                    &c.current_text,
                    &c.change_text,
                    &c.verdict_text,
                    &c.contribution_text,
                    &c.sparkline_text,
                ],
                drivers: &c.drivers,
                segments: &c.segments,
                question: c.question.as_deref(),
                target: c.target.as_ref().map(|t| t.text.as_str()),
                band: c.band.as_deref(),
                benchmark: c.benchmark.as_deref(),
            })
            .collect(),
    };
    let json = serde_json::to_string(&shown).unwrap_or_default();
    hash_bytes(json.as_bytes())
}
