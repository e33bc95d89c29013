//! `inspect` for people: a [`CsvProfile`] as a summary line, warnings about bad values and
//! ragged rows, a table of columns (type, null markers), the first rows, and the `nulls:`
//! line to paste into a tree. Headers, values and markers come from the file: escaped, line
//! breaks kept.

use std::fmt::Write as _;
use std::path::Path;

use crate::engine::inspect::{ColumnType, CsvProfile};

fn type_text(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Empty => "empty".into(),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Integer { epoch: Some(f) } => format!("integer (or time: {})", f.name()),
        ColumnType::Integer { epoch: None } => "integer".into(),
        ColumnType::Number => "number".into(),
        ColumnType::Time {
            format,
            ambiguous,
            unparsed: (bad, of),
        } => format!(
            "time: {}{}{}",
            format.name(),
            if *ambiguous { " (ambiguous)" } else { "" },
            if *bad > 0 {
                format!(", {bad} of {of} sampled do not parse")
            } else {
                String::new()
            }
        ),
        ColumnType::Text { distinct: Some(n) } => format!("text ({n} distinct)"),
        ColumnType::Text { distinct: None } => "text".into(),
    }
}

pub fn render(path: &Path, p: &CsvProfile) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", path.display());
    let _ = writeln!(
        out,
        "  {} rows, {} columns; delimiter {}; {}{}",
        p.rows,
        p.columns.len(),
        match p.delimiter {
            b'\t' => "tab".to_string(),
            d => format!("`{}`", d as char),
        },
        if p.bom {
            "UTF-8 with a byte-order mark (ignored)"
        } else {
            "UTF-8"
        },
        if p.multiline > 0 {
            format!("; {} values span lines (quoted newlines)", p.multiline)
        } else {
            String::new()
        }
    );
    if p.not_utf8 > 0 {
        let _ = writeln!(
            out,
            "  {} values are not UTF-8: those rows will be reported as bad",
            p.not_utf8
        );
    }
    if !p.ragged.is_empty() {
        let lines: Vec<String> = p
            .ragged
            .iter()
            .take(10)
            .map(|(l, w)| format!("line {l} ({w})"))
            .collect();
        let _ = writeln!(
            out,
            "  {} rows do not have {} fields: {}{}",
            p.ragged.len(),
            p.columns.len(),
            lines.join(", "),
            if p.ragged.len() > 10 { ", ..." } else { "" }
        );
    }
    let _ = writeln!(out, "\n  {:<28} {:<34} nulls", "column", "type");
    for c in &p.columns {
        let nulls: Vec<String> = c
            .nulls
            .iter()
            .map(|(m, n)| format!("{} ×{n}", if m.is_empty() { "empty" } else { m }))
            .collect();
        let _ = writeln!(
            out,
            "  {:<28} {:<34} {}",
            c.name,
            type_text(&c.ty),
            nulls.join(", ")
        );
    }
    let _ = writeln!(out, "\n  first {} rows:", p.first_rows.len());
    for r in &p.first_rows {
        let shown: Vec<String> = r.iter().map(|v| v.replace('\n', "\\n")).collect();
        let _ = writeln!(out, "    {}", shown.join(" | "));
    }
    let markers = p.null_markers();
    if !markers.is_empty() {
        let _ = writeln!(
            out,
            "\n  to read the markers as missing values: nulls: [{}]",
            markers
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    crate::text::escape_lines(&out)
}
