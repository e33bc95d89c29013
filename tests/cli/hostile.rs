//! A hostile tree from a pull request: SQL, filters, expressions, dimension names, data
//! values and labels that try to run commands, read files outside the tree's root, write
//! files, or rewrite the terminal. Each case asserts the exit code, the located message, and
//! that nothing was executed, written or leaked: a sentinel secret in a readable file outside
//! the tree's root never appears in any output.

use std::path::{Path, PathBuf};

use crate::util::{Run, TempDir, mt};

const SENTINEL: &str = "SENTINEL-7f3a9c";

const CSV: &str = "id,created_at,channel,moved\n\
1,2026-11-02 10:00:00,chat,true\n\
2,2026-11-03 11:00:00,email,false\n\
3,2026-11-04 12:00:00,chat,false\n\
4,2026-11-05 13:00:00,email,true\n";

/// A tree whose measures read `{src}`; `{extra}` adds sources.
const TREE: &str = r#"version: 1
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
{extra}
nodes:
  rate:
    label: Rate
    owner: ops
    unit: percent
    ratio: {numerator: moved, denominator: total}
  moved:
    measure: {source: {src}, agg: count, filter: "{filter}"}
  total:
    measure: {source: {src}, agg: count}
"#;

/// The fixture: a repository of its own (`repo/`, the tree's root), and beside it a readable
/// file holding the sentinel, and a directory where a successful write would land.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = TempDir::new("hostile");
        std::fs::create_dir_all(dir.0.join("repo/data")).unwrap();
        std::fs::create_dir_all(dir.0.join("outside")).unwrap();
        std::fs::write(dir.0.join("repo/conv.csv"), CSV).unwrap();
        std::fs::write(
            dir.0.join("outside/secret.csv"),
            format!(
                "id,created_at,channel,moved\n{SENTINEL},2026-11-02 10:00:00,{SENTINEL},true\n"
            ),
        )
        .unwrap();
        Fixture { dir }
    }

    fn repo(&self) -> PathBuf {
        self.dir.0.join("repo")
    }

    fn secret(&self) -> String {
        self.dir.0.join("outside/secret.csv").display().to_string()
    }

    fn pwned(&self) -> PathBuf {
        self.dir.0.join("outside/pwned.csv")
    }

    fn tree(&self, name: &str, text: &str) -> String {
        let p = self.repo().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    /// Runs `args` (the tree path substituted for `{tree}`), and checks that nothing leaked
    /// or was written.
    fn run(&self, args: &[&str]) -> Run {
        let r = mt(args);
        assert!(
            !r.stdout.contains(SENTINEL) && !r.stderr.contains(SENTINEL),
            "the secret leaked for {args:?}:\n{}\n{}",
            r.stdout,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(!self.pwned().exists(), "a file was written for {args:?}");
        for out in [&r.stdout, &r.stderr] {
            assert!(
                !out.contains('\u{1b}') && !out.contains('\u{202e}') && !out.contains('\u{200b}'),
                "raw control or invisible characters reached the terminal for {args:?}:\n{out:?}"
            );
        }
        r
    }
}

fn with(src: &str, extra: &str, filter: &str) -> String {
    TREE.replace("{src}", src)
        .replace("{extra}", extra)
        .replace("{filter}", filter)
}

fn sql_source(query: &str) -> String {
    let q = query.replace('\n', " ");
    with(
        "v",
        &format!(
            "  v:\n    sql: {}\n    time: created_at\n    dimensions: {{channel: channel}}",
            yaml_str(&q)
        ),
        "moved",
    )
}

/// A YAML double-quoted string.
fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// (what it tries, the payload, the exit code of `check`, a word the message must hold)
fn sql_cases(fx: &Fixture) -> Vec<(&'static str, String, i32, &'static str)> {
    let secret = fx.secret();
    let pwned = fx.pwned().display().to_string();
    vec![
        ("MySQL hint hiding DDL", format!("SELECT * FROM conv /*! ; CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{secret}' */"), 0, ""),
        ("MySQL hint hiding a union with a file", format!("SELECT * FROM conv /*! UNION ALL SELECT * FROM '{secret}' */"), 0, ""),
        ("DDL over a file", format!("CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{secret}'"), 1, ""),
        ("second statement", format!("SELECT * FROM conv; CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{secret}'"), 1, ""),
        ("second statement, both valid", "SELECT * FROM conv; DROP TABLE conv".into(), 1, "statements"),
        ("create table as", "CREATE TABLE t AS SELECT * FROM conv".into(), 1, "command"),
        ("copy to a file", format!("COPY (SELECT * FROM conv) TO '{pwned}'"), 1, "command"),
        ("a file as a table", format!("SELECT * FROM '{secret}'"), 1, ""),
        ("a file as a quoted name", format!("SELECT * FROM \"{secret}\""), 1, "not a source"),
        ("a table function reading a file", format!("SELECT * FROM read_csv('{secret}')"), 1, "table functions"),
        ("an unbounded generator", "SELECT * FROM generate_series(1, 100000000000)".into(), 1, "table functions"),
        ("range()", "SELECT * FROM range(1, 1000000000000)".into(), 1, "table functions"),
        ("unnest", "SELECT * FROM conv CROSS JOIN unnest(make_array(1, 2))".into(), 1, "table functions"),
        ("recursive CTE", "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r".into(), 1, "RECURSIVE"),
        ("catalog", "SELECT * FROM information_schema.tables".into(), 1, "not a source"),
        ("catalog in a subquery", "SELECT * FROM conv WHERE channel IN (SELECT table_name FROM information_schema.columns)".into(), 1, "not a source"),
        ("SET", "SET datafusion.execution.target_partitions = 1".into(), 1, "command"),
        ("INSERT", "INSERT INTO conv VALUES (1, '2026-11-02', 'x', true)".into(), 1, "command"),
        ("a relation that is not a source", "SELECT * FROM conv UNION ALL SELECT * FROM secret_table".into(), 1, "not a source"),
        ("EXPLAIN", "EXPLAIN SELECT * FROM conv".into(), 1, "command"),
        ("sleep", "SELECT *, pg_sleep(100) AS s FROM conv".into(), 1, "pg_sleep"),
        ("random()", "SELECT *, random() AS r FROM conv".into(), 1, "random"),
        ("now()", "SELECT *, now() AS n FROM conv".into(), 1, "now"),
        ("a trailing line comment", "SELECT * FROM conv -- ; DROP TABLE conv".into(), 0, ""),
        ("optimizer hint", "SELECT /*+ SeqScan(conv) */ * FROM conv".into(), 1, "hint"),
        ("DESCRIBE", "DESCRIBE conv".into(), 1, ""),
        ("row locks", "SELECT * FROM conv FOR UPDATE".into(), 1, "locks"),
        ("deep nesting", format!("SELECT *, {}1{} AS x FROM conv", "(".repeat(300), ")".repeat(300)), 1, "query"),
        ("a huge query", format!("SELECT *, {}1 AS x FROM conv", "1 + ".repeat(20_000)), 1, "bytes"),
        ("an engine-only function", "SELECT *, arrow_cast(channel, 'Utf8') AS c FROM conv".into(), 1, "arrow_cast"),
        ("PREPARE", "PREPARE p AS SELECT * FROM conv".into(), 1, "command"),
        ("LATERAL", "SELECT * FROM conv, LATERAL (SELECT 1 AS one) x".into(), 1, "FROM item"),
    ]
}

#[test]
fn hostile_sql_sources_are_refused_or_run_harmlessly() {
    let fx = Fixture::new();
    let cases = sql_cases(&fx);
    for (i, (what, payload, code, word)) in cases.iter().enumerate() {
        let t = fx.tree(&format!("sql{i}.yaml"), &sql_source(payload));
        let r = fx.run(&["check", &t]);
        assert_eq!(r.code, *code, "{what}: {payload}\n{}", r.stderr);
        if *code == 1 {
            assert!(r.stderr.contains("error[E036]"), "{what}:\n{}", r.stderr);
            assert!(
                r.stderr.contains(&format!("sql{i}.yaml:")),
                "{what}: no place\n{}",
                r.stderr
            );
            assert!(
                r.stderr.contains(word),
                "{what}: lacks {word:?}\n{}",
                r.stderr
            );
            // `eval` refuses the same tree before running anything.
            fx.run(&["eval", &t, "--period", "2026-W45"]).fails_with(1);
        } else {
            // What ran is the query without the comment: the data's own numbers.
            let j = fx
                .run(&["eval", &t, "--period", "2026-W45", "--format", "json"])
                .ok()
                .json();
            let rate = crate::util::node(&j, "rate")["value"].as_f64();
            assert_eq!(rate, Some(0.5), "{what}");
        }
    }
}

#[test]
fn hostile_filters_expressions_and_names_are_refused() {
    let fx = Fixture::new();
    let secret = fx.secret();
    let conv = |filter: &str| with("conv", "", filter);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "second statement in a filter",
            conv("moved; DROP TABLE conv"),
            "E036",
        ),
        (
            "breaking out of the parentheses",
            conv("moved) OR (1 = 1"),
            "E036",
        ),
        (
            "subquery over a file",
            conv(&format!("channel IN (SELECT channel FROM '{secret}')")),
            "E036",
        ),
        (
            "a file-reading function",
            conv(&format!("pg_read_file('{secret}') IS NOT NULL")),
            "E036",
        ),
        ("a placeholder", conv("$1 = 1"), "E036"),
        (
            "a collation",
            conv("lower(channel) COLLATE \\\"C\\\" = 'chat'"),
            "E036",
        ),
        ("a window in a filter", conv("count(*) OVER () > 1"), "E036"),
        (
            "a subquery as an expression",
            TREE.replace("{src}", "conv")
                .replace("{extra}", "")
                .replace(
                    "agg: count, filter: \"{filter}\"}",
                    "agg: sum, expr: \"(SELECT 1)\"}",
                ),
            "E036",
        ),
        (
            "a cast to a catalog type",
            TREE.replace("{src}", "conv")
                .replace("{extra}", "")
                .replace(
                    "agg: count, filter: \"{filter}\"}",
                    "agg: sum, expr: \"CAST(channel AS regclass)\"}",
                ),
            "E036",
        ),
        (
            "an aggregate inside an expression",
            TREE.replace("{src}", "conv")
                .replace("{extra}", "")
                .replace(
                    "agg: count, filter: \"{filter}\"}",
                    "agg: sum, expr: \"sum(id) OVER ()\"}",
                ),
            "E036",
        ),
        (
            "a dimension column that breaks out of its quotes",
            with("conv", "", "moved").replace(
                "dimensions: {channel: channel}",
                "dimensions: {channel: 'channel\" FROM conv; --'}",
            ),
            "E0",
        ),
        (
            "a time column that breaks out of its quotes",
            with("conv", "", "moved").replace(
                "time: created_at",
                "time: 'created_at\" ; DROP TABLE conv; --'",
            ),
            "E0",
        ),
    ];
    for (i, (what, text, code)) in cases.iter().enumerate() {
        let t = fx.tree(&format!("f{i}.yaml"), text);
        let r = fx.run(&["check", &t]);
        r.fails_with(1);
        assert!(r.stderr.contains(code), "{what}:\n{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("f{i}.yaml:")),
            "{what}: no place\n{}",
            r.stderr
        );
        assert!(r.stderr.contains("help:"), "{what}: no help\n{}", r.stderr);
    }
    // A comment inside a filter is dropped with the parse: the filter means `moved`.
    let t = fx.tree("comment.yaml", &conv("moved /*! OR 1 = 1 */"));
    let j = fx
        .run(&["eval", &t, "--period", "2026-W45", "--format", "json"])
        .ok()
        .json();
    assert_eq!(crate::util::node(&j, "rate")["value"].as_f64(), Some(0.5));
}

