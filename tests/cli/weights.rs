//! Pre-aggregated data (`weight:` on a source): a table with one row per (day, team,
//! channel, outcome) and a count column gives exactly the numbers, intervals, segments and
//! row minimums of the conversations it summarizes — from files and from PostgreSQL — while
//! the same table without `weight:` (one draw per row) does not; bad weights stop with the
//! source, the count and the periods.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::pg::Pg;
use crate::postgres::same;
use crate::util::{TempDir, mt, mt_env};

/// Ten weeks of conversations (2026-W01 to W10), deterministic: one CSV row each, and the
/// same rows counted per (day, team, channel, transferred).
pub fn data() -> (String, String) {
    let mut raw = String::from("id,t,team,channel,transferred\n");
    let mut groups: BTreeMap<(String, &str, &str, bool), u64> = BTreeMap::new();
    let mut state: u64 = 2026;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut id = 0;
    for week in 0..10 {
        for day in 0..7 {
            let date = chrono::NaiveDate::from_ymd_opt(2025, 12, 29).unwrap()
                + chrono::Days::new(week * 7 + day);
            let t = format!("{date} 10:00:00");
            for _ in 0..40 {
                let team = ["a", "b", "c"][(next() * 3.0) as usize];
                let channel = if next() < 0.6 { "chat" } else { "email" };
                // The handoff rate rises for team b in the last week.
                let p = if team == "b" && week == 9 { 0.45 } else { 0.25 };
                let transferred = next() < p;
                id += 1;
                raw.push_str(&format!("{id},{t},{team},{channel},{transferred}\n"));
                *groups
                    .entry((t.clone(), team, channel, transferred))
                    .or_default() += 1;
            }
        }
    }
    let mut agg = String::from("t,team,channel,transferred,conversations\n");
    for ((t, team, channel, transferred), n) in groups {
        agg.push_str(&format!("{t},{team},{channel},{transferred},{n}\n"));
    }
    (raw, agg)
}

pub fn tree(file: &str, weight: Option<&str>) -> String {
    let weight = weight.map_or(String::new(), |w| format!("\n    weight: {w}"));
    format!(
        "name: weights\nroot: rate\nowners: {{ops: {{name: Ops}}}}\ndimensions: {{team: {{}}, channel: {{}}}}\nsources:\n  c:\n    file: {file}\n    time: t\n    dimensions: [team, channel]{weight}\nnodes:\n  rate:\n    owner: ops\n    unit: percent\n    ratio: [moved, total]\n  moved:\n    measure: {{source: c, agg: count, filter: transferred}}\n  total:\n    measure: {{source: c, agg: count}}\n"
    )
}

const WHY: &[&str] = &["--period", "2026-W10", "--format", "json"];

fn run(args: &[&str], tree: &std::path::Path, extra: &[&str]) -> Value {
    let mut a = vec![args[0], tree.to_str().unwrap()];
    a.extend_from_slice(&args[1..]);
    a.extend_from_slice(extra);
    mt(&a).ok().json()
}

