//! `metrictree inspect FILE`: what a CSV export holds before a tree reads it — encoding
//! marks, the delimiter, each column's detected type or time format, the null markers seen,
//! rows that do not fit the header (with line numbers), and a few rows.

use std::fmt::Write as _;
use std::path::Path;

use super::Outcome;
use crate::error::Error;
use crate::spec::time_format::TimeFormat;

/// Markers that often mean "no value" in exports.
const NULL_MARKERS: &[&str] = &["", "?", "NA", "N/A", "n/a", "NULL", "null", "None", "-"];

#[derive(Default)]
struct Column {
    values: u64,
    nulls: Vec<(String, u64)>,
    ints: u64,
    floats: u64,
    bools: u64,
    samples: Vec<String>,
    distinct: std::collections::BTreeSet<String>,
}

pub fn run(path: &Path, rows: usize) -> Outcome {
    // The operator names the file (trusted), but only a regular file is read: a FIFO or a
    // device would block or never end.
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Runtime(format!("cannot read `{}`: {e}", path.display())))?;
    let kind = crate::engine::access::kind_of(&meta);
    if kind != "a file" {
        return Err(Error::Runtime(format!(
            "`{}` is {kind}, not a CSV file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Runtime(format!("cannot read `{}`: {e}", path.display())))?;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let header_line = String::from_utf8_lossy(text.split(|b| *b == b'\n').next().unwrap_or(b""));
    let delim = crate::engine::csv_clean::detect_delimiter(&header_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = reader.byte_records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect(),
        _ => return Err(Error::Runtime(format!("`{}` is empty", path.display()))),
    };
    let mut cols: Vec<Column> = header.iter().map(|_| Column::default()).collect();
    let (mut total, mut multiline, mut ragged, mut not_utf8) = (0u64, 0u64, Vec::new(), 0u64);
    let mut first_rows: Vec<Vec<String>> = Vec::new();
    for rec in records {
        let Ok(rec) = rec else {
            ragged.push((0, "unreadable".to_string()));
            continue;
        };
        total += 1;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != header.len() {
            ragged.push((line, format!("{} fields", rec.len())));
            continue;
        }
        let mut row = Vec::new();
        for (i, f) in rec.iter().enumerate() {
            let Ok(v) = std::str::from_utf8(f) else {
                not_utf8 += 1;
                row.push("<not UTF-8>".into());
                continue;
            };
            multiline += u64::from(v.contains('\n'));
            row.push(v.to_string());
            let c = &mut cols[i];
            let t = v.trim();
            if NULL_MARKERS.contains(&t) {
                match c.nulls.iter_mut().find(|(m, _)| m == t) {
                    Some((_, n)) => *n += 1,
                    None => c.nulls.push((t.to_string(), 1)),
                }
                continue;
            }
            c.values += 1;
            c.ints += u64::from(t.parse::<i64>().is_ok());
            c.floats += u64::from(t.parse::<f64>().is_ok());
            c.bools += u64::from(matches!(
                t,
                "true" | "false" | "TRUE" | "FALSE" | "True" | "False"
            ));
            if c.samples.len() < 200 {
                c.samples.push(t.to_string());
            }
            if c.distinct.len() <= 50 {
                c.distinct.insert(t.to_string());
            }
        }
        if first_rows.len() < rows {
            first_rows.push(row);
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}", path.display());
    let _ = writeln!(
        out,
        "  {} rows, {} columns; delimiter {}; {}{}",
        total,
        header.len(),
        match delim {
            b'\t' => "tab".to_string(),
            d => format!("`{}`", d as char),
        },
        if bom {
            "UTF-8 with a byte-order mark (ignored)"
        } else {
            "UTF-8"
        },
        if multiline > 0 {
            format!("; {multiline} values span lines (quoted newlines)")
        } else {
            String::new()
        }
    );
    if not_utf8 > 0 {
        let _ = writeln!(
            out,
            "  {not_utf8} values are not UTF-8: those rows will be reported as bad"
        );
    }
    if !ragged.is_empty() {
        let lines: Vec<String> = ragged
            .iter()
            .take(10)
            .map(|(l, w)| format!("line {l} ({w})"))
            .collect();
        let _ = writeln!(
            out,
            "  {} rows do not have {} fields: {}{}",
            ragged.len(),
            header.len(),
            lines.join(", "),
            if ragged.len() > 10 { ", ..." } else { "" }
        );
    }
    let _ = writeln!(out, "\n  {:<28} {:<34} nulls", "column", "type");
    for (h, c) in header.iter().zip(&cols) {
        let samples: Vec<&str> = c.samples.iter().map(String::as_str).collect();
        let ty = if c.values == 0 {
            "empty".to_string()
        } else if c.bools == c.values {
            "boolean".into()
        } else if c.ints == c.values {
            // Epoch times are integers too: say so when they look like them.
            match TimeFormat::detect(&samples) {
                Some((f @ (TimeFormat::EpochSeconds | TimeFormat::EpochMillis), _))
                    if samples.iter().all(|s| s.len() >= 9) =>
                {
                    format!("integer (or time: {})", f.name())
                }
                _ => "integer".into(),
            }
        } else if c.floats == c.values {
            "number".into()
        } else if samples
            .iter()
            .any(|s| s.chars().filter(|c| c.is_ascii_digit()).count() >= 6)
            && let Some((f, why)) = detect_mostly(&samples)
        {
            let bad = samples.iter().filter(|s| f.normalize(s).is_none()).count();
            format!(
                "time: {}{}{}",
                f.name(),
                if why.starts_with("AMBIGUOUS") {
                    " (ambiguous)"
                } else {
                    ""
                },
                if bad > 0 {
                    format!(", {bad} of {} sampled do not parse", samples.len())
                } else {
                    String::new()
                }
            )
        } else if c.distinct.len() <= 50 {
            format!("text ({} distinct)", c.distinct.len())
        } else {
            "text".into()
        };
        let nulls: Vec<String> = c
            .nulls
            .iter()
            .map(|(m, n)| format!("{} ×{n}", if m.is_empty() { "empty" } else { m }))
            .collect();
        let _ = writeln!(out, "  {h:<28} {ty:<34} {}", nulls.join(", "));
    }
    let _ = writeln!(out, "\n  first {} rows:", first_rows.len());
    for r in &first_rows {
        let shown: Vec<String> = r.iter().map(|v| v.replace('\n', "\\n")).collect();
        let _ = writeln!(out, "    {}", shown.join(" | "));
    }
    let nulls_used: Vec<&str> = cols
        .iter()
        .flat_map(|c| c.nulls.iter().map(|(m, _)| m.as_str()))
        .filter(|m| !m.is_empty())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !nulls_used.is_empty() {
        let _ = writeln!(
            out,
            "\n  to read the markers as missing values: nulls: [{}]",
            nulls_used
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // Headers, values and markers come from the file: escaped, line breaks kept.
    Ok(crate::text::escape_lines(&out))
}

/// A time format that reads at least 90 % of the values (an export's few broken dates do not
/// hide the column's format).
fn detect_mostly(samples: &[&str]) -> Option<(TimeFormat, String)> {
    let (f, why) = TimeFormat::detect(samples).or_else(|| {
        [
            TimeFormat::DayFirst,
            TimeFormat::MonthFirst,
            TimeFormat::Iso,
        ]
        .into_iter()
        .max_by_key(|f| samples.iter().filter(|s| f.normalize(s).is_some()).count())
        .map(|f| (f, String::new()))
    })?;
    let ok = samples.iter().filter(|s| f.normalize(s).is_some()).count();
    (ok * 10 >= samples.len() * 9).then_some((f, why))
}
