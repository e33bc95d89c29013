//! Numbers that would lie are statuses, never numbers: a sum beyond f64's range, `NaN` and
//! `inf` in the data, and a formula that overflows are `not_finite`, named with the node and
//! the period, and never mistaken for a division by zero.

use crate::util::{TempDir, mt, node};

/// The bad-file tree without its dimension, for data with only a time and a value.
fn plain_tree() -> String {
    FILE_TREE
        .replace("{extra}\n", "")
        .replace("dimensions:\n  channel: {label: Channel}\n", "")
        .replace("    dimensions: {channel: channel}\n", "")
}

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
        &plain_tree(),
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
    let (_d, r) = run(csv, &plain_tree(), &["eval", "--period", "2026-W45"]);
    assert!(!r.ok().stdout.contains("inf"), "{}", r.stdout);
    // `why` names the node, the period and where the value came from.
    let (_d, r) = run(
        csv,
        &plain_tree(),
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
            &plain_tree(),
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
    let tree = plain_tree().replace(
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
    let tree = plain_tree().replace("formula: total / rows", "formula: rows / total");
    let (_d, r) = run(
        csv,
        &tree,
        &["why", "--period", "2026-W46", "--history", "0"],
    );
    r.fails_with(2)
        .stderr_has("divides by zero")
        .stderr_has("on_zero: 0");
}

/// A tree over `t.csv` (channel, x) for the bad-file cases; `{extra}` adds source settings.
const FILE_TREE: &str = r#"version: 1
root: per_row
owners:
  ops: {name: Ops}
dimensions:
  channel: {label: Channel}
sources:
  t:
    file: t.csv
    time: created_at
    dimensions: {channel: channel}
{extra}
nodes:
  per_row:
    owner: ops
    formula: total / rows
  total:
    measure: {source: t, agg: sum, expr: x}
  rows:
    measure: {source: t, agg: count}
"#;

/// What a bad file must give.
enum Want {
    /// `check` fails (exit 1) with this code and these words, at the source's `file:` line.
    Refused(&'static str, &'static [&'static str]),
    /// `eval --period 2026-W45` succeeds with (total, rows), and stderr holds these words.
    Read(f64, f64, &'static [&'static str]),
}

fn file_cases() -> Vec<(&'static str, Vec<u8>, &'static str, Want)> {
    use Want::*;
    let h = "created_at,channel,x\n";
    let b = |s: &str| s.as_bytes().to_vec();
    vec![
        (
            "a short row",
            b(&format!(
                "{h}2026-11-02 10:00:00,chat,1\n2026-11-03 10:00:00,chat\n"
            )),
            "",
            Refused(
                "E039",
                &["line 3: has 2 fields, the header has 3", "max_bad_rows"],
            ),
        ),
        (
            "a long row",
            b(&format!(
                "{h}2026-11-02 10:00:00,chat,1\n2026-11-03 10:00:00,chat,2,9\n"
            )),
            "",
            Refused("E039", &["line 3: has 4 fields"]),
        ),
        (
            "an unclosed quote",
            b(&format!(
                "{h}2026-11-02 10:00:00,\"chat,1\n2026-11-03 10:00:00,chat,2\n"
            )),
            "",
            Refused("E039", &["line 2"]),
        ),
        (
            "bytes that are not UTF-8",
            [
                b(&format!("{h}2026-11-02 10:00:00,ch")),
                vec![0xff],
                b("at,1\n2026-11-03 10:00:00,chat,2\n"),
            ]
            .concat(),
            "",
            Refused("E039", &["line 2: column `channel` is not UTF-8"]),
        ),
        (
            "mixed delimiters",
            b(&format!(
                "{h}2026-11-02 10:00:00;chat;1\n2026-11-03 10:00:00,chat,2\n"
            )),
            "",
            Refused("E039", &["line 2: has 1 fields"]),
        ),
        (
            "a header naming a column twice",
            b("created_at,channel,x,x\n2026-11-02 10:00:00,chat,1,5\n"),
            "",
            Refused("E039", &["names `x` twice (columns 3 and 4)", "rename one"]),
        ),
        (
            "a messy export naming a column twice",
            b("created_at,channel,x,x\n2026-11-02 10:00:00,chat,1,5\n"),
            "    nulls: ['-']\n",
            Refused("E039", &["names `x` twice"]),
        ),
        (
            "numbers with thousands separators",
            b(&format!(
                "{h}2026-11-02 10:00:00,chat,\"1,200\"\n2026-11-03 10:00:00,chat,2\n"
            )),
            "",
            Refused(
                "E032",
                &["`1,200`", "thousands separators", "replace(x, ',', '')"],
            ),
        ),
        (
            "a time column with no dates",
            b(&format!("{h}soon,chat,1\nlater,chat,2\n")),
            "",
            Refused("E039", &["time_format"]),
        ),
        (
            "a missing dimension column",
            b("created_at,chanel,x\n2026-11-02 10:00:00,chat,1\n"),
            "",
            Refused("E031", &["no column `channel`", "did you mean `chanel`"]),
        ),
        ("an empty file", b(""), "", Refused("E0", &["t.csv"])),
        (
            "bad rows within max_bad_rows",
            b(&format!(
                "{h}2026-11-02 10:00:00,chat,1\n2026-11-03 10:00:00,chat\n2026-11-04 10:00:00,email,3\n"
            )),
            "    max_bad_rows: 5\n",
            Read(4.0, 2.0, &["W010", "line 3: has 2 fields"]),
        ),
        (
            "bare CR line ends",
            b("created_at,channel,x\r2026-11-02 10:00:00,chat,1\r2026-11-03 10:00:00,chat,2\r"),
            "",
            Read(3.0, 2.0, &[]),
        ),
        (
            "CRLF line ends and a BOM",
            b(
                "\u{feff}created_at,channel,x\r\n2026-11-02 10:00:00,chat,1\r\n2026-11-03 10:00:00,chat,2\r\n",
            ),
            "",
            Read(3.0, 2.0, &[]),
        ),
        (
            "a time in the year 2300",
            b(&format!(
                "{h}2300-11-02 10:00:00,chat,100\n2026-11-03 10:00:00,chat,2\n"
            )),
            "",
            Read(2.0, 1.0, &["W015", "1 of 2 rows", "in no period"]),
        ),
        (
            "an empty time cell",
            b(&format!("{h},chat,100\n2026-11-03 10:00:00,chat,2\n")),
            "",
            Read(2.0, 1.0, &["W014", "1 of 2 rows", "have no `created_at`"]),
        ),
        (
            "a quoted newline in a value",
            b(&format!(
                "{h}2026-11-02 10:00:00,\"ch\nat\",1\n2026-11-03 10:00:00,chat,2\n"
            )),
            "    nulls: ['-']\n",
            Read(3.0, 2.0, &[]),
        ),
        (
            "semicolons, detected",
            b("created_at;channel;x\n2026-11-02 10:00:00;chat;1\n2026-11-03 10:00:00;chat;2\n"),
            "    nulls: ['-']\n",
            Read(3.0, 2.0, &["W012", "delimiter `;`"]),
        ),
        (
            "null markers",
            b(&format!(
                "{h}2026-11-02 10:00:00,chat,-\n2026-11-03 10:00:00,chat,2\n"
            )),
            "    nulls: ['-']\n",
            Read(2.0, 2.0, &[]),
        ),
        (
            "duplicate rows by key",
            b(
                "id,created_at,channel,x\n1,2026-11-02 10:00:00,chat,1\n1,2026-11-02 10:00:00,chat,1\n2,2026-11-03 10:00:00,chat,2\n",
            ),
            "    key: [id]\n",
            Read(3.0, 2.0, &["W011", "line 3 repeats"]),
        ),
        (
            "day-first dates",
            b(&format!(
                "{h}03/11/2026 10:00,chat,1\n04/11/2026 10:00,chat,2\n25/11/2026 10:00,chat,5\n"
            )),
            "    time_format: day_first\n",
            Read(3.0, 2.0, &[]),
        ),
        (
            "epoch seconds",
            b(&format!("{h}1793613600,chat,1\n1793700000,chat,2\n")),
            "    time_format: epoch_seconds\n",
            Read(3.0, 2.0, &[]),
        ),
    ]
}

#[test]
fn bad_files_are_located_or_counted_never_dropped_silently() {
    let mut failures = Vec::new();
    for (what, bytes, extra, want) in file_cases() {
        let d = TempDir::new("bad-file");
        std::fs::write(d.0.join("t.csv"), &bytes).unwrap();
        let tree = FILE_TREE.replace("{extra}\n", extra);
        let t = d.write("tree.yaml", &tree);
        let t = t.to_str().unwrap();
        match want {
            Want::Refused(code, words) => {
                let r = mt(&["check", t]);
                let line = tree
                    .lines()
                    .position(|l| l.contains("file: t.csv"))
                    .unwrap()
                    + 1;
                let mut bad = Vec::new();
                if r.code != 1 {
                    bad.push(format!("exit {}", r.code));
                }
                if !r.stderr.contains(&format!("error[{code}")) {
                    bad.push(format!("no {code}"));
                }
                if !r.stderr.contains("tree.yaml:") {
                    bad.push("no place".into());
                }
                if code != "E032"
                    && code != "E031"
                    && !r.stderr.contains(&format!("tree.yaml:{line}:"))
                {
                    bad.push(format!("not at the file line {line}"));
                }
                if !r.stderr.contains("help:") {
                    bad.push("no help".into());
                }
                bad.extend(
                    words
                        .iter()
                        .filter(|w| !r.stderr.contains(**w))
                        .map(|w| format!("lacks {w:?}")),
                );
                if !bad.is_empty() {
                    failures.push(format!("{what}: {}\n{}", bad.join(", "), r.stderr));
                }
            }
            Want::Read(total, rows, words) => {
                let r = mt(&["eval", t, "--period", "2026-W45", "--format", "json"]);
                if r.code != 0 {
                    failures.push(format!("{what}: exit {}\n{}", r.code, r.stderr));
                    continue;
                }
                let j = r.json();
                let got = (
                    node(&j, "total")["value"].as_f64(),
                    node(&j, "rows")["value"].as_f64(),
                );
                if got != (Some(total), Some(rows)) {
                    failures.push(format!(
                        "{what}: got {got:?}, want ({total}, {rows})\n{}",
                        r.stderr
                    ));
                }
                for w in words {
                    if !r.stderr.contains(w) {
                        failures.push(format!("{what}: stderr lacks {w:?}\n{}", r.stderr));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// One rule for exit codes: 1 when the tree or the data it names does not check (located in
/// the tree file), 2 for a problem at run time.
#[test]
fn exit_codes_follow_one_rule() {
    let d = TempDir::new("exit-codes");
    let t = d.write("tree.yaml", &FILE_TREE.replace("{extra}\n", ""));
    let t = t.to_str().unwrap();
    // The data file the tree names is missing: exit 1, located.
    mt(&["eval", t])
        .fails_with(1)
        .stderr_has("error[E030]")
        .stderr_has("tree.yaml:9:");
    mt(&["why", t]).fails_with(1).stderr_has("error[E030]");
    mt(&["check", t]).fails_with(1).stderr_has("error[E030]");
    // A period the data does not hold, or an argument out of range: exit 2.
    d.write(
        "t.csv",
        "created_at,channel,x\n2026-11-02 10:00:00,chat,1\n2026-11-10 10:00:00,chat,1\n",
    );
    mt(&[
        "why",
        t,
        "--period",
        "2026-W46",
        "--baseline",
        "2020-W01",
        "--history",
        "0",
    ])
    .fails_with(2)
    .stderr_has("error");
    mt(&["eval", t, "--by", "nope"])
        .fails_with(2)
        .stderr_has("unknown dimension `nope`");
    // A file with only a header: the data does not check, located at the time column.
    d.write("t.csv", "created_at,channel,x\n");
    mt(&["eval", t])
        .fails_with(1)
        .stderr_has("holds no values: the data has no rows")
        .stderr_has("tree.yaml:10:");
}
