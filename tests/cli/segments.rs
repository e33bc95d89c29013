//! Segment attribution end to end (tree + CSV → `why --format json`), against published
//! references: Das Gupta's Kitagawa mix/rate example (TC8), BigQuery contribution analysis's
//! summable tutorial (TC12) and its ratio-over-rest example (TC13); plus exactness of
//! segment sums on data with vanishing and appearing segments and zero denominators.

use serde_json::Value;

use crate::util::{TempDir, close, contributions, mt, node, num, reference};

/// Two weeks in UTC: rows dated in the baseline (2026-W02) and current (2026-W03) weeks.
pub const BASE_DAY: &str = "2026-01-06 10:00:00";
pub const CUR_DAY: &str = "2026-01-13 10:00:00";

/// A tree over one CSV `data.csv` with the given dimensions and nodes (YAML under `nodes:`).
pub fn tree(dims: &[&str], nodes: &str) -> String {
    let dim_map = dims
        .iter()
        .map(|d| format!("{d}: {d}"))
        .collect::<Vec<_>>()
        .join(", ");
    let dim_decl = dims
        .iter()
        .map(|d| format!("  {d}: {{label: {d}}}\n"))
        .collect::<String>();
    format!(
        "version: 1\nname: t\nroot: r\ngrain: week\ntimezone: UTC\nmaturity: 0d\nowners: {{o: {{name: O}}}}\ndimensions:\n{dim_decl}sources:\n  s: {{file: data.csv, time: t, dimensions: {{{dim_map}}}}}\nnodes:\n{nodes}"
    )
}

/// Runs `why` on a tree and CSV in a temporary directory, comparing W03 with W02, with no
/// history and no minimums, split by `by`.
pub fn why(tree_yaml: &str, csv: &str, extra: &[&str]) -> Value {
    let dir = TempDir::new("why");
    let t = dir.write("tree.yaml", tree_yaml);
    dir.write("data.csv", csv);
    let mut args = vec![
        "why",
        t.to_str().unwrap(),
        "--period",
        "2026-W03",
        "--baseline",
        "2026-W02",
        "--history",
        "0",
        "--min-count",
        "0",
        "--min-support",
        "0",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    mt(&args).ok().json()
}

/// The segments of one dimension of a node.
pub fn dimension<'a>(j: &'a Value, node_id: &str, dim: &str) -> &'a Vec<Value> {
    node(j, node_id)["segments"]["dimensions"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["dimension"] == dim))
        .and_then(|d| d["segments"].as_array())
        .unwrap_or_else(|| panic!("no dimension `{dim}` under `{node_id}`"))
}

