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
            assert_valid(&s, &doc.to_json(), &p.display().to_string());
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
    ] {
        let out: Value = serde_json::from_str(&mt(&["schema", arg]).ok().stdout).unwrap();
        assert_eq!(out, schema(file));
    }
}
