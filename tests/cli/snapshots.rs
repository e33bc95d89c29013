//! Snapshots of what users read: `check`, `eval` and `why` (text and JSON) for the bundled
//! example and every recipe tree, and the BPIC 2013 tree on the real incident log. They were
//! taken before the layers were restructured (issue 13), so a refactor that changes one
//! byte of output fails here; an intended change is reviewed with `cargo insta review` (or
//! accepted with `INSTA_UPDATE=always cargo test snapshots`) and explained in its commit.

use crate::util::mt;

/// Runs the binary and renders everything a user sees: exit code, stdout and stderr.
fn seen(args: &[&str]) -> String {
    let run = mt(args);
    format!(
        "$ metrictree {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    )
}

/// `check`, `eval` and `why` of one tree in text and JSON, each its own snapshot.
fn snapshot_tree(name: &str, extra: &[&str]) {
    let tree = format!("trees/{name}.yaml");
    let runs: [(&str, Vec<&str>); 6] = [
        ("check", vec!["check", &tree]),
        ("check-no-data", vec!["check", &tree, "--no-data"]),
        ("eval", vec!["eval", &tree]),
        ("eval-json", vec!["eval", &tree, "--format", "json"]),
        ("why", vec!["why", &tree]),
        ("why-json", vec!["why", &tree, "--format", "json"]),
    ];
    for (kind, mut args) in runs {
        args.extend_from_slice(extra);
        insta::assert_snapshot!(format!("{name}-{kind}"), seen(&args));
    }
}

#[test]
fn handoff() {
    snapshot_tree("handoff", &[]);
}

#[test]
fn handoff_branch_and_segments() {
    let t = "trees/handoff.yaml";
    for (name, args) in [
        (
            "handoff-eval-by-channel",
            vec!["eval", t, "--by", "channel"],
        ),
        (
            "handoff-eval-by-channel-json",
            vec!["eval", t, "--by", "channel", "--format", "json"],
        ),
        (
            "handoff-why-routing",
            vec!["why", t, "--node", "routing_rate"],
        ),
        (
            "handoff-why-routing-json",
            vec!["why", t, "--node", "routing_rate", "--format", "json"],
        ),
        (
            "handoff-why-trailing-json",
            vec!["why", t, "--baseline", "trailing:4", "--format", "json"],
        ),
        (
            "handoff-why-branches-only",
            vec!["why", t, "--by", "none", "--history", "0"],
        ),
    ] {
        insta::assert_snapshot!(name, seen(&args));
    }
}

#[test]
fn zendesk() {
    snapshot_tree("zendesk", &[]);
}

#[test]
fn intercom() {
    snapshot_tree("intercom", &[]);
}

#[test]
fn servicenow() {
    snapshot_tree("servicenow", &[]);
}

#[test]
fn process_mining() {
    snapshot_tree("process-mining", &[]);
}

#[test]
fn bpic2013() {
    snapshot_tree("bpic2013", &["--allow-path", "../shared"]);
}
