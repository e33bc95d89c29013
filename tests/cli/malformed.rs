//! Malformed trees, one mistake each: `check` exits 1 and names the code, the file and the
//! line of the mistake (the line holding the case's marker), and says how to fix it. No
//! mistake also produces a second, false one (an invalid formula is not an unknown node).

use crate::check::{CSV, GOOD};
use crate::util::{TempDir, mt};

/// (what, the tree, the code, a text on the line the message must point at)
fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let r = |from: &str, to: &str| {
        assert!(GOOD.contains(from), "the fixture lacks {from:?}");
        GOOD.replacen(from, to, 1)
    };
    vec![
        (
            "an unknown unit",
            r("unit: percent", "unit: percnt"),
            "E006",
            "percnt",
        ),
        (
            "an unknown direction",
            r(
                "    unit: percent\n",
                "    unit: percent\n    direction: sideways\n",
            ),
            "E006",
            "sideways",
        ),
        (
            "an unsupported version",
            r("version: 1", "version: 9"),
            "E006",
            "version: 9",
        ),
        (
            "an unknown root",
            r("root: rate", "root: rat"),
            "E010",
            "root: rat",
        ),
        (
            "an unknown owner",
            r("    owner: ops", "    owner: opz"),
            "E012",
            "owner: opz",
        ),
        (
            "an unknown source",
            r(
                "measure: {source: conv, agg: count, filter",
                "measure: {source: conf, agg: count, filter",
            ),
            "E011",
            "source: conf",
        ),
        (
            "an unknown aggregate",
            r("agg: count, filter", "agg: cnt, filter"),
            "E006",
            "agg: cnt",
        ),
        (
            "an unknown input",
            r("denominator: total}", "denominator: totl}"),
            "E010",
            "totl",
        ),
        (
            "an unclosed parenthesis",
            r(
                "    ratio: {numerator: moved, denominator: total}",
                "    formula: moved / (total",
            ),
            "E009",
            "formula:",
        ),
        (
            "two operators in a row",
            r(
                "    ratio: {numerator: moved, denominator: total}",
                "    formula: moved / / total",
            ),
            "E009",
            "formula:",
        ),
        (
            "an infinite constant",
            r(
                "    ratio: {numerator: moved, denominator: total}",
                "    formula: moved / total * 1e999",
            ),
            "E009",
            "1e999",
        ),
        (
            "a node declared twice",
            format!("{GOOD}  total:\n    measure: {{source: conv, agg: count}}\n"),
            "E002",
            "  total:",
        ),
        (
            "an unknown top-level key",
            r("root: rate\n", "root: rate\nrooot: x\n"),
            "E003",
            "rooot",
        ),
        (
            "an unknown key in a node",
            r("unit: percent", "unti: percent"),
            "E003",
            "unti",
        ),
        (
            "a source without time",
            r("    time: created_at\n", ""),
            "E005",
            "file: conv.csv",
        ),
        (
            "a source with file and sql",
            r(
                "    file: conv.csv\n",
                "    file: conv.csv\n    sql: SELECT 1\n",
            ),
            "E008",
            "sql: SELECT 1",
        ),
        (
            "a measure without a source",
            r(
                "measure: {source: conv, agg: count}",
                "measure: {agg: count}",
            ),
            "E005",
            "measure: {agg: count}",
        ),
        (
            "an id with a dash",
            r("  total:\n", "  to-tal:\n"),
            "E007",
            "to-tal",
        ),
        (
            "a cycle",
            r(
                "measure: {source: conv, agg: count, filter: \"moved\"}",
                "formula: rate * 2",
            ),
            "E014",
            "",
        ),
        (
            "an unreachable node",
            format!("{GOOD}  orphan:\n    measure: {{source: conv, agg: count}}\n"),
            "E016",
            "orphan:",
        ),
        (
            "an unknown dimension",
            r(
                "dimensions: {channel: channel}",
                "dimensions: {chanel: channel}",
            ),
            "E013",
            "chanel",
        ),
        (
            "an unknown time zone",
            r("root: rate\n", "root: rate\ntimezone: Mars/Base\n"),
            "E006",
            "Mars/Base",
        ),
        (
            "an unknown grain",
            r("root: rate\n", "root: rate\ngrain: fortnight\n"),
            "E006",
            "fortnight",
        ),
        (
            "a bad duration",
            r("root: rate\n", "root: rate\nmaturity: 3x\n"),
            "E006",
            "maturity: 3x",
        ),
        (
            "a maturity beyond a year",
            r("root: rate\n", "root: rate\nmaturity: 9999d\n"),
            "E006",
            "maturity: 9999d",
        ),
        (
            "an e-mail without @",
            r("{name: Ops}", "{name: Ops, email: nope}"),
            "E006",
            "nope",
        ),
        (
            "a subquery in a filter",
            r("filter: \"moved\"", "filter: \"id IN (SELECT 1)\""),
            "E036",
            "SELECT 1",
        ),
        (
            "an unknown function in an expression",
            r(
                "measure: {source: conv, agg: count}",
                "measure: {source: conv, agg: sum, expr: \"foo(id)\"}",
            ),
            "E036",
            "foo(id)",
        ),
        (
            "a command as a SQL source",
            r("    file: conv.csv\n", "    sql: DROP TABLE conv\n"),
            "E036",
            "DROP TABLE",
        ),
        (
            "a YAML syntax error",
            r("  ops: {name: Ops}", "  ops: {name: Ops"),
            "E001",
            "",
        ),
        (
            "nodes as a list",
            r("nodes:\n", "nodes: [a, b]\nx:\n"),
            "E004",
            "nodes: [a, b]",
        ),
        (
            "owners as a list",
            r("owners:\n  ops: {name: Ops}\n", "owners: [ops]\n"),
            "E004",
            "owners: [ops]",
        ),
        (
            "a ratio without a denominator",
            r(
                "ratio: {numerator: moved, denominator: total}",
                "ratio: {numerator: moved}",
            ),
            "E005",
            "ratio: {numerator: moved}",
        ),
        (
            "a difference of three",
            r(
                "    ratio: {numerator: moved, denominator: total}",
                "    difference: [moved, total, moved]",
            ),
            "E008",
            "difference",
        ),
        (
            "an unknown method",
            r(
                "    unit: percent\n",
                "    unit: percent\n    method: magic\n",
            ),
            "E006",
            "magic",
        ),
        (
            "a target that is text",
            r(
                "    unit: percent\n",
                "    unit: percent\n    target: high\n",
            ),
            "E004",
            "target: high",
        ),
        (
            "an unknown companion",
            r("root: rate\n", "root: rate\ncompanions: [nope]\n"),
            "E010",
            "companions: [nope]",
        ),
        (
            "a root without an owner",
            r("    owner: ops\n", ""),
            "E020",
            "rate:",
        ),
        (
            "a key twice in a node",
            r(
                "    unit: percent\n",
                "    unit: percent\n    unit: count\n",
            ),
            "E002",
            "unit: count",
        ),
        (
            "a delimiter of two characters",
            r(
                "    time: created_at\n",
                "    time: created_at\n    delimiter: ';;'\n",
            ),
            "E006",
            "delimiter",
        ),
        (
            "a negative max_bad_rows",
            r(
                "    time: created_at\n",
                "    time: created_at\n    max_bad_rows: -1\n",
            ),
            "E006",
            "max_bad_rows",
        ),
        (
            "an infinite target",
            r(
                "    unit: percent\n",
                "    unit: percent\n    target: 1e999\n",
            ),
            "E0",
            "1e999",
        ),
        (
            "an invisible character in an id",
            r("  total:\n", "  tot\u{200b}al:\n"),
            "E007",
            "tot",
        ),
    ]
}

