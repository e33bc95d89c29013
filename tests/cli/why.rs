//! `metrictree why`: exactness invariants on the bundled example, the planted routing change,
//! antisymmetry, `--node`, and undefined values.

use std::collections::HashMap;

use serde_json::Value;

use crate::util::{TempDir, close, mt, node, num as f};

fn why_json(extra: &[&str]) -> Value {
    let mut args = vec!["why", "trees/handoff.yaml", "--format", "json"];
    args.extend_from_slice(extra);
    mt(&args).ok().json()
}

fn by_id(j: &Value) -> HashMap<String, Value> {
    j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap().to_string(), n.clone()))
        .collect()
}

#[test]
fn contributions_are_exact_everywhere() {
    let j = why_json(&[]);
    let nodes = by_id(&j);
    let root = &nodes[j["root"].as_str().unwrap()];
    let d_root = f(&root["delta"]);
    close(f(&root["contribution"]), d_root, 1e-12);
    let mut leaves = 0.0;
    for n in nodes.values() {
        let inputs = n["inputs"].as_array().unwrap();
        if inputs.is_empty() {
            leaves += f(&n["contribution"]);
            continue;
        }
        let local: f64 = inputs.iter().map(|i| f(&i["contribution"])).sum();
        close(local, f(&n["delta"]), 1e-12);
        let flows: f64 = inputs.iter().map(|i| f(&i["contribution_to_root"])).sum();
        close(flows, f(&n["contribution"]), 1e-12);
    }
    close(leaves, d_root, 1e-12);
    // A shared input's contribution is the sum of the flows into it, by path.
    let into_conversations: f64 = nodes
        .values()
        .flat_map(|n| n["inputs"].as_array().unwrap().iter())
        .filter(|i| i["id"] == "conversations")
        .map(|i| f(&i["contribution_to_root"]))
        .sum();
    close(
        into_conversations,
        f(&nodes["conversations"]["contribution"]),
        1e-12,
    );
}

#[test]
fn planted_routing_change_is_found_first_and_sized() {
    let planted: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::root().join("examples/support/planted.json"))
            .unwrap(),
    )
    .unwrap();
    let ev = planted["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "routing_rule_change")
        .unwrap();
    let j = why_json(&[
        "--period",
        ev["period"].as_str().unwrap(),
        "--baseline",
        ev["baseline"].as_str().unwrap(),
    ]);
    let nodes = by_id(&j);
    let root = &nodes["handoff_rate"];
    let top = root["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| {
            f(&a["contribution_to_root"])
                .abs()
                .total_cmp(&f(&b["contribution_to_root"]).abs())
        })
        .unwrap();
    assert_eq!(top["id"], "routing_rate", "the routing branch ranks first");
    // Stated tolerance: the planted effect plus the routing base rate's own week-over-week
    // noise, three binomial standard errors of a difference of two proportions.
    let routing = &nodes["routing_rate"];
    let (p, n0, n1) = (
        f(&routing["baseline"]),
        f(&nodes["conversations"]["baseline"]),
        f(&nodes["conversations"]["current"]),
    );
    let se = (p * (1.0 - p) * (1.0 / n0 + 1.0 / n1)).sqrt();
    let realized = f(&ev["effect"]["realized_root_points"]);
    let got = f(&routing["contribution"]);
    assert!(
        (got - realized).abs() <= 3.0 * se,
        "routing contribution {got:.4} vs planted {realized:.4} (3·se = {:.4})",
        3.0 * se
    );
}

fn planted(name: &str) -> Value {
    let planted: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::root().join("examples/support/planted.json"))
            .unwrap(),
    )
    .unwrap();
    planted["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in planted.json"))
        .clone()
}

/// "Which rule?": split by the routing rule every conversation carries, the routing branch's
/// top insight is the rule `planted.json` names, beyond noise.
#[test]
fn the_planted_routing_rule_is_named_by_routing_rule() {
    let ev = planted("routing_rule_change");
    let j = why_json(&["--node", "routing_rate", "--by", "routing_rule"]);
    let top = &by_id(&j)["routing_rate"]["segments"]["insights"][0];
    assert_eq!(
        top["label"],
        format!("routing_rule = {}", ev["routing_rule"].as_str().unwrap()),
        "{top}"
    );
    assert_eq!(top["test"]["verdict"], "beyond_noise", "{top}");
    // The rule is new this week, so a rule that changed nothing would carry only the base
    // routing rate of its volume (about 0.7 points): the planted misrouting is most of it.
    let planted = f(&ev["effect"]["realized_root_points"]);
    assert!(
        f(&top["contribution"]) > 0.6 * planted,
        "{top} vs {planted}"
    );
}

