//! The same tree over PostgreSQL and over files gives the same numbers, on a real server
//! (see `pg`): the bundled example loaded with `metrictree load`, weeks and months at
//! daylight-saving changes and across the year boundary (ISO 2026-W53), `timestamp` and
//! `timestamptz` columns. Injection strings stay data or are rejected; connection and
//! schema problems name the source and never the password.

use chrono::{DateTime, Datelike, NaiveDateTime};
use serde_json::Value;

use crate::pg::{Pg, closed_port, sql};
use crate::util::{Run, TempDir, mt_env};

const ENV: &str = "MT_TEST_DATABASE_URL";

/// Runs metrictree with the test database's connection string in `$MT_TEST_DATABASE_URL`.
fn mt_pg(pg: &Pg, args: &[&str]) -> Run {
    mt_env(args, &[(ENV, &pg.url)])
}

/// Asserts two JSON outputs are equal, numbers to a relative 1e-9.
#[track_caller]
pub fn same(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-6),
                "{path}: PostgreSQL {x} vs files {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<_> = x.keys().collect();
            let ky: Vec<_> = y.keys().collect();
            assert_eq!(kx, ky, "{path}: keys differ");
            for (k, v) in x {
                same(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn the_bundled_example_gives_the_same_numbers_from_postgresql() {
    let pg = Pg::start("parity");
    let tree = "trees/handoff.yaml";
    let out = mt_pg(&pg, &["load", tree, "--postgres-env", ENV]);
    out.ok();
    let rows = |f: &str| {
        std::fs::read_to_string(crate::util::root().join("examples/support").join(f))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    for (source, file) in [
        ("conversations_raw", "conversations.csv"),
        ("handoffs_raw", "handoffs.csv"),
        ("audits_raw", "audits.csv"),
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(source))
            .unwrap_or_else(|| panic!("{source} not loaded: {}", out.stdout));
        assert!(line.contains(&format!(" {} rows", rows(file))), "{line}");
    }
    // Loading again without --replace touches nothing.
    mt_pg(&pg, &["load", tree, "--postgres-env", ENV])
        .fails_with(2)
        .stderr_has("already exists");
    mt_pg(&pg, &["check", tree, "--postgres-env", ENV]).ok();

    let runs: &[&[&str]] = &[
        &["eval", "--format", "json"],
        // The week daylight saving time ends in Berlin (167-hour week... plus one hour).
        &[
            "eval", "--period", "2026-W43", "--by", "channel", "--format", "json",
        ],
        &["why", "--format", "json"],
        &[
            "why",
            "--period",
            "2026-W43",
            "--baseline",
            "2026-W40",
            "--by",
            "tier,team",
            "--format",
            "json",
        ],
        &[
            "why",
            "--baseline",
            "trailing:4",
            "--node",
            "routing_rate",
            "--depth",
            "1",
            "--format",
            "json",
        ],
    ];
    for args in runs {
        let mut files = vec![args[0], tree];
        files.extend_from_slice(&args[1..]);
        let mut db = files.clone();
        db.extend_from_slice(&["--postgres-env", ENV]);
        let from_db = mt_pg(&pg, &db);
        let from_files = mt_pg(&pg, &files);
        same(
            &from_db.ok().json(),
            &from_files.ok().json(),
            &args.join(" "),
        );
    }
    // The text report is the same too, to the printed digit.
    let text_db = mt_pg(&pg, &["why", tree, "--postgres-env", ENV]);
    let text_files = mt_pg(&pg, &["why", tree]);
    assert_eq!(text_db.ok().stdout, text_files.ok().stdout);
}

/// A tree over two event files: `local.csv` (wall-clock times in Berlin) and `utc.csv`
/// (instants with offsets), counted per period.
fn boundary_tree(grain: &str) -> String {
    format!(
        r#"version: 1
name: boundaries
root: events
companions: [chat_share]
grain: {grain}
timezone: Europe/Berlin
maturity: 0d
owners: {{o: {{name: O}}}}
dimensions: {{channel: {{label: Channel}}}}
sources:
  local_events: {{file: local.csv, time: at, dimensions: {{channel: channel}}}}
  utc_events: {{file: utc.csv, time: at, dimensions: {{channel: channel}}}}
nodes:
  events: {{formula: local_n + utc_n, owner: o}}
  local_n: {{measure: {{source: local_events, agg: count}}}}
  utc_n: {{measure: {{source: utc_events, agg: count}}}}
  chat_share: {{formula: chat / events, unit: percent}}
  chat: {{formula: local_chat + utc_chat}}
  local_chat: {{measure: {{source: local_events, agg: count, filter: "channel = 'chat'"}}}}
  utc_chat: {{measure: {{source: utc_events, agg: count, filter: "channel = 'chat'"}}}}
"#
    )
}

/// Instants on both sides of each boundary, and filler every few hours.
fn boundary_rows() -> (Vec<String>, Vec<String>) {
    let mut local: Vec<String> = [
        "2026-03-29 01:59:59", // just before the spring-forward gap
        "2026-03-29 03:00:00",
        "2026-03-29 23:59:59", // W13
        "2026-03-30 00:00:00", // W14
        "2026-10-25 02:30:00", // the ambiguous hour (wall clock: W43)
        "2026-10-25 23:59:59",
        "2026-10-26 00:00:00", // W44
        "2026-12-27 23:59:59", // W52
        "2026-12-28 00:00:00", // W53
        "2026-12-31 23:59:59",
        "2027-01-01 00:00:00", // still 2026-W53, but January
        "2027-01-03 23:59:59",
        "2027-01-04 00:00:00", // 2027-W01
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut utc: Vec<String> = [
        "2026-03-29T21:59:59Z", // 23:59:59 CEST on the 29th: W13
        "2026-03-29T22:00:00Z", // 00:00 CEST on the 30th: W14
        "2026-03-29T00:30:00+01:00",
        "2026-10-25T00:30:00Z", // 02:30 CEST, the first of the two 02:30s
        "2026-10-25T01:30:00Z", // 02:30 CET, the second
        "2026-10-25T22:59:59Z", // 23:59:59 CET: W43
        "2026-10-25T23:00:00Z", // 00:00 on the 26th: W44
        "2026-12-27T22:59:59Z", // W52
        "2026-12-27T23:00:00Z", // W53
        "2026-12-31T23:00:00Z", // 00:00 on 1 January
        "2027-01-03T22:59:59Z",
        "2027-01-03T23:00:00Z", // 2027-W01
        "2027-01-04T00:00:00+01:00",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (from, to) in [
        ("2026-03-16 00:00:00", "2026-04-12 00:00:00"),
        ("2026-10-12 00:00:00", "2026-11-08 00:00:00"),
        ("2026-12-14 00:00:00", "2027-01-17 00:00:00"),
    ] {
        let mut t = NaiveDateTime::parse_from_str(from, "%Y-%m-%d %H:%M:%S").unwrap();
        let end = NaiveDateTime::parse_from_str(to, "%Y-%m-%d %H:%M:%S").unwrap();
        while t < end {
            local.push(t.format("%Y-%m-%d %H:%M:%S").to_string());
            utc.push(
                (t + chrono::TimeDelta::minutes(17))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            );
            t += chrono::TimeDelta::hours(7);
        }
    }
    (local, utc)
}

fn channel(i: usize) -> &'static str {
    ["chat", "email", "phone"][i % 3]
}

/// The period label of a Berlin wall-clock time, computed with chrono alone.
fn label(t: NaiveDateTime, grain: &str) -> String {
    let d = t.date();
    match grain {
        "week" => format!("{}-W{:02}", d.iso_week().year(), d.iso_week().week()),
        _ => format!("{}-{:02}", d.year(), d.month()),
    }
}

fn berlin(utc: &str) -> NaiveDateTime {
    DateTime::parse_from_rfc3339(utc)
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .naive_local()
}

#[test]
fn periods_match_at_daylight_saving_changes_and_across_the_year_boundary() {
    let pg = Pg::start("boundaries");
    let (local, utc) = boundary_rows();
    let dir = TempDir::new("pg-boundaries");
    let csv = |rows: &[String]| {
        let mut s = String::from("id,at,channel\n");
        for (i, r) in rows.iter().enumerate() {
            s.push_str(&format!("{i},{r},{}\n", channel(i)));
        }
        s
    };
    dir.write("local.csv", &csv(&local));
    dir.write("utc.csv", &csv(&utc));
    let local_times: Vec<NaiveDateTime> = local
        .iter()
        .map(|s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
        .collect();
    let utc_times: Vec<NaiveDateTime> = utc.iter().map(|s| berlin(s)).collect();

    for (grain, periods) in [
        (
            "week",
            &[
                "2026-W13", "2026-W14", "2026-W43", "2026-W44", "2026-W52", "2026-W53", "2027-W01",
            ][..],
        ),
        ("month", &["2026-03", "2026-10", "2026-12", "2027-01"][..]),
    ] {
        let tree = dir.write(&format!("{grain}.yaml"), &boundary_tree(grain));
        let tree = tree.to_str().unwrap();
        mt_pg(&pg, &["load", tree, "--postgres-env", ENV, "--replace"]).ok();
        // The loader keeps the column types: wall clock stays `timestamp`, offsets `timestamptz`.
        let types = sql(
            &pg.url,
            "SELECT table_name || '.' || data_type FROM information_schema.columns \
             WHERE column_name = 'at' ORDER BY table_name",
        )
        .unwrap();
        assert_eq!(
            types,
            [
                "local_events.timestamp without time zone",
                "utc_events.timestamp with time zone"
            ]
        );
        for p in periods {
            let want = |times: &[NaiveDateTime]| {
                times.iter().filter(|t| label(**t, grain) == *p).count() as f64
            };
            let want_chat = |times: &[NaiveDateTime]| {
                times
                    .iter()
                    .enumerate()
                    .filter(|(i, t)| label(**t, grain) == *p && channel(*i) == "chat")
                    .count() as f64
            };
            let from_files = mt_pg(&pg, &["eval", tree, "--period", p, "--format", "json"]);
            let from_db = mt_pg(
                &pg,
                &[
                    "eval",
                    tree,
                    "--period",
                    p,
                    "--format",
                    "json",
                    "--postgres-env",
                    ENV,
                ],
            );
            let (f, d) = (from_files.ok().json(), from_db.ok().json());
            same(&d, &f, p);
            let value = |id: &str| crate::util::num(&crate::util::node(&d, id)["value"]);
            assert_eq!(value("local_n"), want(&local_times), "{p} local");
            assert_eq!(value("utc_n"), want(&utc_times), "{p} utc");
            assert_eq!(
                value("chat"),
                want_chat(&local_times) + want_chat(&utc_times),
                "{p} chat"
            );
        }
        // The change between the two periods around the year boundary, attributed the same.
        let (cur, base) = if grain == "week" {
            ("2026-W53", "2026-W52")
        } else {
            ("2027-01", "2026-12")
        };
        let args = [
            "why",
            tree,
            "--period",
            cur,
            "--baseline",
            base,
            "--history",
            "0",
            "--format",
            "json",
        ];
        let mut db = args.to_vec();
        db.extend_from_slice(&["--postgres-env", ENV]);
        same(
            &mt_pg(&pg, &db).ok().json(),
            &mt_pg(&pg, &args).ok().json(),
            cur,
        );
    }
}

/// Values a hostile export might hold, and names a hostile tree might use.
const HOSTILE: &[&str] = &[
    "'; DROP TABLE conversations; --",
    "x' OR '1'='1",
    "Robert'); DROP TABLE students;--",
    "\"); DELETE FROM conversations; --",
    "$1",
];

#[test]
fn injection_strings_are_data_or_rejected_never_executed() {
    let pg = Pg::start("injection");
    let dir = TempDir::new("pg-injection");
    let mut csv = String::from("id,created_at,channel,handled\n");
    for i in 0..100 {
        let value = HOSTILE[i % HOSTILE.len()].replace('"', "\"\"");
        csv.push_str(&format!(
            "{i},2026-01-{:02} 10:00:00,\"{value}\",{}\n",
            5 + (i % 14),
            i % 2 == 0
        ));
    }
    dir.write("conversations.csv", &csv);
    let tree = |source_extra: &str, filter: &str| {
        format!(
            r#"version: 1
name: inj
root: handled_rate
grain: week
timezone: UTC
maturity: 0d
owners: {{o: {{name: O}}}}
dimensions: {{channel: {{label: Channel}}}}
sources:
  conversations: {{file: conversations.csv, time: created_at, dimensions: {{channel: channel}}{source_extra}}}
nodes:
  handled_rate: {{formula: handled / all, owner: o, unit: percent}}
  handled: {{measure: {{source: conversations, agg: count, filter: {filter:?}}}}}
  all: {{measure: {{source: conversations, agg: count}}}}
"#
        )
    };
    let good = dir.write(
        "tree.yaml",
        &tree("", "handled AND channel <> 'x'' OR ''1''=''1'"),
    );
    let good = good.to_str().unwrap();
    mt_pg(&pg, &["load", good, "--postgres-env", ENV]).ok();
    let rows = || sql(&pg.url, "SELECT count(*) FROM conversations").unwrap();
    assert_eq!(rows(), ["100"]);

    // Segment values come back as data, byte for byte, the same from both engines.
    let args = [
        "eval", good, "--period", "2026-W03", "--by", "channel", "--format", "json",
    ];
    let mut db = args.to_vec();
    db.extend_from_slice(&["--postgres-env", ENV]);
    let from_db = mt_pg(&pg, &db).ok().json();
    same(
        &from_db,
        &mt_pg(&pg, &args).ok().json(),
        "eval --by channel",
    );
    let shown: std::collections::BTreeSet<&str> =
        crate::util::node(&from_db, "handled_rate")["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["value_of"].as_str())
            .collect();
    let want: std::collections::BTreeSet<&str> = HOSTILE.iter().copied().collect();
    assert_eq!(shown, want, "segment values are the data, byte for byte");
    // The filter's quoted literal is a literal: exactly the rows with that channel are left
    // out, from both engines. Rows of 2026-W03 are those dated the 12th to the 18th.
    let want_handled = (0..100)
        .filter(|i| {
            (12..=18).contains(&(5 + i % 14))
                && i % 2 == 0
                && HOSTILE[i % HOSTILE.len()] != "x' OR '1'='1"
        })
        .count() as f64;
    for extra in [&[][..], &["--postgres-env", ENV][..]] {
        let mut args = vec!["eval", good, "--period", "2026-W03", "--format", "json"];
        args.extend_from_slice(extra);
        let j = mt_pg(&pg, &args).ok().json();
        assert_eq!(
            crate::util::num(&crate::util::node(&j, "handled")["value"]),
            want_handled
        );
    }

    // Hostile filters and names: rejected with the reason, or read as names that do not exist.
    let cases: Vec<(String, &str)> = vec![
        (tree("", "handled; DROP TABLE conversations"), "E036"),
        (tree("", "handled OR (SELECT count(*) FROM pg_user) > 0"), "E036"),
        (tree("", "pg_terminate_backend(1)"), "E036"),
        (tree("", "handled) OR (1 = 1"), "E036"),
        (
            tree("", "handled")
                .replace("channel: channel}", "channel: 'channel\"; DROP TABLE conversations; --'}"),
            "E031",
        ),
        (
            format!(
                "{}\n",
                tree("", "handled").replace(
                    "{file: conversations.csv,",
                    "{postgres: {url_env: MT_TEST_DATABASE_URL, table: 'conversations; DROP TABLE conversations'},"
                )
            ),
            "E031",
        ),
        // The catalogs are not data: by their bare name (found on the search path) or qualified.
        (
            tree("", "handled").replace(
                "{file: conversations.csv,",
                "{postgres: {url_env: MT_TEST_DATABASE_URL, table: pg_authid},",
            ),
            "system catalog",
        ),
        (
            tree("", "handled").replace(
                "{file: conversations.csv,",
                "{postgres: {url_env: MT_TEST_DATABASE_URL, table: information_schema.tables},",
            ),
            "system catalog",
        ),
        (
            tree("", "handled").replace(
                "{file: conversations.csv,",
                "{postgres: {url_env: MT_TEST_DATABASE_URL, query: 'SELECT * FROM pg_catalog.pg_class'},",
            ),
            "E036",
        ),
        (
            tree("", "handled").replace(
                "{file: conversations.csv,",
                "{postgres: {url_env: MT_TEST_DATABASE_URL, query: 'SELECT * FROM conversations; DROP TABLE conversations'},",
            ),
            "E036",
        ),
        (
            tree("", "handled").replace(
                "{file: conversations.csv,",
                "{postgres: {url_env: MT_TEST_DATABASE_URL, query: 'WITH d AS (DELETE FROM conversations RETURNING *) SELECT * FROM d'},",
            ),
            "E036",
        ),
    ];
    for (i, (text, code)) in cases.iter().enumerate() {
        let t = dir.write(&format!("bad{i}.yaml"), text);
        let t = t.to_str().unwrap();
        let mut args = vec!["check", t];
        if !text.contains("postgres:") {
            args.extend_from_slice(&["--postgres-env", ENV]);
        }
        mt_pg(&pg, &args).fails_with(1).stderr_has(code);
        assert_eq!(rows(), ["100"], "case {i} changed the table");
    }

    // A function with a side effect is outside the guard's allow-list: refused before any
    // statement reaches the server (the read-only session stays as a second wall).
    sql(&pg.url, "CREATE SEQUENCE probe").unwrap();
    let writes = tree("", "handled").replace(
        "{file: conversations.csv,",
        "{postgres: {url_env: MT_TEST_DATABASE_URL, query: \"SELECT *, nextval('probe') AS n FROM conversations\"},",
    );
    let t = dir.write("writes.yaml", &writes);
    let out = mt_pg(&pg, &["eval", t.to_str().unwrap(), "--period", "2026-W03"]);
    out.fails_with(1)
        .stderr_has("E036")
        .stderr_has("the function `nextval` is not allowed");
    assert_eq!(
        sql(&pg.url, "SELECT last_value FROM probe").unwrap(),
        ["1"],
        "nextval ran"
    );
    assert_eq!(rows(), ["100"]);
}

#[test]
fn connection_and_schema_problems_name_the_source_and_never_the_password() {
    let pg = Pg::start("errors");
    let secret = pg.password();
    let dir = TempDir::new("pg-errors");
    dir.write(
        "conversations.csv",
        "id,created_at,channel\n1,2026-01-05 10:00:00,chat\n2,2026-01-13 10:00:00,email\n",
    );
    let tree = |source: &str, filter: &str| {
        format!(
            r#"version: 1
name: errs
root: n
grain: week
timezone: UTC
maturity: 0d
owners: {{o: {{name: O}}}}
dimensions: {{channel: {{label: Channel}}}}
sources:
  conversations: {{{source}, time: created_at, dimensions: {{channel: channel}}}}
  files: {{file: conversations.csv, time: created_at}}
nodes:
  n: {{formula: a + b, owner: o}}
  a: {{measure: {{source: conversations, agg: count, filter: {filter:?}}}}}
  b: {{measure: {{source: files, agg: count}}}}
"#
        )
    };
    let db = "postgres: {url_env: MT_TEST_DATABASE_URL, table: conversations}";
    let loader = dir.write("loader.yaml", &tree("file: conversations.csv", "true"));
    mt_pg(
        &pg,
        &["load", loader.to_str().unwrap(), "--postgres-env", ENV],
    )
    .ok();
    // Only the file source `conversations` and `files` were loaded: `files` is a table too.
    assert_eq!(
        sql(&pg.url, "SELECT count(*) FROM conversations").unwrap(),
        ["2"]
    );

    let check = |name: &str, text: &str, env: &[(&str, &str)]| -> Run {
        let t = dir.write(name, text);
        let out = mt_env(&["check", t.to_str().unwrap()], env);
        assert!(
            !out.stderr.contains(&secret) && !out.stdout.contains(&secret),
            "{name}: the password was printed:\n{}",
            out.stderr
        );
        out
    };
    let good = check(
        "good.yaml",
        &tree(db, "channel = 'chat'"),
        &[(ENV, &pg.url)],
    );
    good.ok();

    check("unset.yaml", &tree(db, "true"), &[])
        .fails_with(1)
        .stderr_has("E040")
        .stderr_has("source `conversations`")
        .stderr_has("MT_TEST_DATABASE_URL` is not set");
    let unreachable = format!(
        "postgres://metrictree:{secret}@127.0.0.1:{}/postgres?connect_timeout=5",
        closed_port()
    );
    check("down.yaml", &tree(db, "true"), &[(ENV, &unreachable)])
        .fails_with(1)
        .stderr_has("E042")
        .stderr_has("cannot reach PostgreSQL at metrictree@127.0.0.1:")
        .stderr_has("start the server");
    check(
        "password.yaml",
        &tree(db, "true"),
        &[(ENV, &pg.url_with_password("wrong-password"))],
    )
    .fails_with(1)
    .stderr_has("E043")
    .stderr_has("refused the credentials of user `metrictree`");
    check(
        "garbled.yaml",
        &tree(db, "true"),
        &[(
            ENV,
            &format!("postgres://metrictree:{secret}@127.0.0.1:notaport/x"),
        )],
    )
    .fails_with(1)
    .stderr_has("E041");
    check(
        "table.yaml",
        &tree(
            &db.replace("table: conversations", "table: conversation"),
            "true",
        ),
        &[(ENV, &pg.url)],
    )
    .fails_with(1)
    .stderr_has("E031")
    .stderr_has("table `conversation` does not exist")
    .stderr_has("did you mean `conversations`");
    check(
        "column.yaml",
        &tree(db, "chanel = 'chat'"),
        &[(ENV, &pg.url)],
    )
    .fails_with(1)
    .stderr_has("node `a`")
    .stderr_has("chanel");
    // Only the database knows this one: text compared with a number.
    check("types.yaml", &tree(db, "channel = 1"), &[(ENV, &pg.url)])
        .fails_with(1)
        .stderr_has("E034")
        .stderr_has("node `a` does not run in PostgreSQL (source `conversations`)");
    // The connection string itself in the tree: refused, and not repeated.
    let leaked = tree(
        &db.replace(
            "MT_TEST_DATABASE_URL",
            &format!("'postgres://metrictree:{secret}@db/x'"),
        ),
        "true",
    );
    check("leak.yaml", &leaked, &[])
        .fails_with(1)
        .stderr_has("E037");
    // A SQL source may not mix the database and files.
    let mixed = tree(db, "true")
        .replace(
            "\nnodes:",
            "\n  both: {sql: 'SELECT c.created_at FROM conversations c JOIN files f ON f.id = c.id', time: created_at}\nnodes:",
        )
        .replace("source: files", "source: both");
    check("mixed.yaml", &mixed, &[(ENV, &pg.url)])
        .fails_with(1)
        .stderr_has("mixes backends");
}

#[test]
fn every_allowed_function_and_construct_means_the_same_in_both_engines() {
    let pg = Pg::start("functions");
    let dir = TempDir::new("pg-functions");
    let mut csv = String::from("t,v,c\n");
    let values = ["2.5", "-2.5", "0", "1.25", "", "-0.5", "3"];
    let texts = ["abc", "Bcd", "  x ", "ümlaut", "", "a%b", "Zz"];
    for i in 0..21 {
        csv.push_str(&format!(
            "2026-01-{:02} {:02}:{:02}:07,{},{}\n",
            5 + i % 7,
            (i * 5) % 24,
            (i * 13) % 60,
            values[i % values.len()],
            texts[(i * 3) % texts.len()]
        ));
    }
    dir.write("d.csv", &csv);
    let exprs = [
        "coalesce(nullif(v, 0), 1)",
        "greatest(v, 1) + least(v, 2)",
        "abs(v)",
        "round(v)",
        "round(v * 10, 1)",
        "floor(v) + ceil(v)",
        "sqrt(abs(v)) + ln(abs(v) + 1) + exp(0) + power(v, 2)",
        "CAST(v * 2 AS INTEGER) % 3",
        "length(lower(upper(c)))",
        "char_length(btrim(ltrim(rtrim(c))))",
        "length(substr(c, 2, 2)) + length(SUBSTRING(c FROM 2))",
        "length(trim(c))",
        "length(replace(c, 'a', 'bb')) + length(concat(c, 'x', c)) + length(c || '!')",
        "strpos(c, 'b') + length(left(c, 2)) + length(right(c, 2))",
        "date_part('hour', t) + EXTRACT(MINUTE FROM t) + EXTRACT(DOW FROM t)",
        "EXTRACT(EPOCH FROM t) - date_part('epoch', date_trunc('day', t))",
        "CASE WHEN v::integer > 1 THEN CAST(v AS NUMERIC) WHEN c IS NULL THEN -1 ELSE 0.5 END",
        "CAST(v > 1 AS INTEGER) + CAST(CAST(v AS BIGINT) AS DOUBLE PRECISION)",
        "date_part('day', CAST(CAST(t AS DATE) AS TIMESTAMP))",
        "CASE c WHEN 'abc' THEN 1 WHEN 'Bcd' THEN 2 END",
    ];
    let filters = [
        "c LIKE 'a%'",
        "c ILIKE 'b%' OR c NOT LIKE '%z'",
        "c IN ('abc', 'Zz') AND v NOT IN (0, 3)",
        "v BETWEEN -1 AND 2.5",
        "v NOT BETWEEN 0 AND 1 AND c IS NOT NULL",
        "(v > 0) IS TRUE",
        "(v > 0) IS NOT FALSE",
        "NOT (v < 0 OR c = 'Zz')",
        "c <> 'abc' AND v >= -2.5 AND v != 3",
        "c LIKE 'a\\%b' OR c = 'a%b'",
    ];
    let mut nodes = String::new();
    let mut ids = Vec::new();
    for (i, e) in exprs.iter().enumerate() {
        nodes.push_str(&format!(
            "  e{i}: {{measure: {{source: s, agg: sum, expr: {e:?}}}}}\n  m{i}: {{measure: {{source: s, agg: mean, expr: {e:?}}}}}\n"
        ));
        ids.extend([format!("e{i}"), format!("m{i}")]);
    }
    for (i, f) in filters.iter().enumerate() {
        nodes.push_str(&format!(
            "  f{i}: {{measure: {{source: s, agg: count, filter: {f:?}}}}}\n"
        ));
        ids.push(format!("f{i}"));
    }
    let tree = format!(
        "version: 1\nname: fns\nroot: n\ngrain: week\ntimezone: UTC\nmaturity: 0d\nowners: {{o: {{name: O}}}}\n\
sources:\n  s: {{file: d.csv, time: t}}\nnodes:\n  n: {{formula: {}, owner: o}}\n{nodes}",
        ids.join(" + ")
    );
    let tree = dir.write("fns.yaml", &tree.replace("\\\n", ""));
    let tree = tree.to_str().unwrap();
    mt_pg(&pg, &["load", tree, "--postgres-env", ENV]).ok();
    mt_pg(&pg, &["check", tree, "--postgres-env", ENV]).ok();
    let args = ["eval", tree, "--period", "2026-W02", "--format", "json"];
    let mut db = args.to_vec();
    db.extend_from_slice(&["--postgres-env", ENV]);
    let (d, f) = (mt_pg(&pg, &db).ok().json(), mt_pg(&pg, &args).ok().json());
    same(&d, &f, "functions");
    for id in &ids {
        let v = &crate::util::node(&d, id)["value"];
        assert!(v.is_number(), "{id} is {v}");
    }
}

/// The event-log derivation runs inside PostgreSQL when the events live there: every recipe
/// tree and the BPI Challenge 2013 log give the same cases, causes and coverage as from files.
#[test]
fn event_logs_derive_the_same_inside_postgresql() {
    let pg = Pg::start("event_logs");
    // (tree, period, a dimension for eval --by)
    let runs = [
        ("trees/zendesk.yaml", "2026-W11", "priority"),
        ("trees/intercom.yaml", "2026-W11", "source_type"),
        ("trees/servicenow.yaml", "2026-W11", "category"),
        ("trees/process-mining.yaml", "2026-W11", "first_channel"),
        ("trees/bpic2013.yaml", "2012-05", "first_tier"),
    ];
    for (tree, period, by) in runs {
        // The trees share source names (`events`): each replaces the last one's tables.
        // The BPI Challenge log lives in ../shared, outside the repository: allowed by name.
        let allow = ["--allow-path", "../shared"];
        mt_pg(
            &pg,
            &[
                &["load", tree, "--postgres-env", ENV, "--replace"][..],
                &allow,
            ]
            .concat(),
        )
        .ok();
        mt_pg(
            &pg,
            &[&["check", tree, "--postgres-env", ENV][..], &allow].concat(),
        )
        .ok();
        let evals: [&[&str]; 2] = [
            &[
                "eval",
                tree,
                "--period",
                period,
                "--by",
                by,
                "--format",
                "json",
                "--allow-path",
                "../shared",
            ],
            &[
                "why",
                tree,
                "--period",
                period,
                "--format",
                "json",
                "--allow-path",
                "../shared",
            ],
        ];
        for files in evals {
            let mut db = files.to_vec();
            db.extend_from_slice(&["--postgres-env", ENV]);
            let from_db = mt_pg(&pg, &db);
            let from_files = mt_pg(&pg, files);
            let (a, b) = (from_db.ok().json(), from_files.ok().json());
            assert!(
                a["transfer_causes"][0]["periods"][0]["transfers"]
                    .as_u64()
                    .is_some_and(|n| n > 0),
                "{tree}: {a}"
            );
            same(&a, &b, &files.join(" "));
        }
    }
}
