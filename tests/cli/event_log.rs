//! Event logs: the BPI Challenge 2013 incident log (real, messy: `../shared/data/bpic2013`)
//! through `trees/bpic2013.yaml`, whose `incidents` source derives per-incident transfers,
//! escalations and ping-pong with window functions; checked against a computation in plain
//! Rust over the CSV, written here without the engine.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::util::{contributions, mt, node, num, root};

/// One incident's events, as the file has them.
struct Event {
    at: DateTime<FixedOffset>,
    team: Option<String>,
    tier: Option<String>,
}

/// Splits one CSV line (double quotes, doubled quotes inside).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn incidents() -> BTreeMap<String, Vec<Event>> {
    let path = root().join("../shared/data/bpic2013/incidents.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the BPI Challenge 2013 log is needed at {} ({e}); CI places ../shared beside the repository",
            path.display()
        )
    });
    let mut lines = text.lines();
    let header = fields(lines.next().unwrap().trim_start_matches('\u{feff}'));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (case, at, team, tier) = (
        col("SR Number"),
        col("Change Date+Time"),
        col("Involved ST"),
        col("ST Level"),
    );
    let mut out: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    for line in lines {
        let f = fields(line);
        out.entry(f[case].clone()).or_default().push(Event {
            at: DateTime::parse_from_rfc3339(&f[at]).expect("ISO 8601 time"),
            team: some(&f[team]),
            tier: some(&f[tier]),
        });
    }
    // The engine's order: time, then team, then tier (missing values last).
    let key = |v: &Option<String>| (v.is_none(), v.clone());
    for events in out.values_mut() {
        events.sort_by(|a, b| {
            (a.at, key(&a.team), key(&a.tier)).cmp(&(b.at, key(&b.team), key(&b.tier)))
        });
    }
    out
}

/// Per-month figures, by the month (Brussels time) of each incident's first event.
#[derive(Default, Debug, PartialEq)]
struct Month {
    incidents: f64,
    moved: f64,
    team_changes: f64,
    ping_ponged: f64,
    escalations: f64,
    first_escalation: f64,
    first_push_back: f64,
    first_lateral: f64,
    /// Every transfer (a team or tier change), and each one's cause by the tree's rules.
    transfers: f64,
    causes: [f64; 4],
}

/// The tree's cause rules in order, then `unclassified`.
const CAUSES: [&str; 4] = ["escalation", "push_back", "lateral", "unclassified"];

fn by_month() -> BTreeMap<String, Month> {
    // The tree's tier order; a value outside it is not ranked (no escalation into or out of it).
    let rank = |t: &str| ["L1", "L2", "L2/L3", "L3"].iter().position(|x| *x == t);
    let mut months: BTreeMap<String, Month> = BTreeMap::new();
    for events in incidents().values() {
        let opened = events[0].at.with_timezone(&chrono_tz::Europe::Brussels);
        let m = months
            .entry(opened.format("%Y-%m").to_string())
            .or_default();
        m.incidents += 1.0;
        let (mut team, mut tier): (Option<&str>, Option<&str>) = (None, None);
        let mut seen: Vec<&str> = Vec::new();
        let (mut changes, mut pingpong, mut first_cause) = (0, false, None);
        for e in events {
            let team_moved = matches!((team, e.team.as_deref()), (Some(a), Some(b)) if a != b);
            let tier_moved = matches!((tier, e.tier.as_deref()), (Some(a), Some(b)) if a != b);
            let ranks = tier_moved
                .then(|| rank(e.tier.as_deref().unwrap()).zip(rank(tier.unwrap())))
                .flatten();
            let up = ranks.is_some_and(|(new, old)| new > old);
            let down = ranks.is_some_and(|(new, old)| new < old);
            if team_moved {
                changes += 1;
                pingpong |= seen.contains(&e.team.as_deref().unwrap());
            }
            if up {
                m.escalations += 1.0;
            }
            if team_moved || tier_moved {
                let cause = if up {
                    0
                } else if down {
                    1
                } else if team_moved {
                    2
                } else {
                    3
                };
                m.transfers += 1.0;
                m.causes[cause] += 1.0;
                first_cause = first_cause.or(Some(CAUSES[cause]));
            }
            if let Some(t) = e.team.as_deref() {
                team = Some(t);
                seen.push(t);
            }
            if let Some(t) = e.tier.as_deref() {
                tier = Some(t);
            }
        }
        m.team_changes += changes as f64;
        if changes > 0 {
            m.moved += 1.0;
            match first_cause {
                Some("escalation") => m.first_escalation += 1.0,
                Some("push_back") => m.first_push_back += 1.0,
                Some("lateral") => m.first_lateral += 1.0,
                _ => {}
            }
        }
        if pingpong {
            m.ping_ponged += 1.0;
        }
    }
    months
}

