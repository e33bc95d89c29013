//! The layer order of `src/`: every `crate::<module>` reference — in `use` lines, grouped
//! imports (`use crate::{a, b::c}`), inline paths (`crate::engine::load::copy_file_sources`)
//! and `super::super::` paths (single or grouped) that climb to the crate root — must point
//! at the same module or a lower layer. Test modules (`#[cfg(test)] mod ... { }`) may reach
//! anywhere; comments, strings and character literals do not count. Every top-level module
//! must have a place in [`LAYERS`], so a new one is placed on purpose; modules that share a
//! layer may not refer to each other.
//!
//! What a path-based check cannot see: a method a higher layer defines on a lower layer's
//! type (`impl SqlExpr { fn render }` in `sql`), called from the lower layer. Such methods
//! are called only from their own layer or above (reviewed, not tested).

use std::path::Path;

/// From the bottom up. Modules still to come are named so they land in the right place.
pub const LAYERS: &[&[&str]] = &[
    &["text"],
    &["diag"],
    &["period"],
    &["spec"],
    &["graph"],
    &["plan"],
    &["sql"],
    &["engine"],
    &["eval"],
    &["noise", "attribution"],
    &["history"],
    &["explain"],
    &["impact"],
    &["report"],
    &["delivery"],
    &["error"],
    &["session"],
    &["demo"],
    &["cli"],
    &["cmd"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// A reference from one module to another that the layer order forbids.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub file: String,
    pub line: usize,
    pub from: String,
    pub to: String,
}

/// The source with comments, string literals and `#[cfg(test)]` items blanked out (newlines
/// kept, so line numbers stay true).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &str| {
        out.extend(s.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
    };
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|&c| c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let start = 2 + hashes;
            let end = rest[start..]
                .find(&close)
                .map_or(rest.len(), |e| start + e + close.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if let Some(len) = char_literal(rest) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => {
                        j += 1;
                        break;
                    }
                    _ => j += 1,
                }
            }
            let j = j.min(rest.len());
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest.starts_with("#[cfg(test)]") {
            // The attribute and the item after it: up to its matching close brace (or `;`).
            let mut depth = 0usize;
            let mut j = "#[cfg(test)]".len();
            let bytes = rest.as_bytes();
            while j < bytes.len() {
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    }
                    b';' if depth == 0 => {
                        j += 1;
                        break;
                    }
                    _ => {}
                }
                j += 1;
            }
            let j = j.min(rest.len());
            blank(&mut out, &rest[..j]);
            i += j;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of a character literal at the start of `rest` (`'x'`, `'"'`, `'\''`,
/// `'\u{1b}'`), or `None` for anything else — a lifetime (`'a`) included.
fn char_literal(rest: &str) -> Option<usize> {
    let mut chars = rest.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let (_, c) = chars.next()?;
    if c == '\\' {
        // An escape (`'\n'`, `'\''`, `'\u{1b}'`): its first character is skipped, then up to the quote.
        let (_, _) = chars.next()?;
        return chars.find(|&(_, c)| c == '\'').map(|(k, _)| k + 1);
    }
    match chars.next()? {
        (k, '\'') => Some(k + 1),
        _ => None,
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The names at depth one of the group `{a, b::{c, d}, e}` that starts at `at`.
fn group(
    code: &str,
    at: usize,
    line_of: &dyn Fn(usize) -> usize,
    ident_at: &dyn Fn(usize) -> String,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect = true;
    for (k, c) in code[at..].char_indices() {
        match c {
            '{' => {
                depth += 1;
                expect = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect = true,
            '*' if expect && depth == 1 => {
                out.push((line_of(at + k), "*".to_string()));
                expect = false;
            }
            c if expect && depth == 1 && is_ident(c) => {
                out.push((line_of(at + k), ident_at(at + k)));
                expect = false;
            }
            c if !c.is_whitespace() => expect = false,
            _ => {}
        }
    }
    out
}

/// The top-level modules `code` refers to, with the line of each reference. `path` is the
/// file's module path (`["spec", "parse"]` for `src/spec/parse.rs`).
fn references(code: &str, path: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let ident_at =
        |at: usize| -> String { code[at..].chars().take_while(|&c| is_ident(c)).collect() };
    let bounded = |at: usize| !code[..at].chars().next_back().is_some_and(is_ident);
    for (at, _) in code.match_indices("crate::") {
        if !bounded(at) {
            continue;
        }
        let after = at + "crate::".len();
        if code[after..].starts_with('{') {
            out.extend(group(code, after, &line_of, &ident_at));
        } else {
            out.push((line_of(at), ident_at(after)));
        }
    }
    for (at, _) in code.match_indices("super::") {
        if !bounded(at) || (at >= 2 && &code[at - 2..at] == "::") {
            continue;
        }
        let mut ups = 0;
        let mut k = at;
        while code[k..].starts_with("super::") {
            ups += 1;
            k += "super::".len();
        }
        // A `mod.rs`-less file's `super` is its parent module; climbing to the root lands
        // on a top-level module name, or a group of them.
        if ups == path.len() {
            if code[k..].starts_with('{') {
                out.extend(group(code, k, &line_of, &ident_at));
            } else if code[k..].starts_with('*') {
                out.push((line_of(at), "*".to_string()));
            } else {
                out.push((line_of(at), ident_at(k)));
            }
        }
    }
    out.retain(|(_, m)| !m.is_empty() && m != "self" && m != "super");
    out
}

/// The violations in a set of files given as (path under `src/`, text).
pub fn violations(files: &[(String, String)]) -> Result<Vec<Violation>, String> {
    let mut out = Vec::new();
    for (file, text) in files {
        let rel = file.trim_end_matches(".rs");
        let mut path: Vec<String> = rel.split('/').map(str::to_string).collect();
        if path.last().is_some_and(|l| l == "mod") {
            path.pop();
        }
        // The binaries are separate crates at the top (`src/bin/*` names no library module).
        if matches!(rel, "lib" | "main") || rel.starts_with("bin/") {
            continue;
        }
        let from = path[0].clone();
        let Some(from_layer) = layer(&from) else {
            return Err(format!(
                "src/{file}: module `{from}` has no place in LAYERS (tests/cli/architecture.rs); add it where it belongs"
            ));
        };
        for (line, to) in references(&code_only(text), &path) {
            if to == from {
                continue;
            }
            if to == "*" {
                return Err(format!(
                    "src/{file}:{line}: a glob import from the crate root hides which layers it uses; name them"
                ));
            }
            let Some(to_layer) = layer(&to) else {
                return Err(format!(
                    "src/{file}:{line}: `crate::{to}` is not a module in LAYERS"
                ));
            };
            if to_layer >= from_layer {
                out.push(Violation {
                    file: file.clone(),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_src(dir: &Path, under: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if under.is_empty() {
            name.clone()
        } else {
            format!("{under}/{name}")
        };
        if p.is_dir() {
            read_src(&p, &rel, out);
        } else if name.ends_with(".rs") {
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

#[test]
fn dependencies_point_down_the_layers() {
    let mut files = Vec::new();
    read_src(&crate::util::root().join("src"), "", &mut files);
    assert!(files.len() > 40, "read {} files", files.len());
    let v = violations(&files).unwrap_or_else(|e| panic!("{e}"));
    let shown: Vec<String> = v
        .iter()
        .map(|v| {
            format!(
                "src/{}:{}: `{}` refers to `{}`, a layer above or beside it",
                v.file, v.line, v.from, v.to
            )
        })
        .collect();
    assert!(
        shown.is_empty(),
        "the layer order is broken:\n{}",
        shown.join("\n")
    );
}

fn file(path: &str, text: &str) -> (String, String) {
    (path.to_string(), text.to_string())
}

/// The fixture proves the test bites: each kind of reference to a higher layer is found,
/// with its line, and what is allowed is not.
#[test]
fn a_violation_fails_the_check() {
    let files = [
        file(
            "spec/parse.rs",
            "//! Parses.\nuse crate::diag::Pos;\nfn f() {\n    let t = crate::engine::csv_clean::TimeFormat::parse(\"iso\");\n}\n",
        ),
        file(
            "graph/mod.rs",
            "use crate::{diag, spec::model::{Spec, Agg}, sql::ident};\n",
        ),
        file(
            "plan/deep/x.rs",
            "fn f() { super::super::super::eval::run() }\n",
        ),
        file("noise/mod.rs", "use crate::attribution::x;\n"),
        file(
            "eval/mod.rs",
            "use crate::engine::Engine; // crate::report in a comment\nconst S: &str = \"crate::cmd\";\n#[cfg(test)]\nmod tests {\n    use crate::cmd::run;\n}\n",
        ),
        file(
            "cmd/why.rs",
            "use crate::explain::explain;\nuse super::Outcome;\n",
        ),
        // A quote inside a character literal does not start a string that hides the rest.
        file(
            "graph/cycles.rs",
            "fn q() -> char { '\"' }\nfn r<'a>(x: &'a str) -> char { let _ = x; '\\'' }\nuse crate::report::x;\n",
        ),
        file(
            "plan/a/b.rs",
            "use super::super::super::{diag, engine::Engine};\n",
        ),
    ];
    let v = violations(&files).unwrap();
    let got: Vec<(&str, usize, &str)> = v
        .iter()
        .map(|v| (v.file.as_str(), v.line, v.to.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("graph/cycles.rs", 3, "report"),
            ("graph/mod.rs", 1, "sql"),
            ("noise/mod.rs", 1, "attribution"),
            ("plan/a/b.rs", 1, "engine"),
            ("plan/deep/x.rs", 1, "eval"),
            ("spec/parse.rs", 4, "engine"),
        ]
    );
    let glob = violations(&[file("eval/x.rs", "use super::super::*;\n")]).unwrap_err();
    assert!(glob.contains("glob import"), "{glob}");
    let unplaced = violations(&[file("widgets/mod.rs", "")]).unwrap_err();
    assert!(unplaced.contains("has no place in LAYERS"), "{unplaced}");
}
