//! Reads messy CSV exports into one clean CSV file the engine then reads: several files (a
//! glob), a byte-order mark, `,` `;` tab or `|` delimiters (detected), quoted newlines, null
//! markers (`?`, `NA`), times written day-first, month-first, as epoch seconds or
//! milliseconds or ISO 8601 with offsets (rewritten as ISO 8601; instants in UTC with `Z`),
//! and duplicate rows by a declared key.
//!
//! Nothing is dropped silently: a row that cannot be read (wrong number of fields, a time that
//! does not parse, bytes that are not UTF-8) is counted with its file and line; duplicates are
//! counted with the line of the row they repeat; every guess (delimiter, time format) is
//! listed. Too many bad rows (`max_bad_rows`, default 1 %) is an error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::spec::model::CsvOptions;

pub use crate::spec::time_format::TimeFormat;

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    pub file: PathBuf,
    /// 1-based line where the row starts.
    pub line: u64,
    pub reason: String,
}

/// What reading found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanReport {
    pub files: Vec<PathBuf>,
    pub columns: Vec<String>,
    pub delimiter: u8,
    pub rows_read: u64,
    pub rows_written: u64,
    pub bad: Vec<BadRow>,
    pub bad_count: u64,
    /// Dropped duplicates: (file, line, the line it repeats).
    pub duplicates: Vec<(PathBuf, u64, String)>,
    pub duplicate_count: u64,
    /// Per column: null markers seen, with counts.
    pub nulls_seen: Vec<(String, String, u64)>,
    /// What was assumed (delimiter, time formats), for the report.
    pub assumed: Vec<String>,
}

/// A header that names one column twice, as a message (columns counted from 1); the engine
/// would otherwise read the file with shifted or merged columns.
pub fn duplicate_header(header: &[String], file: &Path) -> Option<String> {
    for (i, h) in header.iter().enumerate() {
        if let Some(j) = header[i + 1..].iter().position(|x| x == h) {
            return Some(format!(
                "the header of `{}` names `{}` twice (columns {} and {}); each column needs its own name: rename one in the export",
                file.display(),
                crate::text::excerpt(h),
                i + 1,
                i + j + 2
            ));
        }
    }
    None
}

/// The header row of a CSV file, split by `delimiter` (quotes honoured), without a BOM.
pub fn read_header(file: &Path, delimiter: u8) -> Option<Vec<String>> {
    use std::io::{BufRead, BufReader, Read};
    let f = std::fs::File::open(file).ok()?;
    let mut line = Vec::new();
    BufReader::new(f.take(1 << 20))
        .read_until(b'\n', &mut line)
        .ok()?;
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let rec = r.byte_records().next()?.ok()?;
    Some(
        rec.iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect(),
    )
}

/// Whether a `file:` entry is a glob.
pub fn is_glob(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The most frequent of `,` `;` tab `|` in a header line.
pub fn detect_delimiter(header: &str) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        d => format!("`{}`", d as char),
    }
}

