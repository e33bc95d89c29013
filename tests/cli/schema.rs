//! JSON Schemas: the shipped trees validate against the tree schema, and `why`/`eval` JSON
//! output validates against theirs; `metrictree schema` prints the shipped files.

use serde_json::Value;

use crate::util::{mt, root};

fn schema(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("schemas").join(name)).unwrap())
        .unwrap()
}

#[track_caller]
fn assert_valid(schema: &Value, instance: &Value, what: &str) {
    let v = jsonschema::validator_for(schema).expect("the schema compiles");
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

/// Validates `instance` against the shipped schema `file` (e.g. `why.schema.json`).
#[track_caller]
pub fn assert_valid_against(file: &str, instance: &Value, what: &str) {
    assert_valid(&schema(file), instance, what);
}

#[test]
fn shipped_trees_match_the_tree_schema() {
    let s = schema("tree.schema.json");
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("trees")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let doc = metrictree::spec::yaml::parse(&std::fs::read_to_string(&p).unwrap()).unwrap();
            // An actions file beside a tree has a schema of its own.
            let actions = p.to_string_lossy().ends_with(".actions.yaml");
            let schema = if actions {
                &schema("actions.schema.json")
            } else {
                &s
            };
            assert_valid(schema, &doc.to_json(), &p.display().to_string());
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn tree_schema_rejects_what_check_rejects() {
    let s = schema("tree.schema.json");
    let v = jsonschema::validator_for(&s).unwrap();
    let bad = serde_json::json!({"root": "a", "nodes": {"a": {"unti": "percent", "formula": "b"}}});
    assert!(!v.is_valid(&bad), "unknown key accepted");
    let two = serde_json::json!({"root": "a", "nodes": {"a": {"formula": "b", "sum": ["b"]}}});
    assert!(!v.is_valid(&two), "two definitions accepted");
}

#[test]
fn why_and_eval_json_match_their_schemas() {
    let j = mt(&["why", "trees/handoff.yaml", "--format", "json"])
        .ok()
        .json();
    assert_valid(&schema("why.schema.json"), &j, "why output");
    let j = mt(&[
        "why",
        "trees/handoff.yaml",
        "--node",
        "skill_rate",
        "--format",
        "json",
    ])
    .ok()
    .json();
    assert_valid(&schema("why.schema.json"), &j, "why --node output");
    let j = mt(&[
        "eval",
        "trees/handoff.yaml",
        "--by",
        "channel",
        "--format",
        "json",
    ])
    .ok()
    .json();
    assert_valid(&schema("eval.schema.json"), &j, "eval output");
}

#[test]
fn schema_command_prints_the_shipped_schemas() {
    for (arg, file) in [
        ("tree", "tree.schema.json"),
        ("why", "why.schema.json"),
        ("eval", "eval.schema.json"),
        ("history", "history.schema.json"),
        ("impact", "impact.schema.json"),
        ("actions", "actions.schema.json"),
        ("report", "report.schema.json"),
        ("webhook", "webhook.schema.json"),
    ] {
        let out: Value = serde_json::from_str(&mt(&["schema", arg]).ok().stdout).unwrap();
        assert_eq!(out, schema(file));
    }
}

/// Where each object schema sits (its location in the schema file) and the keys it lists.
fn object_schemas(root: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    fn walk(
        root: &Value,
        node: &Value,
        at: &str,
        out: &mut std::collections::BTreeMap<String, Vec<String>>,
    ) {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let target = root
                .pointer(r.trim_start_matches('#'))
                .expect("the $ref resolves");
            if !out.contains_key(r) {
                walk(root, target, r, out);
            }
            return;
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            out.insert(at.to_string(), props.keys().cloned().collect());
            for (k, v) in props {
                walk(root, v, &format!("{at}/properties/{k}"), out);
            }
        }
        if let Some(items) = node.get("items") {
            walk(root, items, &format!("{at}/items"), out);
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(list) = node.get(key).and_then(Value::as_array) {
                for (i, v) in list.iter().enumerate() {
                    walk(root, v, &format!("{at}/{key}/{i}"), out);
                }
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, "#", &mut out);
    out
}

/// The keys `instance` shows at each object schema of `schema` it passes through.
fn observed(
    root: &Value,
    node: &Value,
    at: &str,
    instance: &Value,
    out: &mut std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let target = root.pointer(r.trim_start_matches('#')).unwrap();
        return observed(root, target, r, instance, out);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = node.get(key).and_then(Value::as_array) {
            for (i, v) in list.iter().enumerate() {
                let fits = jsonschema::validator_for(&with_defs(root, v))
                    .map(|val| val.is_valid(instance))
                    .unwrap_or(false);
                if fits {
                    observed(root, v, &format!("{at}/{key}/{i}"), instance, out);
                }
            }
        }
    }
    match instance {
        Value::Object(o) => {
            if let Some(props) = node.get("properties").and_then(Value::as_object) {
                let seen = out.entry(at.to_string()).or_default();
                seen.extend(o.keys().cloned());
                for (k, v) in o {
                    if let Some(s) = props.get(k) {
                        observed(root, s, &format!("{at}/properties/{k}"), v, out);
                    }
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = node.get("items") {
                for v in a {
                    observed(root, items, &format!("{at}/items"), v, out);
                }
            }
        }
        _ => {}
    }
}

/// A sub-schema with the root's `$defs`, so its `$ref`s resolve on their own.
fn with_defs(root: &Value, node: &Value) -> Value {
    let mut n = node.clone();
    if let (Some(o), Some(defs)) = (n.as_object_mut(), root.get("$defs")) {
        o.insert("$defs".into(), defs.clone());
    }
    n
}

/// The hand-written schemas and the output types agree both ways: every key real output
/// shows is listed (validation with `additionalProperties: false` checks that), and every key
/// a schema lists is emitted by some real output — over the snapshots of every shipped tree
/// (`tests/cli/snapshots/`), which cover `--by`, `--node` and pooled baselines, plus the
/// Welch and unsplit cases below.
#[test]
fn every_schema_key_is_emitted_by_real_output() {
    let mut outputs: Vec<(&str, Value)> = Vec::new();
    let dir = root().join("tests/cli/snapshots");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let kind = if name.contains("-why-") && name.contains("json") {
            "why.schema.json"
        } else if name.contains("-eval-") && name.contains("json") {
            "eval.schema.json"
        } else {
            continue;
        };
        let text = std::fs::read_to_string(&p).unwrap();
        let body = text
            .split_once("--- stdout\n")
            .and_then(|(_, r)| r.split_once("--- stderr\n"))
            .map(|(b, _)| b)
            .unwrap();
        outputs.push((kind, serde_json::from_str(body).unwrap()));
    }
    outputs.extend(extra_outputs());
    assert!(outputs.len() >= 14, "{} outputs", outputs.len());
    for file in ["why.schema.json", "eval.schema.json"] {
        let mine: Vec<Value> = outputs
            .iter()
            .filter(|(k, _)| *k == file)
            .map(|(_, j)| j.clone())
            .collect();
        assert_every_key_emitted(file, &mine);
    }
}

/// Every output validates against the shipped schema `file`, and every key the schema lists
/// is emitted by one of them.
#[track_caller]
pub fn assert_every_key_emitted(file: &str, outputs: &[Value]) {
    let s = schema(file);
    let mut seen = std::collections::BTreeMap::new();
    for j in outputs {
        assert_valid(&s, j, file);
        observed(&s, &s, "#", j, &mut seen);
    }
    let mut never = Vec::new();
    for (at, keys) in object_schemas(&s) {
        let got = seen.get(&at).cloned().unwrap_or_default();
        for k in keys {
            if !got.contains(&k) {
                never.push(format!("{at}: `{k}`"));
            }
        }
    }
    assert!(
        never.is_empty(),
        "{file} lists keys no output emits (a field removed from the types?):\n{}",
        never.join("\n")
    );
}

/// Outputs with the rarer keys: a node's `unsplit` reason and segments' `same_rows_as` (a
/// mean beside a count; `queue` repeats `team`), Welch's `df` (the mean explained), and
/// BigQuery's `summable` columns (a sum of a count and a sum).
fn extra_outputs() -> Vec<(&'static str, Value)> {
    use crate::builder::{Rows, Tree};
    use crate::segments::{BASE_DAY, CUR_DAY, why};
    let mut data = Rows::new(&["t", "wait", "team", "queue"]);
    for (day, k) in [(BASE_DAY, 0), (CUR_DAY, 1)] {
        data = data.rows(120, |i| {
            let team = if i % 2 == 0 { "a" } else { "b" };
            let wait = 10 + (i * 7 + k * 3) % 13;
            vec![
                day.into(),
                wait.to_string(),
                team.into(),
                format!("{team}q"),
            ]
        });
    }
    let csv = data.csv();
    let mixed = Tree::new("r")
        .dimensions(&["team", "queue"])
        .formula("r", "m + c")
        .mean("m", "wait")
        .count("c")
        .yaml();
    let summable = Tree::new("r")
        .dimensions(&["team"])
        .formula("r", "c + w")
        .count("c")
        .sum("w", "wait")
        .yaml();
    // A general formula (split along the line, numerically) with players, every segment.
    let players = Tree::new("r")
        .dimensions(&["team"])
        .formula("r", "w / (ca + cb)")
        .count_where("ca", "team = 'a'")
        .count_where("cb", "team = 'b'")
        .sum("w", "wait")
        .yaml()
        + "players:\n  volume: [ca, cb]\n";
    // Players whose mixed corner divides by zero: a − b is 20 in both weeks, 0 in between.
    let mut uneven = Rows::new(&["t", "wait", "team", "queue"]);
    for (day, a, b) in [(BASE_DAY, 70, 50), (CUR_DAY, 50, 30)] {
        uneven = uneven.rows(a + b, |i| {
            let team = if i < a { "a" } else { "b" };
            vec![
                day.into(),
                (5 + i % 7).to_string(),
                team.into(),
                format!("{team}q"),
            ]
        });
    }
    let undefined_corner = Tree::new("r")
        .dimensions(&["team"])
        .formula("r", "w / (ca - cb)")
        .count_where("ca", "team = 'a'")
        .count_where("cb", "team = 'b'")
        .sum("w", "wait")
        .yaml()
        + "players:\n  a: [ca]\n  b: [cb]\n";
    let with_players = why(&players, &csv, &["--segments", "all"]);
    assert_eq!(with_players["split"], "path");
    let corner = why(&undefined_corner, &uneven.csv(), &[]);
    assert_eq!(corner["players_undefined_at"], "r");
    // Two populations of one week (`--compare`): a mean (Welch) beside a count.
    let compared = {
        let dir = crate::util::TempDir::new("schema-compare");
        let t = dir.write("tree.yaml", &mixed);
        dir.write("data.csv", &csv);
        crate::util::mt(&[
            "why",
            t.to_str().unwrap(),
            "--period",
            "2026-W03",
            "--compare",
            "team=a,b",
            "--format",
            "json",
        ])
        .ok()
        .json()
    };
    assert_eq!(compared["comparison"]["current"], "b");
    vec![
        ("why.schema.json", compared),
        ("why.schema.json", with_players),
        ("why.schema.json", corner),
        ("why.schema.json", why(&mixed, &csv, &[])),
        (
            "why.schema.json",
            why(&mixed, &csv, &["--node", "m", "--by", "none"]),
        ),
        ("why.schema.json", why(&summable, &csv, &[])),
    ]
}
