//! `metrictree check`: every kind of malformed tree gets a located diagnostic with a fix.

use crate::util::{TempDir, mt};

pub const GOOD: &str = r#"version: 1
root: rate
owners:
  ops: {name: Ops}
dimensions:
  channel: {label: Channel}
sources:
  conv:
    file: conv.csv
    time: created_at
    dimensions: {channel: channel}
nodes:
  rate:
    owner: ops
    unit: percent
    ratio: {numerator: moved, denominator: total}
  moved:
    measure: {source: conv, agg: count, filter: "moved"}
  total:
    measure: {source: conv, agg: count}
"#;

pub const CSV: &str = "id,created_at,channel,moved\n1,2026-11-02 10:00:00,chat,true\n2,2026-11-03 11:00:00,email,false\n";

fn check(tree: &str) -> (TempDir, crate::util::Run) {
    let d = TempDir::new("check");
    d.write("conv.csv", CSV);
    let p = d.write("tree.yaml", tree);
    let r = mt(&["check", p.to_str().unwrap()]);
    (d, r)
}

#[test]
fn the_fixture_is_valid() {
    let (_d, r) = check(GOOD);
    r.ok();
    assert!(r.stdout.contains("is valid"), "{}", r.stdout);
}

#[test]
fn shipped_flagship_tree_is_valid_against_its_data() {
    let r = mt(&["check", "trees/handoff.yaml"]);
    r.ok();
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    let (_d, r) = check("root: rate\nnodes:\n  rate: [a, b\n  x: 1\n");
    r.fails_with(1)
        .stderr_has("error[E001]: YAML syntax error")
        .stderr_has("tree.yaml:");
    assert!(
        r.stderr.contains("help: fix the YAML syntax"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let (_d, r) = check(&GOOD.replace("    unit: percent", "    unti: percent"));
    r.fails_with(1)
        .stderr_has("error[E003]: unknown key `unti` in node `rate`")
        .stderr_has("tree.yaml:15:5")
        .stderr_has("help: did you mean `unit`?");
}

#[test]
fn unknown_node_reference_points_at_it_with_caret() {
    let (_d, r) = check(&GOOD.replace("denominator: total}", "denominator: totl}"));
    r.fails_with(1)
        .stderr_has("error[E010]: unknown node `totl`")
        .stderr_has("tree.yaml:16:44")
        .stderr_has("help: did you mean `total`?");
    assert!(r.stderr.contains("^^^^"), "{}", r.stderr);
}

#[test]
fn unknown_source_owner_and_dimension() {
    let tree = GOOD
        .replace("{source: conv, agg: count}", "{source: convs, agg: count}")
        .replace("    owner: ops", "    owner: opz")
        .replace(
            "dimensions: {channel: channel}",
            "dimensions: {chanel: channel}",
        );
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E011]: unknown source `convs`")
        .stderr_has("did you mean `conv`?")
        .stderr_has("error[E012]: unknown owner `opz`")
        .stderr_has("did you mean `ops`?")
        .stderr_has("error[E013]: unknown dimension `chanel` in source `conv`")
        .stderr_has("did you mean `channel`?");
    // All three reported in one run.
    assert!(r.stderr.contains("3 error(s)"), "{}", r.stderr);
}

#[test]
fn cycle_is_printed() {
    let tree = GOOD.replace(
        "  total:\n    measure: {source: conv, agg: count}\n",
        "  total:\n    formula: rate * 2\n",
    );
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E014]: cycle: rate → total → rate")
        .stderr_has("tree.yaml:13:3");
}

#[test]
fn formula_parse_error_has_a_caret_under_the_character() {
    let tree = GOOD.replace(
        "    ratio: {numerator: moved, denominator: total}",
        "    formula: moved / * total",
    );
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E009]: formula of node `rate`: expected a node id, a number or `(` here")
        .stderr_has("tree.yaml:16:22")
        .stderr_has("16 |     formula: moved / * total\n   |                      ^\n");
}

#[test]
fn duplicate_ids_are_reported_with_their_place() {
    let tree = format!("{GOOD}  moved:\n    measure: {{source: conv, agg: count}}\n");
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E002]: duplicate key `moved`")
        .stderr_has("tree.yaml:21:3");
    assert!(!r.stderr.contains("DuplicateKeyPolicy"), "{}", r.stderr);
}

#[test]
fn columns_are_checked_against_the_data() {
    let tree = GOOD
        .replace("filter: \"moved\"", "filter: \"moovd\"")
        .replace("time: created_at", "time: created");
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E031]: source `conv` has no column `created` (its time column)")
        .stderr_has("did you mean `created_at`?")
        .stderr_has("error[E031]: source `conv` has no column `moovd`")
        .stderr_has("did you mean `moved`?");
}

#[test]
fn missing_data_file_names_the_path_and_the_flag() {
    let tree = GOOD.replace("file: conv.csv", "file: nowhere.csv");
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E030]")
        .stderr_has("nowhere.csv")
        .stderr_has("--data-dir");
}

#[test]
fn unreachable_node_is_reported() {
    let tree = format!("{GOOD}  orphan:\n    measure: {{source: conv, agg: count}}\n");
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E016]: node `orphan` is not reachable from the root or a companion")
        .stderr_has("tree.yaml:21:3")
        .stderr_has("list it under `companions:`");
}