#[test]
fn bpic2013_derived_figures_match_an_independent_count() {
    mt(&["check", "trees/bpic2013.yaml", "--allow-path", "../shared"]).ok();
    let want = by_month();
    let total: f64 = want.values().map(|m| m.incidents).sum();
    assert_eq!(total, 7554.0, "incidents in the log");
    for month in ["2012-05", "2012-04", "2011-11"] {
        let w = &want[month];
        let j = mt(&[
            "eval",
            "trees/bpic2013.yaml",
            "--allow-path",
            "../shared",
            "--period",
            month,
            "--format",
            "json",
        ])
        .ok()
        .json();
        let v = |id: &str| num(&node(&j, id)["value"]);
        // The cause coverage the report prints beside the tree.
        let cov = &j["transfer_causes"][0];
        assert_eq!(cov["source"], "incidents");
        let p = &cov["periods"][0];
        assert_eq!(p["period"], month);
        assert_eq!(num(&p["cases"]), w.incidents, "{month}");
        let causes = p["causes"].as_array().unwrap();
        let names: Vec<&str> = causes
            .iter()
            .map(|c| c["cause"].as_str().unwrap())
            .collect();
        assert_eq!(names, CAUSES);
        let got_causes: Vec<f64> = causes.iter().map(|c| num(&c["transfers"])).collect();
        let share = num(&p["unclassified_share"]);
        assert!(
            (share - w.causes[3] / w.transfers).abs() < 1e-12,
            "{month}: {share}"
        );
        assert_eq!(p["above_max"], share > 0.1);
        let got = Month {
            transfers: num(&p["transfers"]),
            causes: got_causes.try_into().unwrap(),
            incidents: v("incidents"),
            moved: v("handoff_rate") * v("incidents"),
            team_changes: v("team_changes"),
            ping_ponged: v("ping_ponged"),
            escalations: v("escalations"),
            first_escalation: v("escalated_first"),
            first_push_back: v("pushed_back_first"),
            first_lateral: v("lateral_first"),
        };
        let moved = got.moved.round();
        assert!((got.moved - moved).abs() < 1e-9);
        assert_eq!(Month { moved, ..got }, *w, "{month}");
        assert!(
            w.incidents > 0.0 && w.moved > 0.0 && w.ping_ponged > 0.0,
            "{month}: {w:?}"
        );
    }
}

#[test]
fn bpic2013_why_explains_a_month_by_cause_and_segment() {
    let j = mt(&[
        "why",
        "trees/bpic2013.yaml",
        "--allow-path",
        "../shared",
        "--period",
        "2012-05",
        "--baseline",
        "2012-04",
        "--by",
        "first_tier,impact",
        "--history",
        "0",
        "--format",
        "json",
    ])
    .ok()
    .json();
    // Cause coverage for both sides, baseline first.
    let periods = j["transfer_causes"][0]["periods"].as_array().unwrap();
    let labels: Vec<&str> = periods
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2012-04", "2012-05"]);
    let want = by_month();
    for p in periods {
        let w = &want[p["period"].as_str().unwrap()];
        assert_eq!(num(&p["transfers"]), w.transfers);
    }
    // The root's inputs split its change exactly, and each dimension's segments add up to it.
    let root = node(&j, "handoff_rate");
    let delta = num(&root["delta"]);
    let inputs = contributions(&root["inputs"]);
    assert!((inputs - delta).abs() < 1e-12, "{inputs} vs {delta}");
    let dims = root["segments"]["dimensions"].as_array().unwrap();
    assert_eq!(dims.len(), 2);
    for d in dims {
        let sum = contributions(&d["segments"]);
        assert!(
            (sum - delta).abs() < 1e-9,
            "{}: {sum} vs {delta}",
            d["dimension"]
        );
    }
}

/// A small event log for the edge cases: case A's second and third events share a minute.
const TIE_EVENTS: &str = "case,t,seq,team,status\n\
A,2026-03-02 09:00:00,1,L1,open\n\
A,2026-03-02 09:05:00,2,Zeta,assigned\n\
A,2026-03-02 09:05:00,3,Alpha,assigned\n\
A,2026-03-02 09:30:00,4,Alpha,resolved\n\
B,2026-03-02 10:00:00,1,L1,open\n\
B,2026-03-02 10:10:00,2,L2,assigned\n";