#[test]
fn hostile_data_values_are_data_and_labels_are_escaped() {
    let fx = Fixture::new();
    let values = [
        "'; DROP TABLE conv; --",
        "x' OR '1'='1",
        "\u{1b}[2J\u{1b}[31mall good",
        "evil\u{202e}gnp.exe",
        "zero\u{200b}width",
        "\"quoted\"",
    ];
    let mut csv = String::from("id,created_at,channel,moved\n");
    for (i, v) in values.iter().enumerate() {
        csv.push_str(&format!(
            "{i},2026-11-0{} 10:00:00,\"{}\",{}\n",
            2 + i % 4,
            v.replace('"', "\"\""),
            i % 2 == 0
        ));
    }
    // The week before (W44), with the opposite outcomes, so `why` has a change to explain.
    let mut before = csv.clone();
    for (i, v) in values.iter().enumerate() {
        before.push_str(&format!(
            "{},2026-10-2{} 10:00:00,\"{}\",{}\n",
            100 + i,
            6 + i % 4,
            v.replace('"', "\"\""),
            i % 2 == 1
        ));
    }
    std::fs::write(fx.repo().join("conv.csv"), &csv).unwrap();
    let tree = with("conv", "", "moved")
        .replace(
            "label: Rate",
            "label: \"Rate \\e[2J\\e[1;32mAPPROVED\\u202e\"",
        )
        .replace("{name: Ops}", "{name: \"Ops\\r\\u200bSecurity\"}");
    let t = fx.tree("values.yaml", &tree);
    fx.run(&["check", &t]).ok();
    // JSON carries every value byte for byte; the terminal sees escapes.
    let j = fx
        .run(&[
            "eval", &t, "--period", "2026-W45", "--by", "channel", "--format", "json",
        ])
        .ok()
        .json();
    let mut got: Vec<String> = j["nodes"][0]["segments"]
        .as_array()
        .unwrap_or_else(|| panic!("segments: {j}"))
        .iter()
        .map(|s| s["value_of"].as_str().unwrap_or_default().to_string())
        .collect();
    got.sort();
    let mut want: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    let text = fx
        .run(&["eval", &t, "--period", "2026-W45", "--by", "channel"])
        .ok()
        .stdout
        .clone();
    assert!(text.contains("\\u{1b}[2J"), "{text}");
    assert!(text.contains("evil\\u{202e}gnp.exe"), "{text}");
    assert!(text.contains("Ops\\r\\u{200b}Security"), "{text}");
    let why = fx.run(&[
        "why",
        &t,
        "--period",
        "2026-W45",
        "--baseline",
        "2026-W44",
        "--history",
        "0",
    ]);
    // W44 holds no rows: a runtime refusal, escaped like everything else.
    assert_ne!(why.code, 0);

    // With a week to compare, `why` succeeds: its question, table, insights (segment values),
    // owner names and the title of `eval` are all escaped (`run` fails on any raw one).
    std::fs::write(fx.repo().join("conv.csv"), &before).unwrap();
    let titled = fx.tree(
        "titled.yaml",
        &tree.replace(
            "version: 1\n",
            "version: 1\ntitle: \"Weekly \\e[2J\\u202eboard\"\n",
        ),
    );
    let why = fx
        .run(&[
            "why",
            &titled,
            "--period",
            "2026-W45",
            "--baseline",
            "2026-W44",
            "--history",
            "0",
            "--min-count",
            "0",
            "--min-support",
            "0",
            "--top",
            "10",
        ])
        .ok()
        .stdout
        .clone();
    assert!(why.contains("Why did Rate \\u{1b}[2J"), "{why}");
    assert!(why.contains("Ops\\r\\u{200b}Security"), "{why}");
    assert!(
        why.contains("channel = evil\\u{202e}gnp.exe") || why.contains("channel = \\u{1b}[2J"),
        "{why}"
    );
    let eval = fx
        .run(&["eval", &titled, "--period", "2026-W45"])
        .ok()
        .stdout
        .clone();
    assert!(
        eval.starts_with("Weekly \\u{1b}[2J\\u{202e}board"),
        "{eval}"
    );
}

