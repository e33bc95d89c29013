//! Numbers that would lie are statuses, never numbers: a sum beyond f64's range, `NaN` and
//! `inf` in the data, and a formula that overflows are `not_finite`, named with the node and
//! the period, and never mistaken for a division by zero.

use crate::util::{TempDir, mt, node};

const TREE: &str = r#"version: 1
root: per_row
owners:
  ops: {name: Ops}
sources:
  t:
    file: t.csv
    time: created_at
nodes:
  per_row:
    owner: ops
    formula: total / rows
  total:
    measure: {source: t, agg: sum, expr: x}
  rows:
    measure: {source: t, agg: count}
"#;

fn run(csv: &str, tree: &str, args: &[&str]) -> (TempDir, crate::util::Run) {
    let d = TempDir::new("bad-data");
    d.write("t.csv", csv);
    let t = d.write("tree.yaml", tree);
    let mut a = vec![args[0], t.to_str().unwrap()];
    a.extend_from_slice(&args[1..]);
    let r = mt(&a);
    (d, r)
}

#[test]
fn a_sum_beyond_the_range_of_f64_is_not_finite() {
    let csv = "created_at,x\n2026-11-02 10:00:00,1e308\n2026-11-03 10:00:00,1e308\n2026-11-10 10:00:00,1\n";
    let (_d, r) = run(
        csv,
        TREE,
        &["eval", "--period", "2026-W45", "--format", "json"],
    );
    let j = r.ok().json();
    let total = node(&j, "total");
    assert_eq!(total["status"], "not_finite", "{total}");
    assert!(total["value"].is_null(), "{total}");
    let per_row = node(&j, "per_row");
    assert_eq!(per_row["status"], "input_undefined", "{per_row}");
    assert!(per_row["value"].is_null());
    // Text shows no number for it.
    let (_d, r) = run(csv, TREE, &["eval", "--period", "2026-W45"]);
    assert!(!r.ok().stdout.contains("inf"), "{}", r.stdout);
    // `why` names the node, the period and where the value came from.
    let (_d, r) = run(
        csv,
        TREE,
        &["why", "--period", "2026-W46", "--history", "0"],
    );
    r.fails_with(2)
        .stderr_has("`total` is not a finite number")
        .stderr_has("2026-W45")
        .stderr_has("source `t`");
}

#[test]
fn nan_and_inf_in_the_data_are_not_finite() {
    for bad in ["NaN", "inf", "-inf"] {
        let csv = format!(
            "created_at,x\n2026-11-02 10:00:00,1.5\n2026-11-03 10:00:00,{bad}\n2026-11-10 10:00:00,1\n"
        );
        let (_d, r) = run(
            &csv,
            TREE,
            &["eval", "--period", "2026-W45", "--format", "json"],
        );
        let j = r.ok().json();
        assert_eq!(node(&j, "total")["status"], "not_finite", "{bad}: {j}");
        // The denominator is 2, not zero: never reported as a division by zero.
        assert_eq!(node(&j, "rows")["value"], 2.0, "{bad}");
        assert_ne!(node(&j, "per_row")["status"], "zero_denominator", "{bad}");
    }
}

#[test]
fn a_formula_that_overflows_is_not_a_division_by_zero() {
    let tree = TREE.replace(
        "formula: total / rows",
        "formula: total * total * total / rows",
    );
    let csv = "created_at,x\n2026-11-02 10:00:00,1e200\n2026-11-10 10:00:00,1\n";
    let (_d, r) = run(
        csv,
        &tree,
        &["eval", "--period", "2026-W45", "--format", "json"],
    );
    let j = r.ok().json();
    assert_eq!(node(&j, "total")["status"], "ok");
    assert_eq!(node(&j, "per_row")["status"], "not_finite", "{j}");
    let (_d, r) = run(
        csv,
        &tree,
        &["why", "--period", "2026-W46", "--history", "0"],
    );
    r.fails_with(2).stderr_has("overflows");
    // A real division by zero keeps its status and its hint.
    let csv = "created_at,x\n2026-11-02 10:00:00,0\n2026-11-10 10:00:00,1\n";
    let tree = TREE.replace("formula: total / rows", "formula: rows / total");
    let (_d, r) = run(
        csv,
        &tree,
        &["why", "--period", "2026-W46", "--history", "0"],
    );
    r.fails_with(2)
        .stderr_has("divides by zero")
        .stderr_has("on_zero: 0");
}