fn tie_tree(event_log_extra: &str) -> String {
    format!(
        r#"version: 1
root: moved_share
grain: week
owners:
  ops: {{name: Ops}}
sources:
  events:
    file: events.csv
    time: t
  cases:
    event_log:
      events: events
      case: case
      time: t
      owners: {{team: team}}
{event_log_extra}    time: opened_at
nodes:
  moved_share:
    owner: ops
    ratio: [moved, all_cases]
  moved:
    measure: {{source: cases, agg: count, filter: transferred}}
  all_cases:
    measure: {{source: cases, agg: count}}
  team_changes:
    measure: {{source: cases, agg: sum, expr: team_changes}}
companions: [team_changes]
"#
    )
}

fn eval_ties(extra: &str) -> (crate::util::Run, crate::util::TempDir) {
    let d = crate::util::TempDir::new("ties");
    d.write("events.csv", TIE_EVENTS);
    let t = d.write("tree.yaml", &tie_tree(extra));
    let r = mt(&[
        "eval",
        t.to_str().unwrap(),
        "--period",
        "2026-W10",
        "--format",
        "json",
    ]);
    (r, d)
}

#[test]
fn events_at_the_same_time_are_ordered_by_order_by_or_counted() {
    // Without order_by: Alpha sorts before Zeta, so A goes L1 → Alpha → Zeta → Alpha (3
    // changes), and W016 says one case depends on that order.
    let (r, _d) = eval_ties("");
    r.ok()
        .stderr_has("warning[W016]")
        .stderr_has("in 1 case(s)")
        .stderr_has("order_by");
    let j = r.json();
    assert_eq!(num(&node(&j, "team_changes")["value"]), 3.0 + 1.0);
    // With the export's sequence: L1 → Zeta → Alpha (2 changes), and no warning.
    let (r, _d) = eval_ties("      order_by: [seq]\n");
    r.ok();
    assert!(!r.stderr.contains("W016"), "{}", r.stderr);
    assert_eq!(num(&node(&r.json(), "team_changes")["value"]), 2.0 + 1.0);
}

#[test]
fn an_event_log_without_rules_classifies_every_transfer_as_unclassified() {
    // No `causes:` and no tier or channel level: no rule at all.
    let (r, _d) = eval_ties("      order_by: [seq]\n");
    let j = r.ok().json();
    let cov = &j["transfer_causes"][0]["periods"][0];
    assert_eq!(num(&cov["transfers"]), 3.0, "{cov}");
    let causes = cov["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{cov}");
    assert_eq!(causes[0]["cause"], "unclassified");
    assert_eq!(num(&causes[0]["transfers"]), 3.0);
}

#[test]
fn an_attribute_may_not_take_a_derived_name() {
    let d = crate::util::TempDir::new("reserved");
    d.write("events.csv", TIE_EVENTS);
    let t = d.write(
        "tree.yaml",
        &tie_tree("      attributes: [opened_at, status]\n"),
    );
    let r = mt(&["check", t.to_str().unwrap()]);
    // One mistake, one error: the data is not opened for an invalid tree.
    assert_eq!(r.stderr.matches("error[").count(), 1, "{}", r.stderr);
    r.fails_with(1)
        .stderr_has("error[E006]: attribute `opened_at`")
        .stderr_has("a name the derivation uses itself")
        .stderr_has("tree.yaml:16:")
        .stderr_has("reserved names:");
}

#[test]
fn attributes_take_the_first_or_the_last_value() {
    let d = crate::util::TempDir::new("last-attr");
    d.write("events.csv", TIE_EVENTS);
    let tree = tie_tree("      order_by: [seq]\n      attributes: [status]\n      last_attributes: [status]\n")
        .replace(
            "companions: [team_changes]\n",
            "  opened_first:\n    measure: {source: cases, agg: count, filter: \"status = 'open'\"}\n  resolved_last:\n    measure: {source: cases, agg: count, filter: \"last_status = 'resolved'\"}\ncompanions: [team_changes, opened_first, resolved_last]\n",
        );
    let t = d.write("tree.yaml", &tree);
    let r = mt(&[
        "eval",
        t.to_str().unwrap(),
        "--period",
        "2026-W10",
        "--format",
        "json",
    ]);
    let j = r.ok().json();
    // Both cases open first; only A's last event resolves it (B's last is `assigned`).
    assert_eq!(num(&node(&j, "opened_first")["value"]), 2.0);
    assert_eq!(num(&node(&j, "resolved_last")["value"]), 1.0);
    // `last_team` is the derivation's own column: refused for `last_attributes: [team]`.
    let t = d.write("bad.yaml", &tie_tree("      last_attributes: [team]\n"));
    mt(&["check", t.to_str().unwrap()])
        .fails_with(1)
        .stderr_has("would be `last_team`, a name the derivation uses itself");
}
