//! Charts drawn by the engine: SVG for HTML reports (inline, no script, fonts or links),
//! Mermaid for Markdown, bars of text for terminals and e-mail bodies. Every string that came
//! from a tree or data is escaped here, for the language it is written into.
//!
//! Each chart carries a text alternative: SVG has `<title>` and `<desc>`; the report model
//! also keeps the chart's rows as a table.

pub mod mermaid;
pub mod sparkline;
pub mod tree;
pub mod waterfall;

use serde::Serialize;

use crate::report::words::Judgement;

/// A chart as the report model carries it.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// `waterfall`, `tree` or `sparkline`.
    pub kind: &'static str,
    /// The SVG, escaped and ready to embed.
    pub svg: String,
    /// What it shows, in one sentence (its `<title>`).
    pub title: String,
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if crate::text::is_hidden(c) || c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, with `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Green for better, red for worse, grey for neither (always paired with a sign or word).
pub fn colour(j: Judgement) -> &'static str {
    match j {
        Judgement::Better => "#1a7f37",
        Judgement::Worse => "#cf222e",
        Judgement::Neutral => "#57606a",
    }
}

/// A number as SVG writes it: two decimals, no `-0`.
pub(crate) fn px(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" { "0".into() } else { s }
}

/// The opening of an SVG of the given size with its title and description.
pub(crate) fn open(w: f64, h: f64, title: &str, desc: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" style=\"font-family:sans-serif\"><title>{}</title><desc>{}</desc>",
        xml(title),
        xml(desc),
        w = px(w),
        h = px(h)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(
            xml("<script>\"a\" & 'b'</svg>\u{1b}"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/svg&gt;\u{fffd}"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(px(-0.001), "0");
        assert_eq!(px(12.5), "12.5");
    }
}
