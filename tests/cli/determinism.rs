//! Same tree and data ⇒ the same bytes. `why` and `eval`, text and JSON, are compared byte
//! for byte across input rows shuffled, the data split over several files (a glob), the file
//! engine's partitions (1, 2, 3, 7) and batch sizes, and PostgreSQL with and without parallel
//! workers, the held rows aggregated by `engine::dense` or by SQL, and CSV read through the
//! cache (`--cache`) — on the bundled example and a generated set of 100,000 conversations.
//! Sums are exact (`engine::exact_sum`, PostgreSQL `NUMERIC`), so no order can move a digit.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::pg::Pg;
use crate::util::{TempDir, mt_env, root};

/// The commands compared, after the tree path.
const RUNS: &[&[&str]] = &[
    &["eval", "--format", "json"],
    &["eval", "--by", "channel"],
    &["why", "--format", "json"],
    &["why"],
    &[
        "why",
        "--baseline",
        "trailing:4",
        "--by",
        "tier,team",
        "--format",
        "json",
    ],
];

/// Engine settings: (target partitions, batch size).
const ENGINES: &[(&str, &str)] = &[("1", "8192"), ("2", "1000"), ("3", "333"), ("7", "64")];

/// The commands compared on the larger set (the most aggregation per run).
const RUNS_100K: &[&[&str]] = &[
    &["eval", "--by", "tier", "--format", "json"],
    &[
        "why",
        "--baseline",
        "trailing:4",
        "--by",
        "tier,team",
        "--format",
        "json",
    ],
];

/// The stdout of each of `runs` on `tree`, with `extra` arguments and `env`.
fn outputs(runs: &[&[&str]], tree: &Path, extra: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    runs.iter()
        .map(|args| {
            let mut a = vec![args[0], tree.to_str().unwrap()];
            a.extend_from_slice(&args[1..]);
            a.extend_from_slice(extra);
            let r = mt_env(&a, env);
            r.ok();
            r.stdout.clone()
        })
        .collect()
}

#[track_caller]
fn same_bytes(a: &[String], b: &[String], what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            let line = x
                .lines()
                .zip(y.lines())
                .find(|(p, q)| p != q)
                .map(|(p, q)| format!("\n  {p}\n  {q}"))
                .unwrap_or_default();
            panic!("{what}: command {i} differs{line}");
        }
    }
}

/// A CSV with its data rows shuffled (seeded), the header first.
fn shuffled(text: &str, seed: u64) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let mut out = format!("{header}\n");
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The CSV's data rows dealt round-robin into `n` files `{stem}-{k}.csv`.
fn split(dir: &Path, stem: &str, text: &str, n: usize) {
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut parts: Vec<String> = vec![format!("{header}\n"); n];
    for (i, l) in lines.enumerate() {
        parts[i % n].push_str(l);
        parts[i % n].push('\n');
    }
    for (k, p) in parts.iter().enumerate() {
        std::fs::write(dir.join(format!("{stem}-{k}.csv")), p).unwrap();
    }
}

/// A copy of the flagship tree at `dir/trees/handoff.yaml` reading `dir/examples/support/`.
fn layout(dir: &Path, tree: &str) -> std::path::PathBuf {
    // A repository of its own: the tree may read `../examples` inside it.
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("trees")).unwrap();
    std::fs::create_dir_all(dir.join("examples/support")).unwrap();
    let p = dir.join("trees/handoff.yaml");
    std::fs::write(&p, tree).unwrap();
    p
}

