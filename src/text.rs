//! Text from a tree or from data, made safe to print: the one escaping function every
//! terminal, diagnostic and table output uses for strings it did not write itself.
//!
//! Control characters (ESC, CR, newline, tab, C1 codes) would let a label or a cell rewrite
//! what a reviewer sees; bidirectional overrides (U+202E) and zero-width characters hide or
//! reorder it. [`escape`] writes each of them as a visible Rust-style escape (`\n`,
//! `\u{1b}`, `\u{202e}`), and leaves every other character — accents, CJK, emoji — alone.
//! [`excerpt`] also shortens a value, for messages that may quote data.

use std::borrow::Cow;

/// Whether `c` is printed as an escape: control characters, and format characters that
/// change how the text around them is displayed without being visible themselves.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff0}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `s` with every hidden character written as an escape (see the module docs). A string
/// without any is returned as it is.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_hidden(c) => {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Text of several lines: each line escaped, the line breaks kept (`\r` is escaped).
pub fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| escape(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// JSON text with every hidden character that is still raw in it (JSON escapes control
/// characters, but not bidirectional overrides or zero-width characters) written as a
/// `\uXXXX` escape: the same value for a program, nothing hidden for a person reading it.
pub fn json_safe(json: String) -> String {
    if !json.chars().any(is_hidden) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hidden(c) && c != '\n' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", u);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The most characters of data a message quotes.
pub const EXCERPT_CHARS: usize = 40;
/// The most characters of author text (a query, an expression) or of an engine's error a
/// message quotes.
pub const QUOTE_CHARS: usize = 160;

/// `s` escaped, at most `max` of its characters, then `…`.
fn clipped(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// A short, escaped excerpt of a value from the data, for a message: at most
/// [`EXCERPT_CHARS`] characters, then `…`.
pub fn excerpt(s: &str) -> String {
    clipped(s, EXCERPT_CHARS)
}

/// Author text quoted in a message: escaped (line breaks as `\n`), at most [`QUOTE_CHARS`]
/// characters.
pub fn quote(s: &str) -> String {
    clipped(s, QUOTE_CHARS)
}

/// The first line of an engine's error, escaped and at most [`QUOTE_CHARS`] characters (the
/// rest can be a plan or a value from the data).
pub fn first_line(s: &str) -> String {
    clipped(s.lines().next().unwrap_or(""), QUOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_nothing_and_keeps_the_rest() {
        assert_eq!(escape("Zürich 東京 ✓"), "Zürich 東京 ✓");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ry\nz\t"), "x\\ry\\nz\\t");
        assert_eq!(escape("evil\u{202e}gnp.exe"), "evil\\u{202e}gnp.exe");
        assert_eq!(escape("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_lines("a\u{1b}\nb"), "a\\u{1b}\nb");
        assert_eq!(excerpt(&"x".repeat(100)).chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(quote("a\nb"), "a\\nb");
        assert_eq!(first_line("one\u{1b}\ntwo"), "one\\u{1b}");
        let j = json_safe("{\n  \"a\": \"x\u{202e}y\u{1f600}\u{e0001}\"\n}".into());
        assert_eq!(j, "{\n  \"a\": \"x\\u202ey\u{1f600}\\udb40\\udc01\"\n}");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["a"], "x\u{202e}y\u{1f600}\u{e0001}");
    }
}