#[test]
fn a_connection_string_given_for_a_variable_name_is_never_echoed() {
    let fx = Fixture::new();
    std::fs::write(fx.repo().join("conv.csv"), "id,created_at,channel,moved\n").unwrap();
    let t = fx.tree("pg.yaml", &with("conv", "", "moved"));
    let url = "postgres://u:s3cr3t-pw@db.example/support";
    for cmd in ["check", "eval", "why"] {
        let r = fx.run(&[cmd, &t, "--postgres-env", url]);
        r.fails_with(2)
            .stderr_has("the name of an environment variable");
        assert!(
            !r.stderr.contains("s3cr3t") && !r.stdout.contains("s3cr3t"),
            "{cmd}: {}",
            r.stderr
        );
    }
    let r = fx.run(&["load", &t, "--postgres-env", url]);
    r.fails_with(2)
        .stderr_has("the name of an environment variable");
    assert!(!r.stderr.contains("s3cr3t"), "load: {}", r.stderr);
}

#[test]
fn paths_outside_the_root_devices_and_globs_are_refused() {
    let fx = Fixture::new();
    let repo = fx.repo();
    let secret = fx.secret();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&secret, repo.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(fx.dir.0.join("outside"), repo.join("linkdir")).unwrap();
        let fifo = repo.join("fifo.csv");
        let ok = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(ok.is_ok_and(|s| s.success()), "mkfifo");
    }
    let file =
        |f: &str| with("conv", "", "moved").replace("file: conv.csv", &format!("file: '{f}'"));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "an absolute path outside",
            file(&secret),
            "outside the tree's reach",
        ),
        (
            "a relative path outside",
            file("../outside/secret.csv"),
            "outside the tree's reach",
        ),
        (
            "a symlink to a file outside",
            file("link.csv"),
            "outside the tree's reach",
        ),
        (
            "a symlinked directory outside",
            file("linkdir/secret.csv"),
            "outside the tree's reach",
        ),
        (
            "a system file",
            file("/etc/passwd"),
            "outside the tree's reach",
        ),
        (
            "a missing system file (no existence oracle)",
            file("/etc/no-such-file-here"),
            "outside the tree's reach",
        ),
        (
            "a glob from the filesystem root",
            file("/**/*.csv"),
            "outside the tree's reach",
        ),
        (
            "a glob outside",
            file("../outside/*.csv"),
            "outside the tree's reach",
        ),
        (
            "a glob through a symlinked directory",
            file("linkdir/*.csv"),
            "outside the tree's reach",
        ),
        ("a directory", file("data"), "is a directory"),
        ("a FIFO", file("fifo.csv"), "is a FIFO"),
        ("a device", file("/dev/zero"), "outside the tree's reach"),
        (
            "a messy-CSV option on a file outside",
            file(&secret).replace("time: created_at", "time: created_at\n    nulls: ['-']"),
            "outside the tree's reach",
        ),
    ];
    for (i, (what, text, msg)) in cases.iter().enumerate() {
        let t = fx.tree(&format!("p{i}.yaml"), text);
        let r = fx.run(&["check", &t]);
        r.fails_with(1);
        assert!(r.stderr.contains(msg), "{what}:\n{}", r.stderr);
        assert!(r.stderr.contains("error[E030]"), "{what}:\n{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("p{i}.yaml:")),
            "{what}: no place\n{}",
            r.stderr
        );
    }
    // The operator may allow more, by name: a device is then refused for what it is.
    let t = fx.tree("dev.yaml", &file("/dev/zero"));
    fx.run(&["check", &t, "--allow-path", "/dev"])
        .fails_with(1)
        .stderr_has("is a device");
    let outside = fx.dir.0.join("outside").display().to_string();
    let t = fx.tree("allowed.yaml", &file(&secret));
    fx.run(&["check", &t, "--allow-path", &outside]).ok();
    fx.run(&["check", &t, "--data-dir", &outside]).ok();
    // `inspect` reads what the operator names, but never a device or a FIFO.
    fx.run(&["inspect", "/dev/zero"])
        .fails_with(2)
        .stderr_has("is a device");
    #[cfg(unix)]
    fx.run(&["inspect", repo.join("fifo.csv").to_str().unwrap()])
        .fails_with(2)
        .stderr_has("FIFO");
}