#[test]
fn dimension_not_mapped_by_a_leaf() {
    let tree = GOOD
        .replace(
            "    unit: percent\n",
            "    unit: percent\n    dimensions: [channel]\n",
        )
        .replace(
            "  total:\n    measure: {source: conv, agg: count}\n",
            "  total:\n    measure: {source: other, agg: count}\n",
        )
        .replace(
            "sources:\n",
            "sources:\n  other:\n    file: conv.csv\n    time: created_at\n",
        );
    let (_d, r) = check(&tree);
    r.fails_with(1)
        .stderr_has("error[E017]: node `rate` cannot be split by `channel`")
        .stderr_has("leaves that do not map it: `total` (source `other`)");
}

#[test]
fn owner_fallback_is_a_warning_not_an_error() {
    let tree = GOOD.replace(
        "  total:\n    measure: {source: conv, agg: count}\n",
        "  total:\n    measure: {source: conv, agg: count}\n  share2:\n    ratio: [total, total2]\n  total2:\n    measure: {source: conv, agg: count}\n",
    ).replace("root: rate\n", "root: rate\ncompanions: [share2]\n");
    // With two owners, each fallback is its own warning at the node.
    let two = tree.replace(
        "  ops: {name: Ops}\n",
        "  ops: {name: Ops}\n  cx: {name: CX}\n",
    );
    let (_d, r) = check(&two);
    r.ok()
        .stderr_has("warning[W001]: node `total` falls back to the root's owner")
        .stderr_has("it has 2 parents (rate, share2)");
    // With one owner, falling back changes nothing: one summary line at the root.
    let (_d, r) = check(&tree);
    r.ok()
        .stderr_has("warning[W001]: 2 node(s) without a single parent fall back to the root's owner `ops`, the tree's only owner")
        .stderr_has("they are: share2, total");
    assert_eq!(r.stderr.matches("warning[W001]").count(), 1, "{}", r.stderr);
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "---\n- 1\n- 2\n",
        "root: [1, 2]\nnodes: 3\n",
        "\u{0}\u{1}",
        "a: &a [*a]\n",
        "nodes:\n  x:\n    formula: \"((((\"\n",
    ] {
        let (_d, r) = check(text);
        r.fails_with(1);
    }
}

#[test]
fn the_documented_example_tree_is_valid() {
    let doc = std::fs::read_to_string(crate::util::root().join("docs/tree-format.md")).unwrap();
    let start = doc
        .find("```yaml")
        .expect("docs/tree-format.md has a YAML example")
        + "```yaml".len();
    let end = start + doc[start..].find("```").unwrap();
    let d = TempDir::new("doc");
    let p = d.write("example.yaml", &doc[start..end]);
    mt(&["check", "--no-data", p.to_str().unwrap()]).ok();
    // With the documented CSV beside it, the example checks, evaluates and explains.
    let cs = doc
        .find("```csv")
        .expect("docs/tree-format.md has a CSV example")
        + "```csv".len();
    let ce = cs + doc[cs..].find("```").unwrap();
    d.write("conversations.csv", doc[cs..ce].trim_start());
    let p = p.to_str().unwrap();
    mt(&["check", p]).ok();
    let j = mt(&["eval", p, "--format", "json"]).ok().json();
    assert_eq!(j["period"]["label"], "2026-W47", "{j}");
    assert_eq!(j["complete"], true);
    let r = mt(&["why", p]);
    r.ok();
    assert!(r.stdout.contains("2026-W47 vs 2026-W46"), "{}", r.stdout);
}

#[test]
fn notify_settings_are_checked_and_a_tree_cannot_name_a_webhook_url() {
    let with_owners = |owners: &str, notify: &str| {
        GOOD.replace("  ops: {name: Ops}\n", owners)
            .replace("dimensions:\n", &format!("{notify}dimensions:\n"))
    };
    // A URL where a key belongs: the tree would choose where reports go.
    let (_d, r) = check(&with_owners(
        "  ops: {name: Ops, webhook: \"https://hooks.slack.com/services/T0/B0/SENTINELxyz\"}\n",
        "",
    ));
    r.fails_with(1)
        .stderr_has("error[E046]: owner `ops` names a webhook URL in the tree")
        .stderr_has("tree.yaml:4:")
        .stderr_has("$METRICTREE_WEBHOOK_OPS");
    assert!(
        !r.stderr.contains("SENTINELxyz"),
        "the URL is shown:\n{}",
        r.stderr
    );
    let (_d, r) = check(&with_owners(
        "  ops: {name: Ops, slack: \"hooks.slack.com/services/x\"}\n",
        "",
    ));
    r.fails_with(1).stderr_has("names a slack URL");
    // Unknown owners and dimensions, a delegation circle, a date that is not one.
    let (_d, r) = check(&with_owners(
        "  ops: {name: Ops}\n  leads: {name: Leads}\n",
        "notify:\n  fallback: opz\n  mute: {ops: next-week}\n  delegate: {ops: leads, leads: ops}\n  redact: {email: [chanel]}\n  min_share: 2\n",
    ));
    r.fails_with(1)
        .stderr_has("error[E047]: unknown owner `opz` as `fallback` in `notify`")
        .stderr_has("did you mean `ops`")
        .stderr_has("error[E046]: `mute` for `ops` is not a date")
        .stderr_has("error[E047]: delegation in `notify` goes round in a circle")
        .stderr_has("ops → leads → ops")
        .stderr_has("error[E047]: unknown dimension `chanel` under `redact` in `notify`")
        .stderr_has("error[E046]: `min_share` is not between 0 and 1");
    assert_eq!(
        r.stderr.matches("goes round in a circle").count(),
        1,
        "{}",
        r.stderr
    );
    // Keys are fine.
    let (_d, r) = check(&with_owners(
        "  ops: {name: Ops, slack: \"#ops\", webhook: ops_hook}\n",
        "notify:\n  digest: false\n  mute: {ops: 2026-12-31}\n",
    ));
    r.ok();
}
