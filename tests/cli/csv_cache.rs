//! The CSV cache (`--cache DIR`, `METRICTREE_CACHE`): a changed export is read again, never
//! from a stale copy, and its old copy is removed; a CSV read through the cleaner, or that
//! the engine cannot parse, is not cached and reports what it reported without the cache.
//! (That cached runs give the same bytes is in `determinism`.)

use std::path::{Path, PathBuf};

use crate::util::{TempDir, mt, mt_env, root};

/// The flagship tree and a copy of the bundled data in a repository of its own.
fn layout(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("trees")).unwrap();
    let support = dir.join("examples/support");
    std::fs::create_dir_all(&support).unwrap();
    for f in ["conversations.csv", "handoffs.csv", "audits.csv"] {
        std::fs::copy(root().join("examples/support").join(f), support.join(f)).unwrap();
    }
    for f in ["handoff.yaml", "handoff.actions.yaml"] {
        let from = root().join("trees").join(f);
        if from.exists() {
            std::fs::copy(from, dir.join("trees").join(f)).unwrap();
        }
    }
    dir.join("trees/handoff.yaml")
}

fn copies(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_changed_export_is_read_again_and_its_old_copy_removed() {
    let d = TempDir::new("csv-cache");
    let tree = layout(&d.0);
    let tree = tree.to_str().unwrap();
    let cache = d.0.join("cache");
    let c = cache.to_str().unwrap();
    let eval = |extra: &[&str]| {
        let mut a = vec!["eval", tree, "--period", "2026-W45", "--format", "json"];
        a.extend_from_slice(extra);
        mt(&a).ok().stdout.clone()
    };
    let before = eval(&["--cache", c]);
    assert_eq!(
        before,
        eval(&[]),
        "the first cached run reads as the CSV does"
    );
    let first = copies(&cache);
    assert_eq!(first.len(), 3, "a copy per export: {first:?}");

    // Drop the last third of the conversations (a re-export of a shorter span).
    let conv = d.0.join("examples/support/conversations.csv");
    let text = std::fs::read_to_string(&conv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let keep = lines.len() * 2 / 3;
    std::fs::write(&conv, lines[..keep].join("\n") + "\n").unwrap();

    // The same variable names the same directory as the flag.
    let after = mt_env(
        &["eval", tree, "--period", "2026-W45", "--format", "json"],
        &[("METRICTREE_CACHE", c)],
    );
    after.ok();
    assert_ne!(after.stdout, before, "the change reached the numbers");
    assert_eq!(after.stdout, eval(&[]), "the cached run reads the new file");
    let second = copies(&cache);
    assert_eq!(second.len(), 3, "the old copy was removed: {second:?}");
    let changed: Vec<_> = second.iter().filter(|n| !first.contains(n)).collect();
    assert_eq!(changed.len(), 1, "only the changed export got a new copy");
}

#[test]
fn a_csv_that_needs_the_cleaner_is_not_cached_and_reports_the_same() {
    let d = TempDir::new("csv-cache-messy");
    let tree = layout(&d.0);
    // A ragged row: the engine cannot read the file as it is, the cleaner names the line.
    let conv = d.0.join("examples/support/conversations.csv");
    let mut text = std::fs::read_to_string(&conv).unwrap();
    text.push_str("broken,row\n");
    std::fs::write(&conv, text).unwrap();
    let args = ["eval", tree.to_str().unwrap(), "--period", "2026-W45"];
    let plain = mt(&args);
    let cache = d.0.join("cache");
    let mut with = args.to_vec();
    with.extend(["--cache", cache.to_str().unwrap()]);
    let cached = mt(&with);
    assert_eq!(cached.code, plain.code);
    assert_eq!(cached.stdout, plain.stdout);
    assert_eq!(cached.stderr, plain.stderr);
    assert!(
        plain.stderr.contains("W010") || plain.stderr.contains("E039"),
        "the bad row is reported: {}",
        plain.stderr
    );
    let names = copies(&cache);
    assert_eq!(
        names.len(),
        2,
        "handoffs and audits are cached, the ragged conversations export is not: {names:?}"
    );
    assert!(
        names.iter().all(|n| n.ends_with(".parquet")),
        "no temporary file is left behind: {names:?}"
    );
}