#[test]
fn a_weighted_table_gives_the_numbers_and_intervals_of_its_rows() {
    let d = TempDir::new("weights");
    let (raw, agg) = data();
    d.write("raw.csv", &raw);
    d.write("agg.csv", &agg);
    let rows = d.write("rows.yaml", &tree("raw.csv", None));
    let weighted = d.write("weighted.yaml", &tree("agg.csv", Some("conversations")));
    let naive = d.write("naive.yaml", &tree("agg.csv", None));
    assert!(
        agg.lines().count() * 3 < raw.lines().count(),
        "the table is smaller"
    );

    // The same output: values, contributions, tests and intervals, every segment and its
    // row counts (`--min-count` compares with them), and the headline.
    for args in [
        &[
            "why",
            "--period",
            "2026-W10",
            "--segments",
            "all",
            "--format",
            "json",
        ][..],
        &[
            "eval", "--period", "2026-W10", "--by", "team", "--format", "json",
        ][..],
        &["history", "--periods", "10", "--format", "json"][..],
    ] {
        let a = run(args, &rows, &[]);
        let b = run(args, &weighted, &[]);
        // Numbers to 1e-9 relative: a row's weighted square (w·v, rounded once) and w copies of
        // v summed exactly may differ in the last bit.
        same(&b, &a, &args.join(" "));
    }
    let a = run(&["why"], &rows, WHY);
    let root = &a["nodes"][0];
    assert_eq!(root["test"]["verdict"], "beyond_noise");
    assert!(a["noise"]["segments_tested"].as_u64().unwrap() > 0);

    // Without the weight, each table row is one draw: the counts are rows, not conversations.
    let n = run(&["why"], &naive, WHY);
    let total = |j: &Value| {
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == "total")
            .unwrap()["current"]
            .as_f64()
            .unwrap()
    };
    assert!(
        total(&n) < total(&a) / 3.0,
        "{} vs {}",
        total(&n),
        total(&a)
    );
}

#[test]
fn bad_weights_stop_with_the_source_the_count_and_the_periods() {
    let d = TempDir::new("badweights");
    let (_, agg) = data();
    // Two rows of W10 lose their weight: one negative, one missing.
    let mut lines: Vec<String> = agg.lines().map(String::from).collect();
    let n = lines.len();
    for (k, l) in lines.iter_mut().skip(n - 2).enumerate() {
        let cut = l.rfind(',').unwrap();
        l.truncate(cut + 1);
        if k == 0 {
            l.push_str("-3");
        }
    }
    d.write("agg.csv", &(lines.join("\n") + "\n"));
    let t = d.write("t.yaml", &tree("agg.csv", Some("conversations")));
    mt(&["why", t.to_str().unwrap(), "--period", "2026-W10"])
        .fails_with(2)
        .stderr_has("source `c`: 2 rows in 2026-W10")
        .stderr_has("column `conversations`")
        .stderr_has("missing, negative or not a finite number")
        .stderr_has(&format!(
            "the file's first such rows: line {} (negative), line {} (missing)",
            n - 1,
            n
        ));
    // A weight column that is text, or absent, is found by `check` with its line.
    let text = agg.replacen(",1\n", ",one\n", 1);
    d.write("text.csv", &text);
    let t = d.write("text.yaml", &tree("text.csv", Some("conversations")));
    mt(&["check", t.to_str().unwrap()])
        .fails_with(1)
        .stderr_has("weight column `conversations` of source `c` holds")
        .stderr_has("not numbers")
        .stderr_has("text.yaml:10:");
    let t = d.write("absent.yaml", &tree("agg.csv", Some("convs")));
    mt(&["check", t.to_str().unwrap()])
        .fails_with(1)
        .stderr_has("source `c` has no column `convs` (its weight column)")
        .stderr_has("conversations");
}

/// The same weighted table inside PostgreSQL gives the same numbers, for two periods and for
/// two populations (`why --compare`: every grouping set fixes the compared dimension).
#[test]
fn a_weighted_table_in_postgresql_gives_the_same_numbers() {
    let pg = Pg::start("weights");
    let d = TempDir::new("pgweights");
    let (_, agg) = data();
    d.write("agg.csv", &agg);
    let t = d.write("weighted.yaml", &tree("agg.csv", Some("conversations")));
    let t = t.to_str().unwrap();
    let env = [("MT_WEIGHTS_URL", pg.url.as_str())];
    mt_env(&["load", t, "--postgres-env", "MT_WEIGHTS_URL"], &env).ok();
    for args in [WHY, crate::compare::COMPARE] {
        let mut files = vec!["why", t];
        files.extend_from_slice(args);
        let mut db = files.clone();
        db.extend_from_slice(&["--postgres-env", "MT_WEIGHTS_URL"]);
        let a = mt_env(&files, &env).ok().json();
        let b = mt_env(&db, &env).ok().json();
        same(&b, &a, &args.join(" "));
    }
}
