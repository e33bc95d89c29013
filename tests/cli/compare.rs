//! `why --compare DIM=A,B`: two populations of one period. A published two-population
//! decomposition (Sweden and Kazakhstan, 1992: composition against rates) reproduced and
//! recomputed independently; on generated data, every number against a hand computation
//! from the raw rows, the same answer from a weighted table (and from PostgreSQL, in
//! `weights`), and no
//! over-dispersion from history; bad requests named with their fix.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::postgres::same;
use crate::segments::dimension;
use crate::util::{TempDir, close, contributions, mt, node, num};
use crate::weights;

/// Mid-year population and deaths by age, Kazakhstan and Sweden, 1992: Preston, Heuveline &
/// Guillot (2001), *Demography: Measuring and Modeling Population Processes*, Table 2.1, as
/// transcribed by G. Rodríguez for Princeton's demographic methods course ("Rates and
/// Standardization", datasets/preston21long.dat). (age group, population, deaths).
const KAZAKHSTAN: [(&str, f64, f64); 19] = [
    ("0", 174078.0, 3720.0),
    ("01-4", 754758.0, 1220.0),
    ("05-9", 879129.0, 396.0),
    ("10-14", 808510.0, 298.0),
    ("15-19", 720161.0, 561.0),
    ("20-24", 622988.0, 673.0),
    ("25-29", 733057.0, 752.0),
    ("30-34", 732312.0, 965.0),
    ("35-39", 612825.0, 1113.0),
    ("40-44", 487996.0, 1405.0),
    ("45-49", 284799.0, 1226.0),
    ("50-54", 503608.0, 2878.0),
    ("55-59", 301879.0, 3266.0),
    ("60-64", 374317.0, 5212.0),
    ("65-69", 256247.0, 6866.0),
    ("70-74", 154623.0, 6182.0),
    ("75-79", 149917.0, 8199.0),
    ("80-84", 88716.0, 9013.0),
    ("85+", 58940.0, 10627.0),
];
const SWEDEN: [(&str, f64, f64); 19] = [
    ("0", 59727.0, 279.0),
    ("01-4", 229775.0, 42.0),
    ("05-9", 245172.0, 31.0),
    ("10-14", 240110.0, 33.0),
    ("15-19", 264957.0, 61.0),
    ("20-24", 287176.0, 87.0),
    ("25-29", 311111.0, 98.0),
    ("30-34", 280991.0, 140.0),
    ("35-39", 286899.0, 197.0),
    ("40-44", 308238.0, 362.0),
    ("45-49", 320172.0, 643.0),
    ("50-54", 242230.0, 738.0),
    ("55-59", 210785.0, 972.0),
    ("60-64", 216058.0, 1640.0),
    ("65-69", 224479.0, 2752.0),
    ("70-74", 222578.0, 4509.0),
    ("75-79", 184102.0, 6745.0),
    ("80-84", 140667.0, 9587.0),
    ("85+", 110242.0, 17340.0),
];

/// The published results (deaths per 1,000, Sweden − Kazakhstan): crude rates 10.54756 and
/// 7.423042, difference 3.124519 = composition +7.632422 + rates −4.507903 (Kitagawa's
/// decomposition with the two populations' average composition and average rates).
const PUBLISHED: [f64; 5] = [10.54756, 7.423042, 3.124519, 7.632422, -4.507903];

/// Kitagawa's decomposition computed here from the table, independently of the engine:
/// (crude rate A, crude rate B, composition, rates, per age the rate term w̄·Δr).
fn kitagawa(a: &[(&str, f64, f64)], b: &[(&str, f64, f64)]) -> (f64, f64, f64, f64, Vec<f64>) {
    let total = |p: &[(&str, f64, f64)]| p.iter().map(|x| x.1).sum::<f64>();
    let (na, nb) = (total(a), total(b));
    let crude = |p: &[(&str, f64, f64)], n: f64| 1000.0 * p.iter().map(|x| x.2).sum::<f64>() / n;
    let (mut comp, mut rate, mut per_age) = (0.0, 0.0, Vec::new());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.0, y.0);
        let (wa, wb) = (x.1 / na, y.1 / nb);
        let (ra, rb) = (1000.0 * x.2 / x.1, 1000.0 * y.2 / y.1);
        comp += (wb - wa) * (ra + rb) / 2.0;
        let r = (rb - ra) * (wa + wb) / 2.0;
        rate += r;
        per_age.push(r);
    }
    (crude(a, na), crude(b, nb), comp, rate, per_age)
}

