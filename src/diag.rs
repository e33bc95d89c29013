//! Diagnostics: a problem found in a tree file, with where it is and how to fix it.
//!
//! Every stage that reads user input (YAML parsing, spec building, graph validation, schema
//! checks against the data) reports problems as [`Diagnostic`]s and keeps going, so that
//! `metrictree check` shows all of them at once. Rendering (with a caret under the offending
//! text, like rustc or `just`) lives here too; this module knows nothing about metrics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line and column (in characters) and the length to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

impl Pos {
    pub fn new(line: u32, col: u32, len: u32) -> Pos {
        Pos { line, col, len }
    }

    /// The same place moved `chars` characters to the right on its line, `len` long.
    pub fn shifted(self, chars: u32, len: u32) -> Pos {
        Pos {
            line: self.line,
            col: self.col + chars,
            len,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem. `code` is stable (tests and docs refer to it); `help` says how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub pos: Option<Pos>,
    /// The node (or source, owner...) the problem belongs to, when there is one.
    pub subject: Option<String>,
    pub help: Option<String>,
    /// Extra lines, e.g. the members of a cycle.
    pub notes: Vec<String>,
    /// The text at `pos` may be a secret: the snippet shows it masked.
    pub secret: bool,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            pos: None,
            subject: None,
            help: None,
            notes: Vec::new(),
            secret: false,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, pos: Pos) -> Diagnostic {
        self.pos = Some(pos);
        self
    }

    pub fn at_opt(mut self, pos: Option<Pos>) -> Diagnostic {
        self.pos = pos;
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Diagnostic {
        self.subject = Some(subject.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Masks the text at the position in the rendered snippet (it may be a password).
    pub fn secret(mut self) -> Diagnostic {
        self.secret = true;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// All diagnostics about one file, with the file's text for rendering snippets.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub path: PathBuf,
    pub text: String,
    pub items: Vec<Diagnostic>,
}

impl Report {
    pub fn new(path: &Path, text: &str) -> Report {
        Report {
            path: path.to_path_buf(),
            text: text.to_string(),
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.items.len() - self.errors()
    }

    /// Orders problems by place in the file (errors without a place last), keeping the
    /// order in which they were found among equals.
    pub fn sort(&mut self) {
        self.items
            .sort_by_key(|d| (d.pos.is_none(), d.pos.map(|p| (p.line, p.col))));
    }

    /// Renders every diagnostic, rustc-style. `color` adds ANSI styles.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&render_one(d, &self.path, &self.text, color));
            out.push('\n');
        }
        out
    }
}

fn render_one(d: &Diagnostic, path: &Path, text: &str, color: bool) -> String {
    let (sev, style) = match d.severity {
        Severity::Error => ("error", "\x1b[1;31m"),
        Severity::Warning => ("warning", "\x1b[1;33m"),
    };
    let (on, bold, blue, off) = if color {
        (style, "\x1b[1m", "\x1b[1;34m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let mut out = String::new();
    // Every string here may hold text from the tree or the data: escaped (see `text`).
    let esc = crate::text::escape_lines;
    let path = crate::text::escape(&path.display().to_string()).into_owned();
    let _ = writeln!(
        out,
        "{on}{sev}[{}]{off}{bold}: {}{off}",
        d.code,
        esc(&d.message)
    );
    let gutter_width = d.pos.map(|p| p.line.to_string().len()).unwrap_or(1);
    let pad = " ".repeat(gutter_width);
    match d.pos {
        Some(p) => {
            let _ = writeln!(out, "{pad}{blue}-->{off} {}:{}:{}", path, p.line, p.col);
            if let Some(line) = text.lines().nth(p.line.saturating_sub(1) as usize) {
                let masked: String;
                let line = if d.secret {
                    let (from, to) = (
                        p.col.saturating_sub(1) as usize,
                        (p.col - 1 + p.len) as usize,
                    );
                    masked = line
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i >= from && i < to { '*' } else { c })
                        .collect();
                    masked.as_str()
                } else {
                    line
                };
                let _ = writeln!(out, "{pad} {blue}|{off}");
                // Each character as printed: a hidden one as its escape, so the carets
                // still sit under what the position names.
                let shown: Vec<String> = line
                    .chars()
                    .map(|c| match c {
                        '\t' => "\t".to_string(),
                        c => crate::text::escape(c.encode_utf8(&mut [0; 4])).into_owned(),
                    })
                    .collect();
                let _ = writeln!(out, "{blue}{}{off} {blue}|{off} {}", p.line, shown.concat());
                let from = p.col.saturating_sub(1) as usize;
                let lead = " ".repeat(shown.iter().take(from).map(|c| c.chars().count()).sum());
                let avail: usize = shown.iter().skip(from).map(|c| c.chars().count()).sum();
                let span: usize = shown
                    .iter()
                    .skip(from)
                    .take(p.len as usize)
                    .map(|c| c.chars().count())
                    .sum();
                let carets = "^".repeat(span.clamp(1, avail.max(1)));
                let _ = writeln!(out, "{pad} {blue}|{off} {lead}{on}{carets}{off}");
            }
        }
        None => {
            let _ = writeln!(out, "{pad}{blue}-->{off} {path}");
        }
    }
    if let Some(s) = &d.subject {
        let _ = writeln!(out, "{pad} {blue}={off} {bold}in{off}: {}", esc(s));
    }
    for n in &d.notes {
        let _ = writeln!(out, "{pad} {blue}={off} {bold}note{off}: {}", esc(n));
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "{pad} {blue}={off} {bold}help{off}: {}", esc(h));
    }
    out
}

/// "did you mean `x`?" for the closest candidate, if any is close enough.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase());
        let close = score >= 0.8 || strsim::levenshtein(word, c) <= 2;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// A help text naming the closest candidate, or listing what is allowed.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    match suggest(word, candidates.clone()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => {
            // Names may come from a data file's header: each one shortened.
            let all: Vec<String> = candidates.into_iter().map(crate::text::excerpt).collect();
            if all.is_empty() {
                format!("no {what} is declared in this tree")
            } else if all.len() <= 12 {
                format!("known {what}: {}", all.join(", "))
            } else {
                format!(
                    "known {what}: {}, ... ({} in all)",
                    all[..12].join(", "),
                    all.len()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_position() {
        let mut r = Report::new(Path::new("t.yaml"), "a: 1\nformula: x + yy\n");
        r.push(
            Diagnostic::error("E1", "unknown node `yy`")
                .at(Pos::new(2, 14, 2))
                .help("fix"),
        );
        let s = r.render(false);
        assert!(s.contains("--> t.yaml:2:14"), "{s}");
        assert!(
            s.contains("2 | formula: x + yy\n  |              ^^\n"),
            "{s}"
        );
        assert!(s.contains("= help: fix"), "{s}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("skil_rate", ["skill_rate", "routing_rate"]),
            Some("skill_rate".into())
        );
        assert_eq!(suggest("zzz", ["skill_rate"]), None);
    }
}
