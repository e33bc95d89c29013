//! Where a CSV's bad weights are: the first rows whose `weight:` column is missing, negative
//! or not a finite number, by line, for the error that stops a run on them. Read only when
//! that error happens; the values themselves are never quoted.

use std::path::Path;

/// Why a weight is bad.
fn problem(field: &str) -> Option<&'static str> {
    let f = field.trim();
    if f.is_empty() {
        return Some("missing");
    }
    match f.parse::<f64>() {
        Err(_) => Some("not a number"),
        Ok(w) if !w.is_finite() => Some("not finite"),
        Ok(w) if w < 0.0 => Some("negative"),
        Ok(_) => None,
    }
}

/// Up to `limit` (line, problem) pairs of `column` in the CSV `file`, in file order. Empty if
/// the file cannot be read or has no such column (the caller's message stands alone then).
pub fn first_lines(
    file: &Path,
    delimiter: u8,
    has_header: bool,
    column: &str,
    limit: usize,
) -> Vec<(u64, &'static str)> {
    let Ok(mut r) = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(has_header)
        .flexible(true)
        .from_path(file)
    else {
        return Vec::new();
    };
    let at = if has_header {
        match r.headers() {
            Ok(h) => h.iter().position(|c| c.trim() == column),
            Err(_) => None,
        }
    } else {
        // DataFusion names headerless columns column_1, column_2, ...
        column
            .strip_prefix("column_")
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| k.checked_sub(1))
    };
    let Some(at) = at else { return Vec::new() };
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    while out.len() < limit {
        match r.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        if let Some(p) = problem(record.get(at).unwrap_or("")) {
            let line = record.position().map_or(0, |p| p.line());
            out.push((line, p));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_bad_weight_by_line() {
        let dir = std::env::temp_dir().join(format!("mt-bad-weights-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("w.csv");
        std::fs::write(&f, "t,n\n2026-01-01,3\n2026-01-02,-1\n2026-01-03,\n2026-01-04,x\n2026-01-05,inf\n2026-01-06,2\n").unwrap();
        assert_eq!(
            first_lines(&f, b',', true, "n", 10),
            vec![
                (3, "negative"),
                (4, "missing"),
                (5, "not a number"),
                (6, "not finite")
            ]
        );
        assert_eq!(first_lines(&f, b',', true, "n", 1), vec![(3, "negative")]);
        assert!(first_lines(&f, b',', true, "nope", 10).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