#[test]
fn invisible_and_control_characters_are_shown_as_escapes() {
    let fx = Fixture::new();
    // An id with a zero-width space: the error shows it.
    let t = fx.tree(
        "id.yaml",
        &with("conv", "", "moved").replace("  total:\n", "  total\u{200b}:\n"),
    );
    let r = fx.run(&["check", &t]);
    r.fails_with(1)
        .stderr_has("total\\u{200b}")
        .stderr_has("invisible");
    // A reference with an escape sequence in it.
    let t = fx.tree(
        "ref.yaml",
        &with("conv", "", "moved").replace("denominator: total}", "denominator: \"tot\\e[2Jal\"}"),
    );
    fx.run(&["check", &t])
        .fails_with(1)
        .stderr_has("\\u{1b}[2J");
    // A header in a CSV export, shown by `inspect`.
    let p = fx.repo().join("hdr.csv");
    std::fs::write(&p, "id,\u{1b}]0;pwned\u{7},name\u{202e}\n1,2,3\n").unwrap();
    let r = fx.run(&["inspect", p.to_str().unwrap()]);
    r.ok();
    assert!(r.stdout.contains("\\u{1b}]0;pwned\\u{7}"), "{}", r.stdout);
    // A tree file whose name holds a newline and an escape.
    let odd = fx.repo().join("odd\n\u{1b}[2J.yaml");
    std::fs::write(&odd, "root: [").unwrap();
    let r = fx.run(&["check", odd.to_str().unwrap()]);
    r.fails_with(1).stderr_has("odd\\n\\u{1b}[2J.yaml");
}

