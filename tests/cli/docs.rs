//! Docs that are not tested drift. Every `metrictree ...` and `cargo run -- ...` line in the
//! `sh` blocks of README.md and docs/ runs here, on the bundled data, and must exit 0; every
//! relative link must name a file (and heading) that exists.
//!
//! A block preceded by `<!-- not run: REASON -->` is skipped, visibly, with its reason.
//! Substitutions keep the run small and local: `/tmp/NAME` becomes a temporary directory,
//! `--conversations N` above 3,000 becomes 3,000, a release binary (`./target/release/...`,
//! after `/usr/bin/time -v`) is the binary under test, and `> FILE` writes into the temporary
//! directory.

use std::path::{Path, PathBuf};

use crate::util::{TempDir, mt, root};

/// Markdown files of the project.
fn markdown() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut dirs = vec![root().join("docs")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A documented command: where it is, and its words.
struct Command {
    place: String,
    words: Vec<String>,
}

/// Splits a shell line into words (single and double quotes, no expansion); drops a
/// trailing `# comment`.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            (None, c) => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

/// The commands of one file's `sh` blocks, and the skipped blocks with their reasons.
fn commands(path: &Path) -> (Vec<Command>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let rel = path.strip_prefix(root()).unwrap().display().to_string();
    let (mut cmds, mut skipped) = (Vec::new(), Vec::new());
    let mut block: Option<(String, bool)> = None;
    let mut prev = "";
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(lang) = t.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => {
                    let skip = prev.starts_with("<!-- not run:");
                    if skip && matches!(lang, "sh" | "bash") {
                        skipped.push(format!("{rel}:{}: {prev}", i + 1));
                    }
                    Some((lang.to_string(), skip))
                }
            };
            prev = t;
            continue;
        }
        if !t.is_empty() {
            prev = t;
        }
        let Some((lang, skip)) = &block else { continue };
        if *skip || !matches!(lang.as_str(), "sh" | "bash") {
            continue;
        }
        let mut w = words(t);
        if w.first().is_some_and(|x| x == "/usr/bin/time") {
            w.drain(..2);
        }
        let start = match w.first().map(String::as_str) {
            Some("metrictree") => 1,
            Some(b) if b.ends_with("/metrictree") => 1,
            Some("cargo") if w.get(1).is_some_and(|x| x == "run") => {
                w.iter().position(|x| x == "--").map_or(w.len(), |p| p + 1)
            }
            _ => continue,
        };
        cmds.push(Command {
            place: format!("{rel}:{}", i + 1),
            words: w[start..].to_vec(),
        });
    }
    (cmds, skipped)
}

