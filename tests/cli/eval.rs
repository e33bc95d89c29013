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

/// `eval` of the flagship tree for 2026-W46 (the planted week) as JSON, with `extra` flags.
fn flagship_w46(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["eval", "trees/handoff.yaml", "--period", "2026-W46"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--format", "json"]);
    mt(&args).ok().json()
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
    let j = flagship_w46(&[]);
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
    let j = flagship_w46(&["--by", "channel"]);
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

/// A CSV of the bundled example as rows of named fields (the generator writes no quoted
/// fields).
fn table(file: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(root().join("examples/support").join(file)).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), header.len(), "{file}: {l}");
            header
                .iter()
                .cloned()
                .zip(f.iter().map(|s| s.to_string()))
                .collect()
        })
        .collect()
}

fn secs(a: &str, b: &str) -> f64 {
    let p = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    (p(b) - p(a)).num_seconds() as f64
}

/// Every handoff measure of the domain pack, recomputed from the raw CSVs for 2026-W46 in
/// the conversation cohort, equals `eval`'s value.
#[test]
fn the_handoff_measures_match_an_independent_count() {
    let convs = table("conversations.csv");
    let hands = table("handoffs.csv");
    let audits = table("audits.csv");
    let in_week = |t: &str| ("2026-11-09 00:00:00".."2026-11-16 00:00:00").contains(&t);
    let week: HashMap<&str, &HashMap<String, String>> = convs
        .iter()
        .filter(|c| in_week(&c["created_at"]))
        .map(|c| (c["conversation_id"].as_str(), c))
        .collect();
    let mut n_transfers: HashMap<&str, usize> = HashMap::new();
    for h in &hands {
        *n_transfers
            .entry(h["conversation_id"].as_str())
            .or_default() += 1;
    }
    let transfers: Vec<&HashMap<String, String>> = hands
        .iter()
        .filter(|h| week.contains_key(h["conversation_id"].as_str()))
        .collect();
    let n_of = |id: &str| n_transfers.get(id).copied().unwrap_or(0);
    let c = week.len() as f64;
    let moved: Vec<&&HashMap<String, String>> = week
        .values()
        .filter(|v| n_of(&v["conversation_id"]) > 0)
        .collect();
    let still: Vec<&&HashMap<String, String>> = week
        .values()
        .filter(|v| n_of(&v["conversation_id"]) == 0)
        .collect();
    // Mean CSAT over the rated conversations of a group.
    let csat = |v: &[&&HashMap<String, String>]| {
        let rated: Vec<f64> = v
            .iter()
            .filter(|r| !r["csat"].is_empty())
            .map(|r| r["csat"].parse::<f64>().unwrap())
            .collect();
        rated.iter().sum::<f64>() / rated.len() as f64
    };
    let t = transfers.len() as f64;
    let is_last = |h: &HashMap<String, String>| {
        h["sequence"].parse::<usize>().unwrap() == n_of(&h["conversation_id"])
    };
    let conv_of = |h: &HashMap<String, String>| week[h["conversation_id"].as_str()];
    let succeeded = transfers
        .iter()
        .filter(|h| {
            let cv = conv_of(h);
            is_last(h)
                && h["accepted"] == "true"
                && cv["status"] == "resolved"
                && cv["reopened"] == "false"
        })
        .count() as f64;
    let quick = transfers
        .iter()
        .filter(|h| {
            let cv = conv_of(h);
            is_last(h)
                && h["accepted"] == "true"
                && cv["status"] == "resolved"
                && secs(&h["transferred_at"], &cv["resolved_at"]) <= 900.0
        })
        .count() as f64;
    let accepted: Vec<&&HashMap<String, String>> = transfers
        .iter()
        .filter(|h| h["accepted"] == "true" && !h["receiver_first_reply_at"].is_empty())
        .collect();
    let reply: f64 = accepted
        .iter()
        .map(|h| secs(&h["transferred_at"], &h["receiver_first_reply_at"]))
        .sum();
    let wait: f64 = transfers
        .iter()
        .filter(|h| !h["picked_up_at"].is_empty())
        .map(|h| secs(&h["transferred_at"], &h["picked_up_at"]))
        .sum();
    let audited: Vec<&HashMap<String, String>> = audits
        .iter()
        .filter(|a| week.contains_key(a["conversation_id"].as_str()))
        .collect();
    for a in &audits {
        let yes = ["required", "done_well", "timely"]
            .iter()
            .filter(|k| a[**k] == "true")
            .count() as f64;
        assert_eq!(
            a["score"],
            format!("{}", (yes * 100.0 / 3.0).round()),
            "{a:?}"
        );
    }
    let score = audited
        .iter()
        .map(|a| a["score"].parse::<f64>().unwrap())
        .sum::<f64>()
        / audited.len() as f64;
    let repeat = moved
        .iter()
        .filter(|v| v["repeat_explanation"] == "true")
        .count() as f64;
    let bounced = moved
        .iter()
        .filter(|v| n_of(&v["conversation_id"]) >= 3)
        .count() as f64;
    let m = moved.len() as f64;

    let j = flagship_w46(&[]);
    let want = [
        ("transferred_csat", csat(&moved)),
        ("untransferred_csat", csat(&still)),
        ("csat_gap", csat(&still) - csat(&moved)),
        ("handoff_success_rate", succeeded / t),
        ("handoff_quality_score", score),
        ("receiver_response_time", reply / accepted.len() as f64),
        ("time_lost_per_conversation", wait / c),
        ("quick_resolution_share", quick / t),
        ("repeat_explanation_rate", repeat / m),
        ("bouncing_share", bounced / m),
    ];
    for (id, w) in want {
        let got = node(&j, id)["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{id}: {j}"));
        assert!(
            (got - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{id}: eval {got}, independent count {w}"
        );
        assert!(w.is_finite() && w != 0.0, "{id}: {w} is not a useful check");
    }

    // The dimensions every conversation carries: routing rule and entry queue.
    let j = flagship_w46(&["--by", "routing_rule"]);
    let segs = node(&j, "conversations")["segments"].as_array().unwrap();
    let rules: HashSet<&str> = week.values().map(|v| v["routing_rule"].as_str()).collect();
    assert_eq!(segs.len(), rules.len());
    for s in segs {
        let r = s["value_of"].as_str().unwrap();
        let want = week.values().filter(|v| v["routing_rule"] == r).count();
        assert_eq!(s["value"].as_f64().unwrap(), want as f64, "rule {r}");
    }
    assert!(rules.contains("billing_chat_v2"));
}
