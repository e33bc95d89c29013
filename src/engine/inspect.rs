//! What a CSV export holds before a tree reads it (`metrictree inspect`): encoding marks, the
//! delimiter, each column's detected type or time format, the null markers seen, rows that
//! do not fit the header (with line numbers), and a few rows. The file is the operator's
//! (named on the command line), but only a regular file is read.

use std::collections::BTreeSet;
use std::path::Path;

use crate::spec::time_format::TimeFormat;

/// Markers that often mean "no value" in exports.
const NULL_MARKERS: &[&str] = &["", "?", "NA", "N/A", "n/a", "NULL", "null", "None", "-"];

/// What a column's values look like.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnType {
    /// Only null markers.
    Empty,
    Boolean,
    /// Integers; `epoch` when they look like epoch times too.
    Integer {
        epoch: Option<TimeFormat>,
    },
    Number,
    /// Times in one format, read by at least 90 % of the sampled values.
    Time {
        format: TimeFormat,
        /// Day-first and month-first both read every value.
        ambiguous: bool,
        /// (sampled values that do not parse, values sampled).
        unparsed: (usize, usize),
    },
    /// Text, with the count of distinct values when there are at most 50.
    Text {
        distinct: Option<usize>,
    },
}

/// One column of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    pub ty: ColumnType,
    /// (marker, count), in order of first appearance; `""` is an empty value.
    pub nulls: Vec<(String, u64)>,
}

/// What a CSV file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvProfile {
    /// Data rows (after the header).
    pub rows: u64,
    pub delimiter: u8,
    pub bom: bool,
    /// Values that span lines (quoted newlines).
    pub multiline: u64,
    pub not_utf8: u64,
    /// (line, what is wrong) for rows that do not have the header's fields.
    pub ragged: Vec<(u64, String)>,
    pub columns: Vec<ColumnProfile>,
    /// The first rows asked for, as text.
    pub first_rows: Vec<Vec<String>>,
}

impl CsvProfile {
    /// The non-empty null markers any column uses, sorted.
    pub fn null_markers(&self) -> Vec<&str> {
        self.columns
            .iter()
            .flat_map(|c| c.nulls.iter().map(|(m, _)| m.as_str()))
            .filter(|m| !m.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

#[derive(Default)]
struct Tally {
    values: u64,
    nulls: Vec<(String, u64)>,
    ints: u64,
    floats: u64,
    bools: u64,
    samples: Vec<String>,
    distinct: BTreeSet<String>,
}

/// Reads `path` and profiles it, keeping its first `rows` rows. Errors are messages that
/// name the file.
pub fn profile(path: &Path, rows: usize) -> Result<CsvProfile, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let kind = super::access::kind_of(&meta);
    if kind != "a file" {
        return Err(format!("`{}` is {kind}, not a CSV file", path.display()));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let header_line = String::from_utf8_lossy(text.split(|b| *b == b'\n').next().unwrap_or(b""));
    let delimiter = super::csv_clean::detect_delimiter(&header_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = reader.byte_records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect(),
        _ => return Err(format!("`{}` is empty", path.display())),
    };
    let mut cols: Vec<Tally> = header.iter().map(|_| Tally::default()).collect();
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
            tally(&mut cols[i], v.trim());
        }
        if first_rows.len() < rows {
            first_rows.push(row);
        }
    }
    let columns = header
        .into_iter()
        .zip(cols)
        .map(|(name, t)| ColumnProfile {
            name,
            ty: column_type(&t),
            nulls: t.nulls,
        })
        .collect();
    Ok(CsvProfile {
        rows: total,
        delimiter,
        bom,
        multiline,
        not_utf8,
        ragged,
        columns,
        first_rows,
    })
}

fn tally(c: &mut Tally, t: &str) {
    if NULL_MARKERS.contains(&t) {
        match c.nulls.iter_mut().find(|(m, _)| m == t) {
            Some((_, n)) => *n += 1,
            None => c.nulls.push((t.to_string(), 1)),
        }
        return;
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

fn column_type(c: &Tally) -> ColumnType {
    let samples: Vec<&str> = c.samples.iter().map(String::as_str).collect();
    if c.values == 0 {
        ColumnType::Empty
    } else if c.bools == c.values {
        ColumnType::Boolean
    } else if c.ints == c.values {
        // Epoch times are integers too: say so when they look like them.
        let epoch = match TimeFormat::detect(&samples) {
            Some((f @ (TimeFormat::EpochSeconds | TimeFormat::EpochMillis), _))
                if samples.iter().all(|s| s.len() >= 9) =>
            {
                Some(f)
            }
            _ => None,
        };
        ColumnType::Integer { epoch }
    } else if c.floats == c.values {
        ColumnType::Number
    } else if samples
        .iter()
        .any(|s| s.chars().filter(|c| c.is_ascii_digit()).count() >= 6)
        && let Some((format, why)) = detect_mostly(&samples)
    {
        let bad = samples
            .iter()
            .filter(|s| format.normalize(s).is_none())
            .count();
        ColumnType::Time {
            format,
            ambiguous: why.starts_with("AMBIGUOUS"),
            unparsed: (bad, samples.len()),
        }
    } else {
        ColumnType::Text {
            distinct: (c.distinct.len() <= 50).then_some(c.distinct.len()),
        }
    }
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