fn segment<'a>(segs: &'a [Value], label: &str) -> &'a Value {
    segs.iter()
        .find(|s| s["label"] == label)
        .unwrap_or_else(|| panic!("no segment `{label}`"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

#[test]
fn tc8_kitagawa_mix_and_rate_totals() {
    let case = &reference()["TC8_dasgupta_eg5.1_kitagawa_mix_rate"];
    let (s0, s1) = (floats(&case["size70"]), floats(&case["size85"]));
    let (r0, r1) = (floats(&case["rate70"]), floats(&case["rate85"]));
    let mut csv = String::from("t,age,size,events\n");
    for (day, size, rate) in [(BASE_DAY, &s0, &r0), (CUR_DAY, &s1, &r1)] {
        for g in 0..size.len() {
            csv.push_str(&format!(
                "{day},g{g:02},{},{}\n",
                size[g],
                size[g] * rate[g]
            ));
        }
    }
    let nodes = "  r:\n    owner: o\n    ratio: {numerator: e, denominator: n}\n  e: {measure: {source: s, agg: sum, expr: events}}\n  n: {measure: {source: s, agg: sum, expr: size}}\n";
    let j = why(
        &tree(&["age"], nodes),
        &csv,
        &["--by", "age", "--depth", "1"],
    );
    let want = &case["expected"];
    let tol = num(&case["tol"]);
    let r = node(&j, "r");
    close(num(&r["baseline"]), num(&want["crude0"]), tol);
    close(num(&r["current"]), num(&want["crude1"]), tol);
    let segs = dimension(&j, "r", "age");
    assert_eq!(segs.len(), 13);
    let rate: f64 = segs.iter().map(|s| num(&s["rate"])).sum();
    let mix: f64 = segs.iter().map(|s| num(&s["mix"])).sum();
    close(rate, num(&want["rate"]), tol);
    close(mix, num(&want["composition"]), tol);
    // Each segment: contribution = rate + mix; the contributions add up to the change.
    let total: f64 = segs.iter().map(|s| num(&s["contribution"])).sum();
    close(total, num(&r["delta"]), 1e-12);
    for s in segs {
        close(
            num(&s["rate"]) + num(&s["mix"]),
            num(&s["contribution"]),
            1e-12,
        );
    }
}

#[test]
fn tc12_bigquery_summable_contributors() {
    let case = &reference()["TC12_bigquery_summable_tutorial"];
    let rows = case["rows"].as_array().unwrap();
    let get = |label: &str| rows.iter().find(|r| r[0] == label).unwrap();
    let (test_total, control_total) = (num(&case["all"]["test"]), num(&case["all"]["control"]));
    // One row per contributor (its other dimensions "other"), plus the rest of the sales.
    let mut csv = String::from("t,vendor_name,city,category_name,sales\n");
    for (day, col) in [(CUR_DAY, 1), (BASE_DAY, 2)] {
        let mut rest = if col == 1 { test_total } else { control_total };
        for (label, dims) in [
            (
                "vendor_name=SAZERAC COMPANY INC",
                ["SAZERAC COMPANY INC", "other", "other"],
            ),
            (
                "vendor_name=DIAGEO AMERICAS",
                ["DIAGEO AMERICAS", "other", "other"],
            ),
            ("city=DES MOINES", ["other", "DES MOINES", "other"]),
            (
                "category_name=100% AGAVE TEQUILA",
                ["other", "other", "100% AGAVE TEQUILA"],
            ),
        ] {
            let v = num(&get(label)[col]);
            rest -= v;
            csv.push_str(&format!("{day},{},{},{},{v}\n", dims[0], dims[1], dims[2]));
        }
        csv.push_str(&format!("{day},other,other,other,{rest}\n"));
    }
    let nodes = "  r:\n    owner: o\n    measure: {source: s, agg: sum, expr: sales}\n";
    let j = why(
        &tree(&["vendor_name", "city", "category_name"], nodes),
        &csv,
        &["--depth", "1"],
    );
    assert_eq!(node(&j, "r")["segments"]["kind"], "summable");
    let (amount, ratio) = (num(&case["tol_amount"]), num(&case["tol_ratio"]));
    for row in rows {
        let label = row[0].as_str().unwrap();
        let (dim, value) = label.split_once('=').unwrap();
        let s = segment(dimension(&j, "r", dim), &format!("{dim} = {value}"));
        let m = &s["summable"];
        let abs = |got: &Value, want: &Value| {
            assert!(
                (num(got) - num(want)).abs() <= amount,
                "{label}: {got} vs {want}"
            );
        };
        abs(&s["current"], &row[1]);
        abs(&s["baseline"], &row[2]);
        abs(&m["difference"], &row[3]);
        abs(&m["unexpected_difference"], &row[5]);
        // The tutorial truncates ratios to three decimals.
        for (got, want) in [
            (&m["relative_difference"], &row[4]),
            (&m["relative_unexpected_difference"], &row[6]),
            (&m["apriori_support"], &row[7]),
        ] {
            let (g, w) = (num(got), num(want));
            assert!(g - w >= -1e-9 && g - w < ratio, "{label}: {g} vs {w}");
        }
        close(num(&s["contribution"]), num(&m["difference"]), 1e-12);
    }
}

#[test]
fn tc13_ratio_over_the_rest_of_the_population() {
    let case = &reference()["TC13_bigquery_ratio_over_complement"];
    let rows = case["rows_a_b"].as_array().unwrap();
    let mut csv = String::from("t,seg,a,b\n");
    for (k, r) in rows.iter().enumerate() {
        for day in [BASE_DAY, CUR_DAY] {
            csv.push_str(&format!("{day},s{},{},{}\n", k + 1, num(&r[0]), num(&r[1])));
        }
    }
    let nodes = "  r:\n    owner: o\n    ratio: {numerator: a, denominator: b}\n  a: {measure: {source: s, agg: sum, expr: a}}\n  b: {measure: {source: s, agg: sum, expr: b}}\n";
    let j = why(&tree(&["seg"], nodes), &csv, &["--by", "seg"]);
    let segs = dimension(&j, "r", "seg");
    let rest = |l: &str| num(&segment(segs, l)["ratio_to_rest"]);
    let want = &case["expected_published"];
    assert_eq!(
        (rest("seg = s1") * 100.0).round() / 100.0,
        num(&want["row1"])
    );
    assert_eq!(
        (rest("seg = s3") * 100.0).round() / 100.0,
        num(&want["row3"])
    );
    close(rest("seg = s2"), num(&case["computed_row2"]), 1e-4);
}

/// A small deterministic generator (no dependency on the crate's RNG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn segments_sum_to_the_change_with_vanishing_segments_and_zero_denominators() {
    // A rate over a volume, a sum of two rates, and a count; random segment counts per
    // dimension, segments present in only one week, and segments with no volume at all.
    let nodes = "  r:\n    owner: o\n    formula: x_rate + y_rate\n  x_rate:\n    ratio: {numerator: x, denominator: n}\n  y_rate:\n    ratio: {numerator: y, denominator: n}\n  x: {measure: {source: s, agg: count, filter: \"kind = 'x'\"}}\n  y: {measure: {source: s, agg: sum, expr: w, filter: \"kind = 'y'\"}}\n  n: {measure: {source: s, agg: count, filter: \"counted\"}}\n";
    for seed in 1..=6u64 {
        let mut rng = Lcg(seed * 7919);
        let k1 = 2 + rng.below(6);
        let k2 = 2 + rng.below(4);
        let mut csv = String::from("t,d1,d2,kind,w,counted\n");
        for (week, day) in [(0, BASE_DAY), (1, CUR_DAY)] {
            for _ in 0..(150 + rng.below(150)) {
                let mut a = rng.below(k1);
                // The last value of d1 exists only in the current week; value 0 only before.
                if a == k1 - 1 && week == 0 || a == 0 && week == 1 {
                    a = 1;
                }
                let b = rng.below(k2);
                let kind = ["x", "y", "z"][rng.below(3) as usize];
                // d2 = v0 rows are never counted: a zero denominator inside that segment.
                let counted = b != 0 && rng.below(10) < 8;
                csv.push_str(&format!(
                    "{day},v{a},v{b},{kind},{},{counted}\n",
                    rng.below(5)
                ));
            }
        }
        let j = why(
            &tree(&["d1", "d2"], nodes),
            &csv,
            &["--by", "d1,d2", "--depth", "2"],
        );
        for id in ["r", "x_rate", "y_rate"] {
            let n = node(&j, id);
            for d in n["segments"]["dimensions"].as_array().unwrap() {
                let sum = contributions(&d["segments"]);
                close(sum, num(&n["delta"]), 1e-12);
                close(num(&d["sum_of_contributions"]), num(&n["delta"]), 1e-12);
                for s in d["segments"].as_array().unwrap() {
                    close(
                        num(&s["rate"]) + num(&s["mix"]),
                        num(&s["contribution"]),
                        1e-12,
                    );
                }
            }
            // The zero-volume segment has an undefined rate, shown as null, not NaN.
            let zero = segment(dimension(&j, id, "d2"), "d2 = v0");
            assert!(zero["current"].is_null(), "{zero}");
            assert_eq!(num(&zero["rate"]), 0.0);
        }
        // The segment that appears: no baseline rows, its whole contribution is mix.
        let appears = segment(dimension(&j, "r", "d1"), &format!("d1 = v{}", k1 - 1));
        assert_eq!(num(&appears["rows_baseline"]), 0.0);
        close(num(&appears["mix"]), num(&appears["contribution"]), 1e-12);
    }
}

#[test]
fn the_bundled_example_splits_every_branch_exactly() {
    let j = mt(&["why", "trees/handoff.yaml", "--format", "json"])
        .ok()
        .json();
    let mut checked = 0;
    for n in j["nodes"].as_array().unwrap() {
        let Some(dims) = n["segments"]["dimensions"].as_array() else {
            continue;
        };
        for d in dims {
            close(num(&d["sum_of_contributions"]), num(&n["delta"]), 1e-12);
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} node × dimension splits");
}

#[test]
fn a_mean_leaf_rejects_by_with_the_fix() {
    mt(&[
        "why",
        "trees/handoff.yaml",
        "--node",
        "mean_pickup_wait",
        "--by",
        "channel",
    ])
    .fails_with(2)
    .stderr_has("`mean_pickup_wait` cannot be split by segments")
    .stderr_has("ratio of two sums");
}

#[test]
fn small_segments_are_suppressed_and_never_headline() {
    let j = mt(&[
        "why",
        "trees/handoff.yaml",
        "--format",
        "json",
        "--min-count",
        "400",
    ])
    .ok()
    .json();
    let mut suppressed = 0;
    for n in j["nodes"].as_array().unwrap() {
        let Some(sg) = n["segments"].as_object() else {
            continue;
        };
        for i in sg["insights"].as_array().unwrap() {
            let rows = num(&i["rows_baseline"]).max(num(&i["rows_current"]));
            assert!(rows >= 400.0, "{} headlines with {rows} rows", i["label"]);
        }
        for d in sg["dimensions"].as_array().unwrap() {
            for s in d["segments"].as_array().unwrap() {
                let rows = num(&s["rows_baseline"]).max(num(&s["rows_current"]));
                assert_eq!(s["suppressed"].as_bool().unwrap(), rows < 400.0);
                if rows < 400.0 {
                    suppressed += 1;
                    assert!(s["test"].is_null());
                }
            }
        }
    }
    assert!(suppressed > 0);
}

/// DataFusion #24421 (fixed after 55.2): GROUPING SETS over input ordered by a grouping key
/// gave wrong groups. Our aggregation reads rows kept in memory with no declared order, so
/// data sorted by its dimensions must give exactly the counts of a direct count — for every
/// grouping set `why` asks for (each dimension, and pairs).
#[test]
fn grouping_sets_over_data_sorted_by_its_dimensions_are_exact() {
    use std::collections::BTreeMap;
    let d = TempDir::new("sorted-groups");
    // Sorted by channel, then tier, then time: the order a grouping key would stream in.
    let mut rows = Vec::new();
    for (ci, channel) in ["chat", "email", "phone"].iter().enumerate() {
        for (ti, tier) in ["free", "pro"].iter().enumerate() {
            for week in [0, 1] {
                let n = 40 + 7 * ci + 11 * ti + 5 * week;
                for k in 0..n {
                    let moved = (k * (ci + 2 + week) + ti) % 5 == 0;
                    rows.push((channel.to_string(), tier.to_string(), week, k, moved));
                }
            }
        }
    }
    let mut csv = String::from("created_at,channel,tier,moved\n");
    for (c, t, week, k, moved) in &rows {
        let day = 2 + 7 * week + (k % 5);
        csv.push_str(&format!(
            "2026-11-{day:02} 10:{:02}:00,{c},{t},{moved}\n",
            k % 60
        ));
    }
    d.write("conv.csv", &csv);
    let tree = r#"version: 1
root: rate
owners:
  ops: {name: Ops}
dimensions:
  channel: {label: Channel}
  tier: {label: Tier}
sources:
  conv:
    file: conv.csv
    time: created_at
    dimensions: {channel: channel, tier: tier}
nodes:
  rate:
    owner: ops
    ratio: {numerator: moved, denominator: total}
  moved:
    measure: {source: conv, agg: count, filter: moved}
  total:
    measure: {source: conv, agg: count}
"#;
    let t = d.write("tree.yaml", tree);
    let t = t.to_str().unwrap();
    // Direct counts of the current week per segment: (moved, total).
    let mut want: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (c, tier, week, _, moved) in &rows {
        if *week != 1 {
            continue;
        }
        for key in [format!("channel={c}"), format!("tier={tier}")] {
            let e = want.entry(key).or_default();
            e.0 += f64::from(u8::from(*moved));
            e.1 += 1.0;
        }
    }
    for dim in ["channel", "tier"] {
        let j = mt(&[
            "eval", t, "--period", "2026-W46", "--by", dim, "--format", "json",
        ])
        .ok()
        .json();
        for n in ["moved", "total"] {
            for s in node(&j, n)["segments"].as_array().unwrap() {
                let key = format!("{dim}={}", s["value_of"].as_str().unwrap());
                let (m, tot) = want[&key];
                let expect = if n == "moved" { m } else { tot };
                assert_eq!(num(&s["value"]), expect, "{n} at {key}");
            }
        }
    }
    // Pairs (channel × tier) through `why`: each segment's rows in the current week.
    let j = mt(&[
        "why",
        t,
        "--period",
        "2026-W46",
        "--by",
        "channel,tier",
        "--depth",
        "2",
        "--history",
        "0",
        "--min-count",
        "1",
        "--min-support",
        "0",
        "--top",
        "100",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let mut pairs: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for (c, tier, week, _, moved) in &rows {
        if *week == 1 {
            let e = pairs.entry((c.clone(), tier.clone())).or_default();
            e.0 += f64::from(u8::from(*moved));
            e.1 += 1.0;
        }
    }
    let mut seen = 0;
    let segs = &j["nodes"][0]["segments"];
    let listed = segs["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["segments"].as_array().unwrap().iter())
        .chain(segs["insights"].as_array().unwrap().iter());
    {
        for s in listed {
            let parts = s["parts"].as_array().unwrap();
            if parts.len() != 2 {
                continue;
            }
            let value = |d: &str| {
                parts
                    .iter()
                    .find(|p| p["dimension"] == d)
                    .and_then(|p| p["value"].as_str())
                    .unwrap()
                    .to_string()
            };
            let (m, tot) = pairs[&(value("channel"), value("tier"))];
            assert_eq!(num(&s["rows_current"]), tot, "{}", s["label"]);
            assert!(
                (num(&s["current"]) - m / tot).abs() < 1e-12,
                "{}",
                s["label"]
            );
            seen += 1;
        }
    }
    assert!(
        seen >= 1,
        "no channel × tier pair among the insights: {segs}"
    );
}