/// One row per (country, age, died) with the number of people it stands for.
fn mortality_csv() -> String {
    let mut csv = String::from("t,country,age,died,people\n");
    for (country, table) in [("Kazakhstan", &KAZAKHSTAN), ("Sweden", &SWEDEN)] {
        for (age, pop, deaths) in table {
            let t = "1992-07-01 00:00:00";
            csv.push_str(&format!("{t},{country},{age},true,{deaths}\n"));
            csv.push_str(&format!("{t},{country},{age},false,{}\n", pop - deaths));
        }
    }
    csv
}

const MORTALITY_TREE: &str = "version: 1\nname: mortality\nroot: cdr\ngrain: month\ntimezone: UTC\nmaturity: 0d\nowners: {demography: {name: Demography}}\ndimensions: {country: {label: Country}, age: {label: Age}}\nsources:\n  people:\n    file: people.csv\n    time: t\n    dimensions: [country, age]\n    weight: people\nnodes:\n  cdr:\n    label: Crude death rate\n    owner: demography\n    unit: number\n    formula: 1000 * deaths / population\n  deaths: {measure: {source: people, agg: count, filter: died}}\n  population: {measure: {source: people, agg: count}}\n";

#[test]
fn sweden_and_kazakhstan_split_into_composition_and_rates_as_published() {
    let d = TempDir::new("compare-preston");
    d.write("people.csv", &mortality_csv());
    let tree = d.write("tree.yaml", MORTALITY_TREE);
    let j = mt(&[
        "why",
        tree.to_str().unwrap(),
        "--period",
        "1992-07",
        "--compare",
        "country=Kazakhstan,Sweden",
        "--by",
        "age",
        "--depth",
        "1",
        "--min-count",
        "0",
        "--min-support",
        "0",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let (kz, se, comp, rates, per_age) = kitagawa(&KAZAKHSTAN, &SWEDEN);
    let [p_se, p_kz, p_diff, p_comp, p_rates] = PUBLISHED;
    // The independent computation reproduces the publication (to its printed digits)...
    close(se, p_se, 1e-6);
    close(kz, p_kz, 1e-6);
    close(comp, p_comp, 1e-6);
    close(rates, p_rates, 1e-6);
    // ...and the engine both.
    let cdr = node(&j, "cdr");
    close(num(&cdr["baseline"]), kz, 1e-12);
    close(num(&cdr["current"]), se, 1e-12);
    close(num(&cdr["delta"]), p_diff, 1e-6);
    let ages = dimension(&j, "cdr", "age");
    assert_eq!(ages.len(), 19);
    let sum = |k: &str| ages.iter().map(|s| num(&s[k])).sum::<f64>();
    close(sum("mix"), comp, 1e-9);
    close(sum("rate"), rates, 1e-9);
    close(sum("mix"), p_comp, 1e-6);
    close(sum("rate"), p_rates, 1e-6);
    close(
        contributions(&Value::Array(ages.clone())),
        num(&cdr["delta"]),
        1e-12,
    );
    // Per age group the rate part is Kitagawa's w̄·Δr.
    for ((age, _, _), want) in KAZAKHSTAN.iter().zip(&per_age) {
        let s = ages
            .iter()
            .find(|s| s["label"] == format!("age = {age}"))
            .unwrap_or_else(|| panic!("no age group {age}"));
        close(num(&s["rate"]), *want, 1e-9);
    }
    assert_eq!(
        j["comparison"]["labels"],
        serde_json::json!(["Country = Kazakhstan", "Country = Sweden"])
    );
    assert_eq!(j["baseline_kind"], "population");
    // The gap is tested as two independent samples of one year: the two-proportion z test
    // on deaths over people (per 1,000), with no over-dispersion from history.
    let t = &cdr["test"];
    assert_eq!(t["method"], "two_proportion_z");
    assert_eq!(num(&t["dispersion"]), 1.0);
    let total = |p: &[(&str, f64, f64)]| {
        (
            p.iter().map(|x| x.2).sum::<f64>(),
            p.iter().map(|x| x.1).sum::<f64>(),
        )
    };
    let ((x0, n0), (x1, n1)) = (total(&KAZAKHSTAN), total(&SWEDEN));
    let pooled = (x0 + x1) / (n0 + n1);
    let z = (x1 / n1 - x0 / n0) / (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
    close(num(&t["statistic"]), z, 1e-9);
    assert_eq!(t["verdict"], "beyond_noise");
}

/// Hand counts from the raw rows of `weights::data`: per (team, channel) in 2026-W10,
/// (conversations, transferred).
fn hand_counts(raw: &str) -> BTreeMap<(String, String), (f64, f64)> {
    let mut out: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for line in raw.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        // 2026-W10 is 2026-03-02 to 2026-03-08.
        let day = &f[1][..10];
        if !("2026-03-02"..="2026-03-08").contains(&day) {
            continue;
        }
        let e = out.entry((f[2].to_string(), f[3].to_string())).or_default();
        e.0 += 1.0;
        e.1 += if f[4] == "true" { 1.0 } else { 0.0 };
    }
    out
}

/// `why --compare` of teams a and b in 2026-W10 (also run from PostgreSQL in `weights`).
pub const COMPARE: &[&str] = &[
    "--period",
    "2026-W10",
    "--compare",
    "team=a,b",
    "--min-count",
    "0",
    "--min-support",
    "0",
    "--format",
    "json",
];

fn why(tree: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["why", tree.to_str().unwrap()];
    args.extend_from_slice(COMPARE);
    args.extend_from_slice(extra);
    mt(&args).ok().json()
}

#[test]
fn a_comparison_matches_hand_counts_and_a_weighted_table() {
    let d = TempDir::new("compare-hand");
    let (raw, agg) = weights::data();
    d.write("raw.csv", &raw);
    d.write("agg.csv", &agg);
    let rows = d.write("rows.yaml", &weights::tree("raw.csv", None));
    let weighted = d.write(
        "weighted.yaml",
        &weights::tree("agg.csv", Some("conversations")),
    );
    let j = why(&rows, &[]);
    let counts = hand_counts(&raw);
    let team = |t: &str| {
        counts
            .iter()
            .filter(|((x, _), _)| x == t)
            .fold((0.0, 0.0), |a, (_, v)| (a.0 + v.0, a.1 + v.1))
    };
    let ((n0, x0), (n1, x1)) = (team("a"), team("b"));
    let rate = node(&j, "rate");
    close(num(&rate["baseline"]), x0 / n0, 1e-12);
    close(num(&rate["current"]), x1 / n1, 1e-12);
    close(num(&node(&j, "total")["baseline"]), n0, 1e-12);
    close(num(&node(&j, "total")["current"]), n1, 1e-12);
    // Two independent samples: the two-proportion z test on the hand counts, φ = 1 although
    // nine earlier weeks are in the data.
    let t = &rate["test"];
    let pooled = (x0 + x1) / (n0 + n1);
    let z = (x1 / n1 - x0 / n0) / (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
    close(num(&t["statistic"]), z, 1e-9);
    assert_eq!(num(&t["dispersion"]), 1.0);
    assert_eq!(j["noise"]["history_periods"], 0);
    // Channels: contributions add up to the gap; each rate part is w̄·Δr from the counts.
    let channels = dimension(&j, "rate", "channel");
    assert_eq!(channels.len(), 2);
    close(
        contributions(&Value::Array(channels.clone())),
        num(&rate["delta"]),
        1e-12,
    );
    for s in channels {
        let ch = s["label"]
            .as_str()
            .unwrap()
            .trim_start_matches("channel = ");
        let (na, xa) = counts[&("a".to_string(), ch.to_string())];
        let (nb, xb) = counts[&("b".to_string(), ch.to_string())];
        let w = (na / n0 + nb / n1) / 2.0;
        close(num(&s["rate"]), w * (xb / nb - xa / na), 1e-12);
    }
    // The team dimension is the comparison, not a split.
    assert_eq!(j["noise"]["dimensions"], serde_json::json!(["channel"]));
    // A weighted table of the same rows gives the same answer.
    same(&why(&weighted, &[]), &j, "weighted");
    // Text: the populations head the columns; the gap is said to be a gap.
    let mut args = vec!["why", rows.to_str().unwrap()];
    args.extend_from_slice(&COMPARE[..4]);
    let text = mt(&args).ok().stdout.clone();
    assert!(
        text.starts_with("Why is rate different?  team = b vs team = a in 2026-W10"),
        "{text}"
    );
    assert!(
        text.contains("two-sample tests between team = a and team = b"),
        "{text}"
    );
}

#[test]
fn bad_comparisons_say_what_to_give() {
    let d = TempDir::new("compare-bad");
    let (raw, _) = weights::data();
    d.write("raw.csv", &raw);
    let t = d.write("rows.yaml", &weights::tree("raw.csv", None));
    let t = t.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["why", t, "--period", "2026-W10"];
        a.extend_from_slice(extra);
        mt(&a)
    };
    run(&["--compare", "team=a,z"])
        .fails_with(2)
        .stderr_has("no rows with `team = z` in 2026-W10")
        .stderr_has("--by team");
    run(&["--compare", "team=a"])
        .fails_with(2)
        .stderr_has("has 1 value;");
    run(&["--compare", "team=a,a"])
        .fails_with(2)
        .stderr_has("with itself");
    run(&["--compare", "teem=a,b"])
        .fails_with(2)
        .stderr_has("did you mean `team`");
    run(&["--compare", "team=a,b", "--by", "team"])
        .fails_with(2)
        .stderr_has("--by `team` splits by the dimension --compare compares");
    run(&["--compare", "team=a,b", "--baseline", "ago:2"])
        .fails_with(2)
        .stderr_has("cannot be used with");
}
