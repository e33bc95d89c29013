//! A bounded randomized test of `check`: mutated trees (characters flipped, inserted and
//! deleted, lines duplicated, dropped and swapped, values replaced by hostile ones) never
//! panic, hang (a case over 20 s in process, 30 s through the binary; they take
//! milliseconds) or exit outside 0/1/2. Seeded, so a failure replays; the seed and the tree
//! are printed. `METRICTREE_FUZZ_CASES` runs more (docs/security.md has a longer run).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::util::{TempDir, mt, root};

const PIECES: &[&str] = &[
    ":",
    "-",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "\n",
    " ",
    "  ",
    "&a",
    "*a",
    "!!str",
    "#",
    "|",
    ">",
    "%",
    "@",
    "`",
    ",",
    "?",
    "0",
    "-1",
    "1e999",
    "NaN",
    ".inf",
    "null",
    "~",
    "true",
    "\u{200b}",
    "\u{202e}",
    "\u{1b}[2J",
    "é",
    "日本",
    "\t",
    "\r",
    "\\",
    "$1",
    ";",
    "--",
    "/*!",
    "*/",
    "(",
    ")",
    "SELECT",
    "DROP TABLE x",
    "/etc/passwd",
    "../../",
    "**",
    "ratio",
    "formula",
    "measure",
    "nodes",
    "sources",
    "owner",
    "root",
    "sql",
];

const VALUES: &[&str] = &[
    "1e999",
    "-1",
    "NaN",
    "''",
    "\"\"",
    "[]",
    "{}",
    "null",
    "99999999999999999999",
    "\"SELECT * FROM conv; DROP TABLE conv\"",
    "\"/etc/passwd\"",
    "\"/**/*.csv\"",
    "\"a /*! OR 1=1 */\"",
    "\"\\e[2J\"",
    "\"\\u202e\"",
    "&x [1]",
    "*x",
    "!!binary aGk=",
    "\"((((((((((((((((((((1))))))))))))))))))))\"",
    "\"x\"",
    "0",
    "2300-01-01",
];

fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..rng.random_range(1..=4) {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..8) {
            0 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            1 => {
                lines.remove(i);
            }
            2 => {
                let j = rng.random_range(0..lines.len());
                lines.swap(i, j);
            }
            3 | 4 => {
                // Insert a piece at a character boundary.
                let chars: Vec<char> = lines[i].chars().collect();
                let at = rng.random_range(0..=chars.len());
                let piece = PIECES[rng.random_range(0..PIECES.len())];
                let mut s: String = chars[..at].iter().collect();
                s.push_str(piece);
                s.extend(&chars[at..]);
                lines[i] = s;
            }
            5 => {
                // Delete a run of characters.
                let chars: Vec<char> = lines[i].chars().collect();
                if !chars.is_empty() {
                    let a = rng.random_range(0..chars.len());
                    let b = rng.random_range(a..=chars.len().min(a + 6));
                    lines[i] = chars[..a].iter().chain(&chars[b..]).collect();
                }
            }
            _ => {
                // Replace a value after `key:` with a hostile one.
                if let Some(k) = lines[i].find(": ") {
                    let v = VALUES[rng.random_range(0..VALUES.len())];
                    lines[i] = format!("{}: {v}", &lines[i][..k]);
                }
            }
        }
    }
    lines.join("\n") + "\n"
}

fn bases() -> Vec<(String, String)> {
    let mut out = vec![("fixture".to_string(), crate::check::GOOD.to_string())];
    for t in [
        "handoff",
        "zendesk",
        "intercom",
        "servicenow",
        "process-mining",
    ] {
        let p = root().join(format!("trees/{t}.yaml"));
        out.push((t.to_string(), std::fs::read_to_string(p).unwrap()));
    }
    out
}

fn cases() -> usize {
    std::env::var("METRICTREE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// The tree stages `check` runs without data (parse, graph, rendering of every
/// diagnostic), in process: thousands of cases in seconds.
#[test]
fn mutated_trees_never_panic_or_hang_in_the_tree_stages() {
    let bases = bases();
    let mut rng = ChaCha8Rng::seed_from_u64(20261130);
    let mut invalid = 0;
    // `METRICTREE_FUZZ_ONLY=N` replays case N alone.
    let only: Option<usize> = std::env::var("METRICTREE_FUZZ_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    for case in 0..cases() {
        let (name, base) = &bases[case % bases.len()];
        let text = mutate(base, &mut rng);
        if only.is_some_and(|o| o != case) {
            continue;
        }
        if only.is_some() {
            let _ = std::fs::write(
                std::env::temp_dir().join("metrictree-fuzz-case.yaml"),
                &text,
            );
        }
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let path = Path::new("fuzz.yaml");
            let mut report = metrictree::diag::Report::new(path, &text);
            let (spec, diags) = metrictree::spec::parse(path, &text);
            report.extend(diags);
            if let Some(spec) = spec {
                let (_, diags) = metrictree::graph::build(spec);
                report.extend(diags);
            }
            report.sort();
            (report.has_errors(), report.render(true))
        }));
        let Ok((has_errors, rendered)) = result else {
            panic!("case {case} (from {name}) panicked on:\n{text}");
        };
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "case {case} (from {name}) took {:?} on:\n{text}",
            started.elapsed()
        );
        assert!(
            !rendered.contains('\u{202e}') && !rendered.contains('\u{200b}'),
            "case {case}: a hidden character reached the rendering:\n{rendered}"
        );
        invalid += usize::from(has_errors);
    }
    // The mutations reach the error paths, not only valid trees.
    assert!(
        only.is_some() || invalid > cases() / 4,
        "only {invalid} invalid trees"
    );
}

/// The whole `check` command, with data, on a sample of mutated trees: exit 0, 1 or 2,
/// never a panic, within a time bound.
#[test]
fn mutated_trees_through_the_check_command() {
    let d = TempDir::new("fuzz");
    std::fs::create_dir_all(d.0.join(".git")).unwrap();
    d.write("conv.csv", crate::check::CSV);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = (cases() / 20).max(60);
    for case in 0..n {
        let text = mutate(crate::check::GOOD, &mut rng);
        let p = d.write("tree.yaml", &text);
        let started = Instant::now();
        let r = mt(&["check", p.to_str().unwrap(), "--timeout", "20"]);
        assert!(
            matches!(r.code, 0..=2),
            "case {case}: exit {} on:\n{text}\n{}",
            r.code,
            r.stderr
        );
        assert!(
            !r.stderr.contains("panicked"),
            "case {case}:\n{text}\n{}",
            r.stderr
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "case {case} hung:\n{text}"
        );
    }
}
