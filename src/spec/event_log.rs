//! What an event log's derivation is called and calls things: the per-transfer variables
//! cause rules may read, the cause names in output order, the rules themselves (the tree's or
//! the defaults), and the column names the derivation takes for itself. `sql::event_log`
//! writes the query to this contract (its tests check every name it assigns is listed here).

use std::collections::BTreeSet;

use crate::spec::model::{EventLog, OwnerLevel};

/// The per-transfer values cause rules may use, besides the event log's `attributes`.
pub fn rule_variables(el: &EventLog) -> Vec<String> {
    let mut v = vec![
        "minutes_since_open".to_string(),
        "transfer_number".to_string(),
        "returning".to_string(),
    ];
    for (level, _) in &el.owners {
        let l = level.name();
        v.extend([
            format!("from_{l}"),
            format!("to_{l}"),
            format!("first_{l}"),
            format!("{l}_changed"),
        ]);
    }
    if el.owners.iter().any(|(l, _)| *l == OwnerLevel::Tier) {
        v.extend(["tier_up".to_string(), "tier_down".to_string()]);
    }
    v
}

/// The per-case column of a `last_attributes` entry: `last_<column>`.
pub fn last_attribute(column: &str) -> String {
    format!("last_{column}")
}

/// Names the derivation itself gives columns (per-event and per-case): an attribute may not
/// take one, or its column would be ambiguous. `sql::event_log` assigns no other name (its
/// tests read every `AS name` off the rendered query and check it is listed here).
pub fn reserved_names(el: &EventLog) -> BTreeSet<String> {
    const FIXED: &[&str] = &[
        // per event
        "case_id",
        "t",
        "k",
        "is_pickup",
        "is_resolved",
        "seen_k",
        "opened_at",
        "next_pickup",
        "resolved_k",
        "last_k",
        "st0",
        "moved_any",
        "cause",
        // per case
        "last_event_at",
        "events",
        "transfers",
        "transferred",
        "ping_pongs",
        "ping_ponged",
        "queue_wait_seconds",
        "first_cause",
        "resolved_at",
        "resolved",
        "resolution_seconds",
        "resolved_by_first_owner",
        "resolved_without_transfer",
    ];
    const PER_LEVEL: &[&str] = &[
        "own_",
        "grp_",
        "cur_",
        "prev_",
        "first_seen_",
        "moved_",
        "from_",
        "to_",
        "first_",
        "last_",
    ];
    let mut out: BTreeSet<String> = FIXED.iter().map(|n| n.to_string()).collect();
    for (level, _) in &el.owners {
        let l = level.name();
        out.extend(PER_LEVEL.iter().map(|p| format!("{p}{l}")));
        out.insert(format!("{l}_changed"));
        out.insert(format!("{l}_changes"));
    }
    if el.owners.iter().any(|(l, _)| *l == OwnerLevel::Tier) {
        out.extend(["escalations".to_string(), "deescalations".to_string()]);
    }
    out.extend(rule_variables(el));
    out.extend(cause_names(el).iter().map(|c| cause_column(c)));
    out
}

/// The per-case column counting a cause's transfers: `<cause>_transfers`.
pub fn cause_column(cause: &str) -> String {
    format!("{cause}_transfers")
}

/// The cause names in output order: the rules' (first appearance), then `unclassified`.
pub fn cause_names(el: &EventLog) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (c, _) in rules(el) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if !out.iter().any(|o| o == "unclassified") {
        out.push("unclassified".into());
    }
    out
}

/// The cause rules in order, (cause, condition): the tree's, or the defaults without any.
pub fn rules(el: &EventLog) -> Vec<(String, String)> {
    if el.causes.is_empty() {
        return default_rules(el);
    }
    el.causes
        .iter()
        .map(|(c, w)| (c.value.clone(), w.value.clone()))
        .collect()
}

/// Without `causes`: a move up a tier is an escalation, a channel change is a channel move.
fn default_rules(el: &EventLog) -> Vec<(String, String)> {
    let mut r = Vec::new();
    if el.owners.iter().any(|(l, _)| *l == OwnerLevel::Tier) {
        r.push(("escalation".to_string(), "tier_up".to_string()));
    }
    if el.owners.iter().any(|(l, _)| *l == OwnerLevel::Channel) {
        r.push(("channel".to_string(), "channel_changed".to_string()));
    }
    r
}

/// The primary owner level: the one ping-pong and "resolved by the first owner" refer to.
pub fn primary(el: &EventLog) -> Option<OwnerLevel> {
    el.owners.first().map(|(l, _)| *l)
}