#[test]
fn each_mistake_is_located_with_a_fix() {
    let d = TempDir::new("malformed");
    d.write("conv.csv", CSV);
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (i, (what, text, code, marker)) in cases.iter().enumerate() {
        let p = d.write(&format!("tree{i}.yaml"), text);
        let r = mt(&["check", p.to_str().unwrap()]);
        let place = format!("tree{i}.yaml:");
        // The marker's last line (a duplicate is reported where it repeats).
        let lines: Vec<&str> = text.lines().collect();
        let line = lines
            .iter()
            .rposition(|l| l.contains(marker))
            .map(|l| l + 1);
        let problems = [
            (r.code != 1, format!("exit {}", r.code)),
            (r.stderr.contains("panicked"), "a panic".to_string()),
            (
                !r.stderr.contains(&format!("error[{code}")),
                format!("no {code}"),
            ),
            (!r.stderr.contains("help:"), "no help".to_string()),
            (!r.stderr.contains(&place), "no place".to_string()),
            (
                !marker.is_empty()
                    && !line.is_some_and(|l| r.stderr.contains(&format!("{place}{l}:"))),
                format!("not at line {line:?}"),
            ),
        ];
        for (bad, why) in problems {
            if bad {
                failures.push(format!("{what}: {why}\n{}", r.stderr));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn an_invalid_formula_is_not_also_an_unknown_node() {
    let d = TempDir::new("malformed-once");
    d.write("conv.csv", CSV);
    let tree = GOOD
        .replace("root: rate\n", "root: rate\ncompanions: [share]\n")
        .replace(
            "  moved:\n",
            "  share:\n    formula: moved / (total\n  moved:\n",
        );
    let p = d.write("tree.yaml", &tree);
    let r = mt(&["check", p.to_str().unwrap(), "--no-data"]);
    r.fails_with(1).stderr_has("error[E009]");
    assert!(!r.stderr.contains("unknown node `share`"), "{}", r.stderr);
    assert_eq!(r.stderr.matches("error[").count(), 1, "{}", r.stderr);
    // The same for the root itself.
    let tree = GOOD.replace(
        "    ratio: {numerator: moved, denominator: total}",
        "    formula: moved / (total",
    );
    let p = d.write("root.yaml", &tree);
    let r = mt(&["check", p.to_str().unwrap(), "--no-data"]);
    r.fails_with(1);
    assert!(!r.stderr.contains("unknown node `rate`"), "{}", r.stderr);
}

#[test]
fn a_tree_file_that_is_not_utf8_is_located() {
    let d = TempDir::new("malformed-utf8");
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("Ops").unwrap() + 1;
    bytes[at] = 0xff;
    let p = d.0.join("tree.yaml");
    std::fs::write(&p, bytes).unwrap();
    let r = mt(&["check", p.to_str().unwrap()]);
    r.fails_with(1)
        .stderr_has("error[E001]: the tree file is not UTF-8: byte 0xff at line 4, column 16")
        .stderr_has("tree.yaml:4:16")
        .stderr_has("help: save the file as UTF-8");
}
