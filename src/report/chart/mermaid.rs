//! The tree as a Mermaid flowchart for Markdown reports (GitHub renders it). Labels are
//! quoted, and every character Mermaid or Markdown could read as syntax is written as an
//! entity code (`#quot;`, `#60;`), so names from a tree cannot break out of a label.

use super::tree::TreeBox;
use crate::report::words::arrow;

/// A label's text for inside `"..."`.
pub fn label(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '&' => out.push_str("#38;"),
            '`' => out.push_str("#96;"),
            '[' => out.push_str("#91;"),
            // `%%{init: ...}%%` would be read as a directive anywhere in the diagram.
            '%' => out.push_str("#37;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            '\'' => out.push_str("#39;"),
            ']' => out.push_str("#93;"),
            '\n' | '\r' => out.push(' '),
            c if crate::text::is_hidden(c) || c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The flowchart, ids `n0`, `n1`, ... (never the tree's own ids).
pub fn flowchart(root: &TreeBox) -> String {
    let mut out = String::from("flowchart TD\n");
    let mut next = 0usize;
    walk(root, None, &mut next, &mut out);
    out
}

fn walk(b: &TreeBox, parent: Option<usize>, next: &mut usize, out: &mut String) {
    let id = *next;
    *next += 1;
    out.push_str(&format!(
        "  n{id}[\"{}<br/>{}<br/>{}<br/>{} {} ({})\"]\n",
        label(&b.label),
        label(&b.owner),
        label(&b.values),
        arrow(b.delta),
        label(&b.change),
        b.judgement.word()
    ));
    if let Some(p) = parent {
        out.push_str(&format!("  n{p} --> n{id}\n"));
    }
    for c in &b.children {
        walk(c, Some(id), next, out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_cannot_close_the_quote() {
        assert_eq!(
            super::label("a\"]; click n0 \"x"),
            "a#quot;#93;; click n0 #quot;x"
        );
        assert_eq!(super::label("<script>&"), "#60;script#62;#38;");
        assert_eq!(
            super::label("%%{init: {'theme':'dark'}}%%"),
            "#37;#37;#123;init: #123;#39;theme#39;:#39;dark#39;#125;#125;#37;#37;"
        );
    }
}