fn check_variants(data: &Path, label: &str, runs: &[&[&str]], engines: &[(&str, &str)]) {
    let tree_text = std::fs::read_to_string(root().join("trees/handoff.yaml")).unwrap();
    let conv = std::fs::read_to_string(data.join("conversations.csv")).unwrap();
    let hand = std::fs::read_to_string(data.join("handoffs.csv")).unwrap();
    let audits = std::fs::read_to_string(data.join("audits.csv")).unwrap();
    let data_dir = data.to_str().unwrap();
    let tree = root().join("trees/handoff.yaml");
    let base = outputs(runs, &tree, &["--data-dir", data_dir], &[]);

    for &(parts, batch) in engines {
        let env = [
            ("METRICTREE_TARGET_PARTITIONS", parts),
            ("METRICTREE_BATCH_SIZE", batch),
        ];
        let got = outputs(runs, &tree, &["--data-dir", data_dir], &env);
        same_bytes(
            &base,
            &got,
            &format!("{label}: {parts} partitions, batches of {batch}"),
        );
    }

    // The held rows aggregated by DataFusion's GROUPING SETS instead of `engine::dense`.
    let got = outputs(
        runs,
        &tree,
        &["--data-dir", data_dir],
        &[("METRICTREE_AGGREGATE", "sql")],
    );
    same_bytes(&base, &got, &format!("{label}: aggregated by SQL"));

    // Through the CSV cache: the run that writes the Parquet copies, and one that reads them.
    let cache = TempDir::new("determinism-cache");
    let with_cache = ["--data-dir", data_dir, "--cache", cache.0.to_str().unwrap()];
    let got = outputs(runs, &tree, &with_cache, &[]);
    same_bytes(&base, &got, &format!("{label}: CSV cache, first run"));
    let copies = std::fs::read_dir(&cache.0).unwrap().count();
    assert_eq!(copies, 3, "{label}: one Parquet copy per CSV export");
    let got = outputs(runs, &tree, &with_cache, &[]);
    same_bytes(&base, &got, &format!("{label}: CSV cache, read back"));

    let d = TempDir::new("determinism");
    let t = layout(&d.0, &tree_text);
    let support = d.0.join("examples/support");
    std::fs::write(support.join("conversations.csv"), shuffled(&conv, 1)).unwrap();
    std::fs::write(support.join("handoffs.csv"), shuffled(&hand, 2)).unwrap();
    std::fs::write(support.join("audits.csv"), shuffled(&audits, 5)).unwrap();
    let got = outputs(runs, &t, &[], &[("METRICTREE_TARGET_PARTITIONS", "3")]);
    same_bytes(&base, &got, &format!("{label}: rows shuffled"));

    let d = TempDir::new("determinism-split");
    let globbed = tree_text
        .replace(
            "file: ../examples/support/conversations.csv",
            "file: ../examples/support/conversations-*.csv",
        )
        .replace(
            "file: ../examples/support/handoffs.csv",
            "file: ../examples/support/handoffs-*.csv",
        )
        .replace(
            "file: ../examples/support/audits.csv",
            "file: ../examples/support/audits-*.csv",
        );
    assert_ne!(globbed, tree_text, "the tree's file entries moved");
    let t = layout(&d.0, &globbed);
    let support = d.0.join("examples/support");
    split(&support, "conversations", &shuffled(&conv, 3), 3);
    split(&support, "handoffs", &hand, 4);
    split(&support, "audits", &shuffled(&audits, 6), 2);
    let got = outputs(runs, &t, &[], &[("METRICTREE_TARGET_PARTITIONS", "7")]);
    same_bytes(&base, &got, &format!("{label}: data split over files"));
}

#[test]
fn the_bundled_example_gives_the_same_bytes_every_way() {
    check_variants(
        &root().join("examples/support"),
        "bundled example",
        RUNS,
        ENGINES,
    );
}

#[test]
fn a_100k_generated_set_gives_the_same_bytes_every_way() {
    let d = TempDir::new("determinism-100k");
    let data = d.0.join("data");
    mt_env(
        &[
            "demo-data",
            "--out",
            data.to_str().unwrap(),
            "--conversations",
            "100000",
        ],
        &[],
    )
    .ok();
    check_variants(
        &data,
        "100k conversations",
        RUNS_100K,
        &[("1", "8192"), ("7", "64")],
    );
}

/// PostgreSQL sums `NUMERIC`: with parallel workers forced on, the bytes are those of a
/// serial plan.
#[test]
fn postgresql_with_parallel_workers_gives_the_same_bytes() {
    let pg = Pg::start("determinism");
    let env = "MT_TEST_DATABASE_URL";
    let tree = root().join("trees/handoff.yaml");
    mt_env(
        &["load", tree.to_str().unwrap(), "--postgres-env", env],
        &[(env, &pg.url)],
    )
    .ok();
    let with_options = |opts: &str| {
        let sep = if pg.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options={}",
            pg.url,
            opts.replace(' ', "%20").replace('=', "%3D")
        )
    };
    let serial = with_options("-c max_parallel_workers_per_gather=0");
    let parallel = with_options(
        "-c max_parallel_workers_per_gather=4 -c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0",
    );
    let a = outputs(RUNS, &tree, &["--postgres-env", env], &[(env, &serial)]);
    let b = outputs(RUNS, &tree, &["--postgres-env", env], &[(env, &parallel)]);
    same_bytes(&a, &b, "PostgreSQL, parallel workers");
}