#[test]
fn every_documented_command_runs() {
    let tmp = TempDir::new("docs");
    let mut ran = 0;
    let mut skipped = Vec::new();
    for md in markdown() {
        let (cmds, skip) = commands(&md);
        skipped.extend(skip);
        for c in cmds {
            let mut args: Vec<String> = Vec::new();
            let mut out_file: Option<PathBuf> = None;
            let mut it = c.words.iter().peekable();
            while let Some(w) = it.next() {
                if w == ">" {
                    let name = it.next().expect("a file after >");
                    out_file = Some(tmp.0.join(Path::new(name).file_name().unwrap()));
                    continue;
                }
                let w = match w.strip_prefix("/tmp/") {
                    Some(rest) => tmp.0.join(rest).display().to_string(),
                    None => w.clone(),
                };
                if args.last().is_some_and(|a| a == "--conversations")
                    && w.parse::<u64>().is_ok_and(|n| n > 3000)
                {
                    args.push("3000".into());
                    continue;
                }
                args.push(w);
            }
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = mt(&refs);
            assert_eq!(
                r.code,
                0,
                "{}: `metrictree {}` exited {}\n{}",
                c.place,
                args.join(" "),
                r.code,
                r.stderr
            );
            if let Some(f) = out_file {
                std::fs::write(f, &r.stdout).unwrap();
            }
            ran += 1;
        }
    }
    eprintln!("ran {ran} documented commands; skipped blocks:");
    for s in &skipped {
        eprintln!("  {s}");
    }
    assert!(ran >= 25, "only {ran} documented commands found");
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut in_code = false;
    text.lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            !in_code && l.starts_with('#')
        })
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    for md in markdown() {
        let text = std::fs::read_to_string(&md).unwrap();
        let dir = md.parent().unwrap();
        let mut in_code = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            let mut rest = line;
            while let Some(p) = rest.find("](") {
                let after = &rest[p + 2..];
                let Some(end) = after.find(')') else { break };
                let target = &after[..end];
                rest = &after[end..];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let path = if file.is_empty() {
                    md.clone()
                } else {
                    dir.join(file)
                };
                let place = format!(
                    "{}:{}: {target}",
                    md.strip_prefix(root()).unwrap().display(),
                    i + 1
                );
                if !path.exists() {
                    broken.push(format!("{place} (no such file)"));
                } else if let Some(a) = anchor
                    && path.extension().is_some_and(|x| x == "md")
                    && !anchors(&path).iter().any(|h| h == a)
                {
                    broken.push(format!("{place} (no such heading)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        words("cargo run -- why t.yaml --by 'a b' \"c\" # note"),
        ["cargo", "run", "--", "why", "t.yaml", "--by", "a b", "c"]
    );
    assert_eq!(
        slug("What a `filter` or `expr` may contain"),
        "what-a-filter-or-expr-may-contain"
    );
}

/// Every key of `example` (recursively; `"..."` entries are placeholders) exists in `real`;
/// an array's example elements each match some element of the real array. Returns the
/// first path that does not.
fn keys_match(
    example: &serde_json::Value,
    real: &serde_json::Value,
    path: &str,
) -> Result<(), String> {
    use serde_json::Value;
    match (example, real) {
        (Value::Object(e), Value::Object(r)) => {
            for (k, v) in e {
                if k == "..." {
                    continue;
                }
                let Some(rv) = r.get(k) else {
                    return Err(format!("{path}.{k} is not in the real output"));
                };
                keys_match(v, rv, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(r)) => {
            for (i, v) in e.iter().enumerate() {
                if v == "..." {
                    continue;
                }
                if !r.iter().any(|rv| keys_match(v, rv, path).is_ok()) {
                    let first = r
                        .first()
                        .map(|rv| keys_match(v, rv, &format!("{path}[{i}]")));
                    return Err(first
                        .and_then(Result::err)
                        .unwrap_or(format!("{path}[{i}] matches no element")));
                }
            }
            Ok(())
        }
        (Value::Object(_) | Value::Array(_), _) => Err(format!("{path} has another shape")),
        // Names, labels and kinds are what a reader copies: they must be the real ones.
        (Value::String(a), Value::String(b)) if a != "..." && a != b => Err(format!(
            "{path} is {b:?} in real output, {a:?} in the example"
        )),
        (Value::Bool(a), Value::Bool(b)) if a != b => {
            Err(format!("{path} is {b} in real output, {a} in the example"))
        }
        _ => Ok(()),
    }
}

/// docs/output.md's examples have the keys of real output, and its `schema_version`s.
#[test]
fn the_output_examples_match_real_output() {
    let doc = std::fs::read_to_string(root().join("docs/output.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```json")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(
        blocks.len(),
        5,
        "why, eval, transfer_causes, history and impact examples"
    );
    let parse = |b: &str| -> serde_json::Value {
        serde_json::from_str(b)
            .unwrap_or_else(|e| panic!("docs/output.md example is not JSON ({e}):\n{b}"))
    };
    let why = mt(&["why", "trees/handoff.yaml", "--format", "json"])
        .ok()
        .json();
    let eval = mt(&[
        "eval",
        "trees/handoff.yaml",
        "--by",
        "channel",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let causes = mt(&[
        "eval",
        "trees/intercom.yaml",
        "--period",
        "2026-W11",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let (w, e) = (parse(blocks[0]), parse(blocks[1]));
    assert_eq!(w["schema_version"], why["schema_version"]);
    assert_eq!(e["schema_version"], eval["schema_version"]);
    keys_match(&w, &why, "why").unwrap();
    keys_match(&e, &eval, "eval").unwrap();
    let c = parse(&format!("{{{}}}", blocks[2]));
    keys_match(&c, &causes, "eval").unwrap();
    let history = mt(&[
        "history",
        "trees/handoff.yaml",
        "--periods",
        "2",
        "--by",
        "channel",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let h = parse(blocks[3]);
    assert_eq!(h["schema_version"], history["schema_version"]);
    keys_match(&h, &history, "history").unwrap();
    let impact = mt(&["impact", "trees/handoff.yaml", "--format", "json"])
        .ok()
        .json();
    let i = parse(blocks[4]);
    assert_eq!(i["schema_version"], impact["schema_version"]);
    keys_match(&i, &impact, "impact").unwrap();
}
