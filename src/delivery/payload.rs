//! What webhooks receive: the generic JSON payload (`schemas/webhook.schema.json`) and the
//! Slack Block Kit message. Tree and data text goes into Slack as `plain_text` only, so no
//! label can format, mention or link.

use serde::Serialize;
use serde_json::{Value, json};

use super::message::{Kind, Message};
use super::rules::Reason;
use crate::report::chart::clip;
use crate::report::pack::{NodeCard, OwnerRef};
use crate::report::why::PeriodOut;

pub const WEBHOOK_SCHEMA_VERSION: u32 = 1;

/// The generic webhook payload.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    pub schema_version: u32,
    /// `report`, or `delivery_failed` (for the fallback owner: the reasons list the failures).
    pub kind: &'static str,
    /// The delivery id (also the `Idempotency-Key` header).
    pub id: &'a str,
    pub update: bool,
    /// The id of the message this one updates.
    pub replaces: Option<&'a str>,
    pub tree: &'a str,
    pub title: &'a str,
    pub period: &'a PeriodOut,
    pub baseline: &'a PeriodOut,
    pub owner: &'a OwnerRef,
    /// The owner receiving it (a delegate, or the owner).
    pub recipient: &'a str,
    pub digest: bool,
    pub reasons: &'a [Reason],
    pub headline: &'a str,
    pub nodes: Vec<PayloadNode<'a>>,
    /// The full report, when the tree sets `report_base_url`.
    pub report_url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct PayloadNode<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub owner: &'a str,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub baseline_text: &'a str,
    pub current_text: &'a str,
    pub change_text: &'a str,
    pub contribution_to_root: Option<f64>,
    pub contribution_text: &'a str,
    pub moved: bool,
    pub verdict: &'a str,
    pub verdict_text: &'a str,
    pub question: Option<&'a str>,
}

/// Every card of the page once: its own nodes, then branches and companions (the digest).
pub fn cards(m: &Message) -> Vec<&NodeCard> {
    let p = &m.page;
    let mut out: Vec<&NodeCard> = Vec::new();
    for c in p.nodes.iter().chain(&p.branches).chain(&p.companions) {
        if !out.iter().any(|x| x.id == c.id) {
            out.push(c);
        }
    }
    out
}

pub fn webhook(m: &Message, id: &str, replaces: Option<&str>) -> String {
    let p = &m.page;
    let payload = Payload {
        schema_version: WEBHOOK_SCHEMA_VERSION,
        kind: m.kind.name(),
        id,
        update: replaces.is_some(),
        replaces,
        tree: &p.context.tree,
        title: &p.context.title,
        period: &p.context.current,
        baseline: &p.context.baseline,
        owner: &p.owner,
        recipient: &m.recipient,
        digest: m.digest,
        reasons: &m.reasons,
        headline: &p.headline,
        nodes: cards(m)
            .into_iter()
            .map(|c| PayloadNode {
                id: &c.id,
                label: &c.label,
                owner: &c.owner.id,
                baseline: c.baseline.filter(|v| v.is_finite()),
                current: c.current.filter(|v| v.is_finite()),
                baseline_text: &c.baseline_text,
                current_text: &c.current_text,
                change_text: &c.change_text,
                contribution_to_root: c.contribution_to_root.filter(|v| v.is_finite()),
                contribution_text: &c.contribution_text,
                moved: c.moved,
                verdict: c.verdict,
                verdict_text: &c.verdict_text,
                question: c.question.as_deref(),
            })
            .collect(),
        report_url: p.url.as_deref(),
    };
    serde_json::to_string_pretty(&payload).unwrap_or_default() + "\n"
}

/// Slack's limits for incoming webhooks.
pub const SLACK_MAX_BLOCKS: usize = 50;
pub const SLACK_MAX_SECTION: usize = 3000;
const SLACK_MAX_HEADER: usize = 150;

/// A Block Kit message: header, headline, why the owner gets it, one section per node that
/// moved or is a reason, the id, and a button to the full report when it is hosted.
pub fn slack(m: &Message, id: &str, replaces: Option<&str>) -> String {
    let subject = m.subject(replaces.is_some());
    let text =
        |s: &str| json!({"type": "plain_text", "text": clip(s, SLACK_MAX_SECTION), "emoji": false});
    let mut blocks: Vec<Value> = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&subject, SLACK_MAX_HEADER), "emoji": false}}),
        json!({"type": "section", "text": text(&m.page.headline)}),
    ];
    let why: Vec<String> = m.reasons.iter().map(|r| format!("• {}", r.text)).collect();
    let intro = match m.kind {
        Kind::Report => "Why you get this:",
        Kind::DeliveryFailed => "Not delivered (a rerun sends only these):",
    };
    blocks.push(json!({"type": "section", "text": text(&format!("{intro}\n{}", why.join("\n")))}));
    blocks.push(json!({"type": "divider"}));
    let shown: Vec<&NodeCard> = cards(m)
        .into_iter()
        .filter(|c| c.moved || m.reasons.iter().any(|r| r.node == c.id))
        .collect();
    // Header, headline, reasons, divider, then nodes; the id, the button and a "more" line
    // must still fit.
    let room = SLACK_MAX_BLOCKS - blocks.len() - 3;
    for c in shown.iter().take(room) {
        let mut s = format!(
            "{}: {} → {} ({}). {}.",
            c.label, c.baseline_text, c.current_text, c.change_text, c.verdict_text
        );
        if !c.contribution_text.is_empty() {
            s.push_str(&format!(" {}.", c.contribution_text));
        }
        if let Some(seg) = c.segments.first() {
            s.push_str(&format!("\nWhere it moved most: {seg}."));
        }
        if let Some(q) = &c.question {
            s.push_str(&format!("\nQuestion: {q}"));
        }
        blocks.push(json!({"type": "section", "text": text(&s)}));
    }
    if shown.len() > room {
        blocks.push(json!({"type": "section", "text": text(&format!("… and {} more in the full report.", shown.len() - room))}));
    }
    let mut ctx = format!(
        "{} · {} vs {} · id {id}",
        m.page.context.title,
        m.period(),
        m.baseline()
    );
    if let Some(r) = replaces {
        ctx.push_str(&format!(" · updates {r}"));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "plain_text", "text": clip(&ctx, SLACK_MAX_SECTION), "emoji": false}]}));
    if let Some(url) = &m.page.url {
        blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Full report"}, "url": url}]}));
    }
    // The notification text is read as Slack markup: `&`, `<` and `>` escaped, so no label
    // can mention (`<!channel>`) or link.
    let v = json!({"text": slack_escape(&subject), "blocks": blocks});
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Slack's escaping for text it reads as markup.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
