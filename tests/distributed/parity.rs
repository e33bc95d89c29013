//! The cluster answers as the local engine does: `check`, `eval`, `why` and `history` of the
//! bundled example, every recipe tree and the BPI Challenge 2013 log (`../shared`), text
//! identical and JSON numbers within 1e-9; and the scheduler saw both executors finish tasks.

use std::time::Duration;

use serde_json::Value;

use crate::cluster::{Cluster, Run, TempDir, mt};

const LIMIT: Duration = Duration::from_secs(600);

/// The trees and the flags each needs to read its data.
const TREES: &[(&str, &[&str])] = &[
    ("trees/handoff.yaml", &[]),
    ("trees/intercom.yaml", &[]),
    ("trees/servicenow.yaml", &[]),
    ("trees/zendesk.yaml", &[]),
    ("trees/process-mining.yaml", &[]),
    ("trees/bpic2013.yaml", &["--allow-path", "../shared"]),
];

/// The commands compared (after the tree); `--history 2` keeps `why` quick while still
/// reading earlier periods.
const COMMANDS: &[&[&str]] = &[
    &["check"],
    &["eval"],
    &["eval", "--format", "json"],
    &["why", "--history", "2"],
    &["why", "--history", "2", "--format", "json"],
    &["history", "--periods", "4"],
    &["history", "--periods", "4", "--format", "json"],
];

/// Equal JSON, numbers within 1e-9 (relative to the larger, or absolute below 1).
pub fn same_json(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            let scale = x.abs().max(y.abs()).max(1.0);
            if (x - y).abs() <= 1e-9 * scale {
                Ok(())
            } else {
                Err(format!("{path}: {x} vs {y}"))
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Err(format!("{path}: {} vs {} items", x.len(), y.len()));
            }
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same_json(p, q, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (Vec<_>, Vec<_>) = (x.keys().collect(), y.keys().collect());
            if kx != ky {
                return Err(format!("{path}: keys {kx:?} vs {ky:?}"));
            }
            for (k, v) in x {
                same_json(v, &y[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} vs {b}")),
    }
}

/// The local run and the cluster run of one command agree.
fn compare(local: &Run, remote: &Run, what: &str) {
    assert_eq!(
        local.code, remote.code,
        "{what}: exit {} locally, {} on the cluster\nlocal stderr:\n{}\ncluster stderr:\n{}",
        local.code, remote.code, local.stderr, remote.stderr
    );
    if what.contains("--format json") {
        let parse = |r: &Run| -> Value {
            serde_json::from_str(&r.stdout)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}", r.stdout))
        };
        if let Err(e) = same_json(&parse(local), &parse(remote), "$") {
            panic!("{what}: the cluster's JSON differs from the local engine's at {e}");
        }
    } else {
        assert_eq!(
            local.stdout, remote.stdout,
            "{what}: the cluster's text differs from the local engine's"
        );
    }
    // Warnings and errors are the same too.
    assert_eq!(local.stderr, remote.stderr, "{what}: stderr differs");
}

#[test]
fn every_tree_answers_on_the_cluster_as_in_the_local_engine() {
    let cluster = Cluster::start(2);
    let url = cluster.url();
    // Cleaned copies of messy exports (intercom's epoch seconds, servicenow's day-first
    // dates) go where the executors read them.
    let staging = TempDir::new("staging");
    let staging = staging.0.display().to_string();
    let mut compared = 0;
    for (tree, flags) in TREES {
        for command in COMMANDS {
            let mut args: Vec<&str> = vec![command[0], tree];
            args.extend_from_slice(&command[1..]);
            args.extend_from_slice(flags);
            let local = mt(&args, LIMIT);
            let mut remote_args = args.clone();
            remote_args.extend_from_slice(&["--ballista", &url, "--cache", &staging]);
            let remote = mt(&remote_args, LIMIT);
            let what = args.join(" ");
            compare(&local, &remote, &what);
            assert_eq!(local.code, 0, "{what} failed:\n{}", local.stderr);
            compared += 1;
        }
    }
    assert_eq!(compared, TREES.len() * COMMANDS.len());
    let ran = cluster.executors_that_ran_tasks();
    assert_eq!(
        ran.into_iter().collect::<Vec<_>>(),
        ["exec-1", "exec-2"],
        "both executors finish tasks (scheduler log:\n{})",
        cluster.log("scheduler")
    );
}

#[test]
fn json_numbers_compare_within_1e9() {
    let a: Value = serde_json::json!({"x": [1.0, 2.5e6, "a"], "y": 0.3});
    let b: Value = serde_json::json!({"x": [1.0 + 1e-12, 2.5e6 + 1e-4, "a"], "y": 0.3});
    assert!(same_json(&a, &b, "$").is_ok());
    let c: Value = serde_json::json!({"x": [1.0, 2.5e6 + 1.0, "a"], "y": 0.3});
    assert!(same_json(&a, &c, "$").unwrap_err().contains("$.x[1]"));
    let d: Value = serde_json::json!({"x": [1.0, 2.5e6, "b"], "y": 0.3});
    assert!(same_json(&a, &d, "$").is_err());
}

/// Files under `dir`, by relative path, with their bytes.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The owner reports and the action verdicts of the bundled example: the same bytes and
/// numbers on the cluster.
#[test]
fn reports_and_impact_are_the_same_on_the_cluster() {
    let cluster = Cluster::start(2);
    let url = cluster.url();
    let (a, b) = (TempDir::new("report-local"), TempDir::new("report-cluster"));
    let (da, db) = (a.0.display().to_string(), b.0.display().to_string());
    let local = mt(&["report", "trees/handoff.yaml", "--out", &da], LIMIT);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let remote = mt(
        &[
            "report",
            "trees/handoff.yaml",
            "--out",
            &db,
            "--ballista",
            &url,
        ],
        LIMIT,
    );
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    let (fa, fb) = (files(&a.0), files(&b.0));
    assert!(fa.len() > 3, "{} files", fa.len());
    assert_eq!(
        fa.iter().map(|f| &f.0).collect::<Vec<_>>(),
        fb.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "report file {name} differs on the cluster");
    }
    let args = ["impact", "trees/handoff.yaml", "--format", "json"];
    let local = mt(&args, LIMIT);
    let mut remote_args = args.to_vec();
    remote_args.extend_from_slice(&["--ballista", &url]);
    let remote = mt(&remote_args, LIMIT);
    compare(&local, &remote, &args.join(" "));
    assert_eq!(local.code, 0, "{}", local.stderr);
}
