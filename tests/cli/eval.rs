//! `metrictree eval`: node values checked against an independent computation over the raw
//! CSV files in plain Rust (no query engine), in total and per segment.

use std::collections::{HashMap, HashSet};

use crate::util::{mt, node, root};

/// conversation id → (created_at, channel), and the set of ids with ≥ 1 handoff.
fn raw() -> (HashMap<String, (String, String)>, HashSet<String>) {
    let conv = std::fs::read_to_string(root().join("examples/support/conversations.csv")).unwrap();
    let mut lines = conv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id, created, channel) = (col("conversation_id"), col("created_at"), col("channel"));
    let convs = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[id].to_string(),
                (f[created].to_string(), f[channel].to_string()),
            )
        })
        .collect();
    let hand = std::fs::read_to_string(root().join("examples/support/handoffs.csv")).unwrap();
    let moved = hand
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    (convs, moved)
}

#[test]
fn handoff_rate_matches_an_independent_count() {
    let (convs, moved) = raw();
    // 2026-W46 = 2026-11-09 00:00 .. 2026-11-16 00:00 local (the files hold local times).
    let in_week = |t: &str| ("2026-11-09 00:00:00".."2026-11-16 00:00:00").contains(&t);
    let week: Vec<&String> = convs
        .iter()
        .filter(|(_, (t, _))| in_week(t))
        .map(|(id, _)| id)
        .collect();
    let transferred = week.iter().filter(|id| moved.contains(**id)).count();
    let j = mt(&[
        "eval",
        "trees/handoff.yaml",
        "--period",
        "2026-W46",
        "--format",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(j["complete"], true);
    assert_eq!(
        node(&j, "conversations")["value"].as_f64().unwrap(),
        week.len() as f64
    );
    let rate = node(&j, "handoff_rate")["value"].as_f64().unwrap();
    assert!(
        (rate - transferred as f64 / week.len() as f64).abs() < 1e-12,
        "{rate}"
    );

    // Per channel.
    let j = mt(&[
        "eval",
        "trees/handoff.yaml",
        "--period",
        "2026-W46",
        "--by",
        "channel",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let segs = node(&j, "conversations")["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 4);
    for s in segs {
        let ch = s["value_of"].as_str().unwrap();
        let want = convs
            .values()
            .filter(|(t, c)| in_week(t) && c == ch)
            .count();
        assert_eq!(s["value"].as_f64().unwrap(), want as f64, "channel {ch}");
    }
}

#[test]
fn eval_by_unknown_dimension_suggests() {
    mt(&["eval", "trees/handoff.yaml", "--by", "chanel"])
        .fails_with(2)
        .stderr_has("did you mean `channel`?");
}

#[test]
fn eval_text_shows_companions() {
    let r = mt(&["eval", "trees/handoff.yaml", "--by", "tier"]);
    r.ok();
    for s in [
        "Companions",
        "First-contact resolution",
        "enterprise",
        "Handoff rate",
    ] {
        assert!(r.stdout.contains(s), "missing {s}:\n{}", r.stdout);
    }
}