#[test]
fn numeric_arguments_are_bounded() {
    for args in [
        &["why", "trees/handoff.yaml", "--history", "1000000000"][..],
        &[
            "why",
            "trees/handoff.yaml",
            "--baseline",
            "trailing:4000000000",
        ],
        &["why", "trees/handoff.yaml", "--baseline", "ago:99999"],
        &["why", "trees/handoff.yaml", "--top", "100000"],
        &["why", "trees/handoff.yaml", "--memory-limit", "1"],
        &["why", "trees/handoff.yaml", "--timeout", "0"],
        &[
            "demo-data",
            "--out",
            "/tmp/never",
            "--conversations",
            "100000000000",
        ],
        &["inspect", "README.md", "--rows", "1000000"],
    ] {
        let r = mt(args);
        assert_eq!(r.code, 2, "{args:?}:\n{}", r.stderr);
        assert!(
            !r.stderr.contains("panicked") && !r.stderr.contains("memory allocation"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("error"), "{args:?}: {}", r.stderr);
    }
}

/// A query that runs away — 64 million rows from a triple self-join — ends with a message
/// under `--timeout` and under `--memory-limit`, not with the OOM killer or a hang.
#[test]
fn runaway_queries_stop_at_the_limits() {
    let fx = Fixture::new();
    let mut csv = String::from("id,created_at,channel,moved\n");
    for i in 0..400 {
        csv.push_str(&format!(
            "{i},2026-11-0{} 10:00:00,c{},{}\n",
            2 + i % 4,
            i % 7,
            i % 3 == 0
        ));
    }
    std::fs::write(fx.repo().join("conv.csv"), csv).unwrap();
    let t = fx.tree(
        "runaway.yaml",
        &sql_source("SELECT a.id, a.created_at, a.channel, a.moved FROM conv a CROSS JOIN conv b CROSS JOIN conv c"),
    );
    fx.run(&["check", &t]).ok();
    let started = std::time::Instant::now();
    fx.run(&["eval", &t, "--period", "2026-W45", "--timeout", "2"])
        .fails_with(2)
        .stderr_has("time limit");
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    fx.run(&["eval", &t, "--period", "2026-W45", "--memory-limit", "64"])
        .fails_with(2)
        .stderr_has("Resources exhausted")
        .stderr_has("--memory-limit");
}

/// Paths are checked before the filesystem is touched: the message for a file outside the
/// root is the same whether it exists or not.
#[test]
fn no_existence_oracle_outside_the_root() {
    let fx = Fixture::new();
    let msg = |f: &str| {
        let t = fx.tree(
            "o.yaml",
            &with("conv", "", "moved").replace("file: conv.csv", &format!("file: '{f}'")),
        );
        let r = fx.run(&["check", &t]);
        // The carets under the path are as long as the path.
        r.stderr
            .replace(f, "PATH")
            .lines()
            .filter(|l| !l.contains('^'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let a = msg(&fx.secret());
    let b = msg(&Path::new(&fx.secret())
        .with_file_name("nope.csv")
        .display()
        .to_string());
    assert_eq!(a, b);
}

/// Tree settings have bounds too, each refused at its place with the fix.
#[test]
fn tree_settings_are_bounded() {
    let fx = Fixture::new();
    let base = with("conv", "", "moved");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a maturity beyond a year",
            base.replace("root: rate\n", "root: rate\nmaturity: 99999999999d\n"),
            "not a duration of at most 366 days",
        ),
        (
            "a negative max_bad_rows",
            base.replace(
                "    time: created_at\n    dimensions",
                "    time: created_at\n    max_bad_rows: -1\n    dimensions",
            ),
            "not a share or a count",
        ),
        (
            "an infinite target",
            base.replace(
                "    unit: percent\n",
                "    unit: percent\n    target: 1e999\n",
            ),
            "finite",
        ),
        (
            "an overflowing constant",
            base.replace(
                "    ratio: {numerator: moved, denominator: total}",
                "    formula: moved / total * 1e999",
            ),
            "not a finite number",
        ),
    ];
    for (i, (what, text, msg)) in cases.iter().enumerate() {
        let t = fx.tree(&format!("b{i}.yaml"), text);
        let r = fx.run(&["check", &t, "--no-data"]);
        r.fails_with(1);
        assert!(r.stderr.contains(msg), "{what}:\n{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("b{i}.yaml:")),
            "{what}: no place\n{}",
            r.stderr
        );
    }
}
