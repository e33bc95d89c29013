//! `history` for people and spreadsheets: a table of nodes (and segments) by period, and a
//! long CSV (one row per node, segment and period). Renders a [`HistoryReport`] only;
//! strings from the tree or the data are escaped here (for CSV: quoted, and cells a
//! spreadsheet would run as a formula are defused).

use crate::report::format::value;
use crate::report::history::HistoryReport;
use crate::report::style::Styles;
use crate::text::escape;

pub fn render(r: &HistoryReport, st: &Styles) -> String {
    let mut header = vec!["Node".to_string(), "Owner".to_string()];
    header.extend(
        r.periods
            .iter()
            .map(|p| format!("{}{}", p.period.label, if p.complete { "" } else { "*" })),
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    for n in &r.nodes {
        let mut cells = vec![
            escape(&n.label).into_owned(),
            escape(&n.owner_name).into_owned(),
        ];
        cells.extend(n.values.iter().map(|v| value(*v, n.unit)));
        rows.push(cells);
        for s in &n.segments {
            let mut cells = vec![
                format!(
                    "  {} = {}",
                    escape(r.dimension.as_deref().unwrap_or("")),
                    s.value_of.as_deref().map_or("(null)".into(), escape)
                ),
                String::new(),
            ];
            cells.extend(s.values.iter().map(|v| value(*v, n.unit)));
            rows.push(cells);
        }
    }
    let mut out = super::table::align(&header, &rows, 2, st);
    if r.periods.iter().any(|p| !p.complete) {
        out.push_str("\n* partial: the data ends before the period's outcomes matured; its values may still move\n");
    }
    out
}

/// One row per node, segment and period: `period,start,end,complete,node,segment,value,status`.
pub fn csv(r: &HistoryReport) -> String {
    let mut out = String::from("period,start,end,complete,node,label,segment,value,status\n");
    for n in &r.nodes {
        let series =
            std::iter::once((None, &n.values, &n.statuses)).chain(n.segments.iter().map(|s| {
                (
                    Some(s.value_of.as_deref().unwrap_or("")),
                    &s.values,
                    &s.statuses,
                )
            }));
        for (seg, values, statuses) in series {
            for (i, p) in r.periods.iter().enumerate() {
                let segment = match (seg, &r.dimension) {
                    (Some(v), Some(d)) => format!("{d}={v}"),
                    _ => String::new(),
                };
                let row = [
                    p.period.label.clone(),
                    p.period.start.clone(),
                    p.period.end.clone(),
                    p.complete.to_string(),
                    n.id.clone(),
                    n.label.clone(),
                    segment,
                    values[i].map(|v| format!("{v:?}")).unwrap_or_default(),
                    serde_json::to_value(statuses[i])
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                ];
                let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        }
    }
    out
}

/// A CSV cell: quoted when it holds a separator, quote or line break; text a spreadsheet
/// would evaluate (`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading `'`.
/// Control characters become U+FFFD.
pub fn csv_cell(s: &str) -> String {
    let numeric = s.parse::<f64>().is_ok();
    let mut t: String = s
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    if !numeric && t.starts_with(['=', '+', '-', '@']) {
        t.insert(0, '\'');
    }
    if t.contains([',', '"', '\n']) {
        format!("\"{}\"", t.replace('"', "\"\""))
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-0.5"), "-0.5");
        assert_eq!(csv_cell("a\u{1b}b"), "a\u{fffd}b");
    }
}