/// Reads `files` with `opts` and writes one clean CSV (comma-separated, header, UTF-8) to
/// `out`. `time_columns`: the source's time column and `timestamps`.
pub fn clean(
    files: &[PathBuf],
    opts: &CsvOptions,
    delimiter: u8,
    has_header: bool,
    time_columns: &[String],
    out: &Path,
) -> Result<CleanReport, String> {
    let mut report = CleanReport {
        files: files.to_vec(),
        ..CleanReport::default()
    };
    let mut writer = csv::WriterBuilder::new()
        .from_path(out)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    let mut formats: Vec<Option<TimeFormat>> = Vec::new();
    let mut time_idx: Vec<usize> = Vec::new();
    let mut key_idx: Vec<usize> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut first_line_of: std::collections::HashMap<String, (usize, u64)> = Default::default();
    let mut null_counts: Vec<Vec<u64>> = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first_line = text.split(|b| *b == b'\n').next().unwrap_or(b"");
        let delim = if opts.detect_delimiter {
            detect_delimiter(&String::from_utf8_lossy(first_line))
        } else {
            delimiter
        };
        if fi == 0 {
            report.delimiter = delim;
            if opts.detect_delimiter && delim != b',' {
                report.assumed.push(format!(
                    "delimiter {} (from the header line)",
                    delimiter_name(delim)
                ));
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut records = reader.byte_records();
        let header: Vec<String> = if has_header {
            match records.next() {
                Some(Ok(h)) => h
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_string())
                    .collect(),
                _ => return Err(format!("{} has no header row", file.display())),
            }
        } else {
            Vec::new()
        };
        if let Some(m) = duplicate_header(&header, file) {
            return Err(m);
        }
        if fi == 0 {
            report.columns = header.clone();
            time_idx = time_columns
                .iter()
                .filter_map(|c| report.columns.iter().position(|h| h == c))
                .collect();
            key_idx = opts
                .key
                .iter()
                .map(|k| {
                    report
                        .columns
                        .iter()
                        .position(|h| *h == k.value)
                        .ok_or_else(|| {
                            format!(
                                "the key column `{}` is not in {} (columns: {})",
                                k.value,
                                file.display(),
                                report.columns.join(", ")
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
            formats = vec![None; report.columns.len()];
            null_counts = vec![vec![0; opts.nulls.len()]; report.columns.len()];
            if let Some(f) = &opts.time_format {
                for &i in &time_idx {
                    formats[i] = TimeFormat::parse(&f.value);
                }
            }
            writer
                .write_record(&report.columns)
                .map_err(|e| e.to_string())?;
        } else if has_header && header != report.columns {
            return Err(format!(
                "{} has other columns than {} ({} vs {}); files of one source must share a header",
                file.display(),
                files[0].display(),
                header.join(", "),
                report.columns.join(", ")
            ));
        }
        let width = report.columns.len();
        for rec in records {
            let (line, rec) = match rec {
                Ok(r) => (r.position().map_or(0, |p| p.line()), r),
                Err(e) => {
                    report.rows_read += 1;
                    report.bad_count += 1;
                    let line = e.position().map_or(0, |p| p.line());
                    push_bad(&mut report, file, line, format!("unreadable: {e}"));
                    continue;
                }
            };
            report.rows_read += 1;
            if rec.len() != width {
                report.bad_count += 1;
                push_bad(
                    &mut report,
                    file,
                    line,
                    format!("has {} fields, the header has {width}", rec.len()),
                );
                continue;
            }
            let mut fields: Vec<String> = Vec::with_capacity(width);
            let mut bad = None;
            for (i, f) in rec.iter().enumerate() {
                match std::str::from_utf8(f) {
                    Ok(s) => {
                        let t = s.trim();
                        if let Some(k) = opts.nulls.iter().position(|n| n == t) {
                            null_counts[i][k] += 1;
                            fields.push(String::new());
                        } else {
                            fields.push(s.to_string());
                        }
                    }
                    Err(_) => {
                        bad = Some(format!("column `{}` is not UTF-8", report.columns[i]));
                        break;
                    }
                }
            }
            if bad.is_none() {
                for &i in &time_idx {
                    if fields[i].trim().is_empty() {
                        continue;
                    }
                    if formats[i].is_none() {
                        formats[i] = Some(detect_column(
                            files,
                            &opts.nulls,
                            delim,
                            i,
                            &report.columns[i],
                            &mut report.assumed,
                        )?);
                    }
                    let f = formats[i].as_ref().expect("set above");
                    match f.normalize(&fields[i]) {
                        Some(v) => fields[i] = v,
                        None => {
                            bad = Some(format!(
                                "`{}` = `{}` is not a time in the {} format",
                                report.columns[i],
                                fields[i],
                                f.name()
                            ));
                            break;
                        }
                    }
                }
            }
            if let Some(reason) = bad {
                report.bad_count += 1;
                push_bad(&mut report, file, line, reason);
                continue;
            }
            if !key_idx.is_empty() {
                let key = key_idx
                    .iter()
                    .map(|&i| fields[i].as_str())
                    .collect::<Vec<_>>()
                    .join("\u{1f}");
                if !seen.insert(key.clone()) {
                    report.duplicate_count += 1;
                    if report.duplicates.len() < 10 {
                        let (ff, fl) = first_line_of[&key];
                        let first = if ff == fi {
                            format!("line {fl}")
                        } else {
                            format!("{} line {fl}", files[ff].display())
                        };
                        report.duplicates.push((file.clone(), line, first));
                    }
                    continue;
                }
                first_line_of.insert(key, (fi, line));
            }
            writer.write_record(&fields).map_err(|e| e.to_string())?;
            report.rows_written += 1;
        }
    }
    writer.flush().map_err(|e| e.to_string())?;
    for (i, counts) in null_counts.iter().enumerate() {
        for (k, &n) in counts.iter().enumerate() {
            if n > 0 {
                report
                    .nulls_seen
                    .push((report.columns[i].clone(), opts.nulls[k].clone(), n));
            }
        }
    }
    Ok(report)
}

fn push_bad(report: &mut CleanReport, file: &Path, line: u64, reason: String) {
    if report.bad.len() < 20 {
        report.bad.push(BadRow {
            file: file.to_path_buf(),
            line,
            reason,
        });
    }
}

/// Detects a time column's format from up to 500 values of every file (read as a stream:
/// only those rows are read).
fn detect_column(
    files: &[PathBuf],
    nulls: &[String],
    delim: u8,
    col: usize,
    name: &str,
    assumed: &mut Vec<String>,
) -> Result<TimeFormat, String> {
    let mut values: Vec<String> = Vec::new();
    for file in files {
        // The header row (with any byte-order mark) is skipped, so the mark does not matter.
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delim)
            .flexible(true)
            .from_path(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        for rec in r.records().flatten().take(500) {
            if let Some(v) = rec.get(col) {
                let v = v.trim();
                if !v.is_empty() && !nulls.iter().any(|n| n == v) {
                    values.push(v.to_string());
                }
            }
        }
    }
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    match TimeFormat::detect(&refs) {
        Some((f, why)) => {
            assumed.push(format!("`{name}`: {} ({why})", f.name()));
            Ok(f)
        }
        None => Err(format!(
            "cannot tell how `{name}` is written (values such as `{}`); set the source's `time_format` (iso, day_first, month_first, epoch_seconds, epoch_millis, or a pattern like `%d.%m.%Y %H:%M`), or name the column that holds the time",
            values.first().map_or("", String::as_str)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_normalize() {
        let f = |fmt: TimeFormat, v: &str| fmt.normalize(v);
        assert_eq!(
            f(TimeFormat::DayFirst, "29/2/2016 01:16").as_deref(),
            Some("2016-02-29 01:16:00")
        );
        assert_eq!(f(TimeFormat::DayFirst, "31/02/2016"), None);
        assert_eq!(
            f(TimeFormat::MonthFirst, "2/29/2016 13:05:09").as_deref(),
            Some("2016-02-29 13:05:09")
        );
        assert_eq!(
            f(TimeFormat::EpochSeconds, "1456708560").as_deref(),
            Some("2016-02-29T01:16:00Z")
        );
        assert_eq!(
            f(TimeFormat::EpochMillis, "1456708560250").as_deref(),
            Some("2016-02-29T01:16:00.250Z")
        );
        assert_eq!(
            f(TimeFormat::Iso, "2010-03-31T15:59:42+01:00").as_deref(),
            Some("2010-03-31T14:59:42Z")
        );
        assert_eq!(
            f(TimeFormat::Iso, "2026-11-16 09:15").as_deref(),
            Some("2026-11-16 09:15:00")
        );
        assert_eq!(
            f(
                TimeFormat::Pattern("%d.%m.%Y %H:%M".into()),
                "29.02.2016 01:16"
            )
            .as_deref(),
            Some("2016-02-29 01:16:00")
        );
    }

    #[test]
    fn detection_says_what_it_assumed() {
        assert_eq!(
            TimeFormat::detect(&["29/2/2016 01:16", "1/3/2016 02:00"])
                .unwrap()
                .0,
            TimeFormat::DayFirst
        );
        assert_eq!(
            TimeFormat::detect(&["2/29/2016"]).unwrap().0,
            TimeFormat::MonthFirst
        );
        let (f, why) = TimeFormat::detect(&["1/2/2016"]).unwrap();
        assert_eq!(f, TimeFormat::DayFirst);
        assert!(why.contains("AMBIGUOUS"));
        assert_eq!(
            TimeFormat::detect(&["1456708560"]).unwrap().0,
            TimeFormat::EpochSeconds
        );
        assert_eq!(TimeFormat::detect(&["hello", "world"]), None);
        assert_eq!(TimeFormat::detect(&["1/3/2016", "soon"]), None);
        assert_eq!(
            TimeFormat::detect(&["1456708560"]).unwrap().0,
            TimeFormat::EpochSeconds
        );
        assert_eq!(
            TimeFormat::detect(&["1456708560250"]).unwrap().0,
            TimeFormat::EpochMillis
        );
        assert_eq!(
            TimeFormat::detect(&["2016-02-29T01:16:00+01:00"])
                .unwrap()
                .0,
            TimeFormat::Iso
        );
        assert_eq!(detect_delimiter("a;b;c"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
    }
}
