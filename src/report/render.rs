//! Renders the report set through Tera templates: the ones in `templates/`, compiled into the
//! binary, or a team's own from `--templates DIR` (same names; any missing one falls back to
//! the built-in). Each format has its own template engine with its own escaping, applied to
//! every `{{ }}` automatically: HTML entities for `.html`, Markdown escapes for `.md`,
//! terminal-safe text for `.txt`. Charts come from the model already escaped (SVG, Mermaid)
//! and are the only values templates mark `safe`.

use std::path::Path;

use serde::Serialize;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Html,
    Md,
    Txt,
    Json,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Txt => "txt",
            Format::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "html" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Md),
            "txt" | "text" => Some(Format::Txt),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// The built-in templates, by name. A report kind `K` in format `F` is `F/K.F`.
pub const BUILTIN: &[(&str, &str)] = builtin!(
    "html/base.html",
    "html/macros.html",
    "html/overview.html",
    "html/owner.html",
    "html/index.html",
    "html/owner.email.html",
    "html/overview.email.html",
    "md/macros.md",
    "md/overview.md",
    "md/owner.md",
    "md/index.md",
    "txt/macros.txt",
    "txt/overview.txt",
    "txt/owner.txt",
    "txt/index.txt",
);

/// The three template engines, one per escaping.
pub struct Templates {
    html: tera::Tera,
    md: tera::Tera,
    txt: tera::Tera,
}

impl Templates {
    /// The built-in templates, each replaced by `dir/<name>` when that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Templates, String> {
        if let Some(d) = dir
            && !d.is_dir()
        {
            return Err(format!(
                "`{}` is not a directory; give the directory holding html/, md/ and txt/ (copy `templates/` to start)",
                crate::text::escape(&d.display().to_string())
            ));
        }
        let mut sets: [Vec<(String, String)>; 3] = Default::default();
        for (name, text) in BUILTIN {
            let text = match dir.map(|d| d.join(name)) {
                Some(p) if p.is_file() => std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read template `{}`: {e}", p.display()))?,
                _ => (*text).to_string(),
            };
            let k = match name.split('/').next() {
                Some("html") => 0,
                Some("md") => 1,
                _ => 2,
            };
            sets[k].push((name.to_string(), text));
        }
        let [h, m, t] = sets;
        let build = |v: Vec<(String, String)>, ext: &'static str, esc: fn(&str) -> String| {
            let mut tera = tera::Tera::default();
            tera.autoescape_on(vec![ext]);
            tera.set_escape_fn(esc);
            tera.add_raw_templates(v).map_err(|e| chain(&e))?;
            Ok::<_, String>(tera)
        };
        Ok(Templates {
            html: build(h, ".html", escape_html)?,
            md: build(m, ".md", escape_md)?,
            txt: build(t, ".txt", escape_txt)?,
        })
    }

    /// Renders `model` with the template `kind` (`overview`, `owner`, `index`,
    /// `owner.email`) of `format`; JSON is the model itself.
    pub fn render(
        &self,
        format: Format,
        kind: &str,
        model: &impl Serialize,
    ) -> Result<String, String> {
        let ctx = tera::Context::from_serialize(model).map_err(|e| chain(&e))?;
        let (tera, name) = match format {
            Format::Html => (&self.html, format!("html/{kind}.html")),
            Format::Md => (&self.md, format!("md/{kind}.md")),
            Format::Txt => (&self.txt, format!("txt/{kind}.txt")),
            Format::Json => {
                return serde_json::to_string_pretty(model)
                    .map(|s| crate::text::json_safe(s) + "\n")
                    .map_err(|e| e.to_string());
            }
        };
        tera.render(&name, &ctx).map_err(|e| chain(&e))
    }
}

/// A Tera error with its causes (the template name and line are in them).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// HTML text and attribute values: `& < > " '` as entities; hidden and control characters
/// as U+FFFD.
pub fn escape_html(s: &str) -> String {
    super::chart::xml(s)
}

/// Markdown: characters that are syntax anywhere in a line (emphasis, links, code, tables,
/// strike-through, GitHub's `$` maths, inline HTML) are escaped everywhere; those that are
/// syntax only at the start of a line (`#`, `-`, `+`, `=`, `>`, `1.`) are escaped there; line
/// breaks become spaces, so a value cannot start a heading, list, table row or code block.
pub fn escape_md(s: &str) -> String {
    // Leading and trailing blanks would let a value start an indented block or a list.
    let s = s.trim();
    let mut out = String::with_capacity(s.len());
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    for (i, c) in s.chars().enumerate() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if i == digits && digits > 0 => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if crate::text::is_hidden(c) || c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for a terminal or an e-mail body: control and invisible characters shown as
/// escapes (see `text::escape`).
pub fn escape_txt(s: &str) -> String {
    crate::text::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_defuses_syntax() {
        assert_eq!(
            escape_md("# <b>[x](y)</b>\n- z"),
            "\\# &lt;b&gt;\\[x\\](y)&lt;/b&gt; - z"
        );
        assert_eq!(escape_md("-1.5 points"), "\\-1.5 points");
        assert_eq!(escape_md("1. item $x$"), "1\\. item \\$x\\$");
    }

    #[test]
    fn every_builtin_template_compiles() {
        Templates::load(None).unwrap();
    }
}