/// The quality plant: in its week, the quality score's top insight is the planted sending
/// team × transfer type, beyond noise.
#[test]
fn the_planted_quality_drop_is_found_in_its_week() {
    let ev = planted("cold_transfer_quality_drop");
    let j = why_json(&[
        "--node",
        "handoff_quality_score",
        "--period",
        ev["period"].as_str().unwrap(),
        "--baseline",
        ev["baseline"].as_str().unwrap(),
    ]);
    let n = &by_id(&j)["handoff_quality_score"];
    assert!(f(&n["delta"]) < 0.0, "{n}");
    let top = &n["segments"]["insights"][0];
    let mut parts: Vec<(String, String)> = top["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["dimension"].as_str().unwrap().to_string(),
                p["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    parts.sort();
    let mut want: Vec<(String, String)> = ev["segment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    want.sort();
    assert_eq!(parts, want, "{top}");
    assert_eq!(top["test"]["verdict"], "beyond_noise", "{top}");
}

#[test]
fn swapping_the_periods_negates_every_contribution() {
    let a = by_id(&why_json(&[
        "--period",
        "2026-W46",
        "--baseline",
        "2026-W44",
    ]));
    let b = by_id(&why_json(&[
        "--period",
        "2026-W44",
        "--baseline",
        "2026-W46",
    ]));
    for (id, n) in &a {
        close(f(&n["contribution"]), -f(&b[id]["contribution"]), 1e-12);
        for (x, y) in n["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b[id]["inputs"].as_array().unwrap())
        {
            close(
                f(&x["contribution_to_root"]),
                -f(&y["contribution_to_root"]),
                1e-12,
            );
        }
    }
}

#[test]
fn text_output_names_branches_owners_and_the_largest_mover() {
    let r = mt(&["why", "trees/handoff.yaml"]);
    r.ok();
    for s in [
        "Why did Handoff rate change?",
        "2026-W46 vs 2026-W45",
        "Routing handoffs",
        "Support Operations",
        "Largest mover: Routing handoffs",
    ] {
        assert!(r.stdout.contains(s), "missing {s:?}:\n{}", r.stdout);
    }
    assert!(
        !r.stdout.contains('\x1b'),
        "no colour when not on a terminal"
    );
}

#[test]
fn node_option_explains_one_branch_for_its_owner() {
    let r = mt(&["why", "trees/handoff.yaml", "--node", "channel_rate"]);
    r.ok();
    assert!(
        r.stdout.contains("Why did Channel moves change?"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("contributes"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Bot → human: frustration"),
        "{}",
        r.stdout
    );
    let j = why_json(&["--node", "channel_rate"]);
    assert_eq!(j["root"], "channel_rate");
    assert_eq!(j["tree_root"], "handoff_rate");
    mt(&["why", "trees/handoff.yaml", "--node", "chanel_rate"])
        .fails_with(2)
        .stderr_has("did you mean `channel_rate`?");
}

#[test]
fn undefined_value_on_the_path_stops_why_naming_node_and_period() {
    let d = TempDir::new("undef");
    d.write(
        "c.csv",
        "id,created_at,moved\n1,2026-11-02 10:00:00,true\n2,2026-11-17 10:00:00,false\n",
    );
    let tree = "root: rate\nowners: {ops: {name: Ops}}\nsources:\n  c: {file: c.csv, time: created_at}\nnodes:\n  rate:\n    owner: ops\n    ratio: [moved, total]\n  moved:\n    measure: {source: c, agg: count, filter: moved}\n  total:\n    measure: {source: c, agg: count}\n";
    let p = d.write("t.yaml", tree);
    let r = mt(&[
        "why",
        p.to_str().unwrap(),
        "--period",
        "2026-W47",
        "--baseline",
        "2026-W46",
    ]);
    // An empty baseline says so, and where the data is (no `on_zero` hint: nothing divides
    // by zero here).
    r.fails_with(2)
        .stderr_has("2026-W46")
        .stderr_has("undefined")
        .stderr_has("the data has no rows")
        .stderr_has("the data runs from 2026-11-02 10:00 to 2026-11-17 10:00");
    assert!(!r.stderr.contains("on_zero"), "{}", r.stderr);
    // eval shows undefined as "—", and null with a status in JSON.
    let r = mt(&["eval", p.to_str().unwrap(), "--period", "2026-W46"]);
    r.ok();
    assert!(r.stdout.contains('—'), "{}", r.stdout);
    let r = mt(&[
        "eval",
        p.to_str().unwrap(),
        "--period",
        "2026-W46",
        "--format",
        "json",
    ]);
    assert!(!r.ok().stdout.contains("NaN"), "{}", r.stdout);
    let j = r.json();
    assert!(node(&j, "rate")["value"].is_null());
    assert_eq!(node(&j, "rate")["status"], "input_undefined");
}

#[test]
fn on_zero_opts_a_ratio_out_of_undefined() {
    let d = TempDir::new("onzero");
    d.write(
        "c.csv",
        "id,created_at,moved\n1,2026-11-02 10:00:00,true\n2,2026-11-10 10:00:00,true\n",
    );
    let tree = "root: rate\nowners: {ops: {name: Ops}}\nsources:\n  c: {file: c.csv, time: created_at}\nnodes:\n  rate:\n    owner: ops\n    on_zero: 0\n    ratio: [moved, gone]\n  moved:\n    measure: {source: c, agg: count, filter: moved}\n  gone:\n    measure: {source: c, agg: count, filter: \"id > 5\"}\n";
    let p = d.write("t.yaml", tree);
    let j = mt(&[
        "why",
        p.to_str().unwrap(),
        "--period",
        "2026-W46",
        "--baseline",
        "2026-W45",
        "--format",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(j["nodes"][0]["current"], 0.0);
    // Zero denominator in one period only: still exact and finite.
    let tree2 = tree.replace("filter: \"id > 5\"", "filter: \"id > 1\"");
    let p2 = d.write("t2.yaml", &tree2);
    let j = mt(&[
        "why",
        p2.to_str().unwrap(),
        "--period",
        "2026-W46",
        "--baseline",
        "2026-W45",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let nodes = j["nodes"].as_array().unwrap();
    let delta = nodes[0]["delta"].as_f64().unwrap();
    let split: f64 = nodes[0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["contribution"].as_f64().expect("finite"))
        .sum();
    assert!((split - delta).abs() < 1e-12, "{split} vs {delta}");
}

#[test]
fn partial_period_warns_and_default_is_latest_complete() {
    let r = mt(&["eval", "trees/handoff.yaml", "--period", "2026-W47"]);
    r.ok().stderr_has("warning: 2026-W47 is partial");
    let r = mt(&["eval", "trees/handoff.yaml"]);
    r.ok();
    assert!(r.stdout.contains("2026-W46 (complete)"), "{}", r.stdout);
    assert!(!r.stderr.contains("partial"), "{}", r.stderr);
    mt(&["why", "trees/handoff.yaml", "--period", "2026-W99"])
        .fails_with(2)
        .stderr_has("write it like `2026-W46`");
}

/// `--segments all` lists every evaluated cell: each dimension's values and each pair's
/// conjunctions partition the population, so each set of cells adds up to the node's change.
#[test]
fn every_segment_is_listed_on_request_and_each_partition_adds_up() {
    let j = why_json(&["--segments", "all"]);
    let plain = why_json(&[]);
    let mut checked = 0;
    for n in j["nodes"].as_array().unwrap() {
        let Some(all) = n["segments"]["all"].as_array() else {
            continue;
        };
        // Without the flag the list is absent.
        assert!(node(&plain, n["id"].as_str().unwrap())["segments"]["all"].is_null());
        let mut by_dims: HashMap<Vec<String>, f64> = HashMap::new();
        for s in all {
            let dims: Vec<String> = s["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["dimension"].as_str().unwrap().to_string())
                .collect();
            *by_dims.entry(dims).or_default() += f(&s["contribution"]);
        }
        assert!(
            by_dims.keys().any(|d| d.len() == 2),
            "no conjunctions for {}",
            n["id"]
        );
        assert!(all.len() > n["segments"]["insights"].as_array().unwrap().len());
        for sum in by_dims.values() {
            close(*sum, f(&n["delta"]), 1e-9);
        }
        checked += 1;
    }
    assert!(checked >= 3, "{checked} nodes listed their segments");
    let text = mt(&["why", "trees/handoff.yaml", "--segments", "all"])
        .ok()
        .stdout
        .clone();
    assert!(text.contains("Every segment of"), "{text}");
    assert!(text.contains(" ∧ "), "{text}");
}

/// `players:` groups leaves into factors; `why` reports Shapley over the groups, which adds
/// up to the change and matches a two-player Shapley computed here from the leaves' values.
#[test]
fn players_split_the_change_by_groups() {
    let d = TempDir::new("players");
    let mut csv = String::from("id,created_at,region,amount\n");
    let rows = [
        ("2026-11-03", "eu", 10.0, 40),
        ("2026-11-03", "us", 30.0, 60),
        ("2026-11-10", "eu", 14.0, 55),
        ("2026-11-10", "us", 25.0, 50),
    ];
    let mut id = 0;
    for (day, region, amount, n) in rows {
        for _ in 0..n {
            id += 1;
            csv.push_str(&format!("{id},{day} 10:00:00,{region},{amount}\n"));
        }
    }
    d.write("c.csv", &csv);
    let tree = "root: mean_amount\nowners: {ops: {name: Ops}}\nsources:\n  c: {file: c.csv, time: created_at}\nplayers:\n  volume: [n_eu, n_us]\n  value: [v_eu, v_us]\nnodes:\n  mean_amount:\n    owner: ops\n    formula: \"(v_eu + v_us) / (n_eu + n_us)\"\n  n_eu: {measure: {source: c, agg: count, filter: \"region = 'eu'\"}}\n  n_us: {measure: {source: c, agg: count, filter: \"region = 'us'\"}}\n  v_eu: {measure: {source: c, agg: sum, expr: amount, filter: \"region = 'eu'\"}}\n  v_us: {measure: {source: c, agg: sum, expr: amount, filter: \"region = 'us'\"}}\n";
    let p = d.write("t.yaml", tree);
    let args = |fmt: &str| {
        let mut a = vec![
            "why".to_string(),
            p.to_str().unwrap().to_string(),
            "--period".into(),
            "2026-W46".into(),
            "--baseline".into(),
            "2026-W45".into(),
            "--by".into(),
            "none".into(),
        ];
        if fmt == "json" {
            a.extend(["--format".into(), "json".into()]);
        }
        a
    };
    let a = args("json");
    let r = mt(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let j = r.ok().json();
    assert_eq!(j["split"], "path");
    assert!(f(&j["split_residual"]) < 1e-12);
    let v = |id: &str, k: &str| f(&node(&j, id)[k]);
    let fv = |n: [f64; 2], s: [f64; 2]| (s[0] + s[1]) / (n[0] + n[1]);
    let n0 = [v("n_eu", "baseline"), v("n_us", "baseline")];
    let n1 = [v("n_eu", "current"), v("n_us", "current")];
    let s0 = [v("v_eu", "baseline"), v("v_us", "baseline")];
    let s1 = [v("v_eu", "current"), v("v_us", "current")];
    let volume = ((fv(n1, s0) - fv(n0, s0)) + (fv(n1, s1) - fv(n0, s1))) / 2.0;
    let value = ((fv(n0, s1) - fv(n0, s0)) + (fv(n1, s1) - fv(n1, s0))) / 2.0;
    let players = j["players"].as_array().unwrap();
    let effect = |name: &str| f(&players.iter().find(|p| p["name"] == name).unwrap()["effect"]);
    close(effect("volume"), volume, 1e-12);
    close(effect("value"), value, 1e-12);
    close(volume + value, v("mean_amount", "delta"), 1e-12);
    assert_eq!(players[0]["leaves"].as_array().unwrap().len(), 2);
    let a = args("text");
    let text = mt(&a.iter().map(String::as_str).collect::<Vec<_>>())
        .ok()
        .stdout
        .clone();
    assert!(
        text.contains("Factors (each group of leaves moved together"),
        "{text}"
    );
    assert!(text.contains("integrated numerically"), "{text}");
}

/// Bad `players:` entries are named with their line and the fix.
#[test]
fn bad_players_are_named_where_they_are_written() {
    let d = TempDir::new("badplayers");
    d.write("c.csv", "id,created_at\n1,2026-11-03 10:00:00\n");
    let tree = "root: r\nowners: {ops: {name: Ops}}\nsources:\n  c: {file: c.csv, time: created_at}\nplayers:\n  one: [a, r]\n  two: [a, bogus]\n  three: []\nnodes:\n  r:\n    owner: ops\n    formula: \"a + b\"\n  a: {measure: {source: c, agg: count}}\n  b: {measure: {source: c, agg: count}}\n";
    let p = d.write("t.yaml", tree);
    let r = mt(&["check", p.to_str().unwrap(), "--no-data"]);
    r.fails_with(1)
        .stderr_has("error[E050]: `r` in player `one` is a formula, not a leaf")
        .stderr_has("t.yaml:6:")
        .stderr_has("error[E050]: leaf `a` is in players `one` and `two`")
        .stderr_has("error[E050]: unknown node `bogus` in player `two`")
        .stderr_has("error[E050]: player `three` has no leaves");
}
