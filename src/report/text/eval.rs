//! `eval` for people: the title and period, then an indented table of every node (the
//! root's tree, then companions) with its owner, value, a column per segment and its target,
//! then cause coverage. Renders an [`EvalReport`] only; strings from the tree or the data are
//! escaped here.

use crate::report::eval::EvalReport;
use crate::report::format::value;
use crate::report::style::Styles;
use crate::text::escape;

pub fn render(r: &EvalReport, st: &Styles) -> String {
    format!(
        "{}{}{}  {} ({})\n\n{}{}",
        st.bold,
        escape(&r.title),
        st.reset,
        r.period.label,
        if r.complete { "complete" } else { "partial" },
        table(r, st),
        super::coverage::render(&r.transfer_causes, st)
    )
}

fn table(r: &EvalReport, st: &Styles) -> String {
    let mut header = vec![
        "Node".to_string(),
        "Owner".to_string(),
        r.period.label.clone(),
    ];
    header.extend(r.segment_values.iter().map(|s| {
        s.as_deref()
            .map_or("(null)".into(), |v| escape(v).into_owned())
    }));
    header.push("Target".into());
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut companions_started = false;
    for row in &r.rows {
        if row.companion && !companions_started {
            companions_started = true;
            rows.push(vec![String::new()]);
            rows.push(vec!["Companions".into()]);
        }
        let Some(node) = r.node(&row.id) else {
            continue;
        };
        let mut cells = vec![
            format!("{}{}", "  ".repeat(row.depth), escape(&node.label)),
            escape(&node.owner_name).into_owned(),
            value(node.value, node.unit),
        ];
        // A node that cannot be split by the dimension has no segments; one that can has
        // one per value, in `segment_values` order.
        for k in 0..r.segment_values.len() {
            let cell = match node.segments.get(k) {
                None => "n/a".into(),
                Some(s) => value(s.value, node.unit),
            };
            cells.push(cell);
        }
        cells.push(
            node.target
                .map(|t| value(Some(t), node.unit))
                .unwrap_or_default(),
        );
        rows.push(cells);
    }
    let cols = header.len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            std::iter::once(&header)
                .chain(rows.iter().filter(|r| r.len() == cols))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let fmt = |r: &Vec<String>| {
        if r.len() != cols {
            return format!("{}\n", r.first().cloned().unwrap_or_default());
        }
        let mut s = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c < 2 {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
            s.push_str("  ");
        }
        format!("{}\n", s.trim_end())
    };
    let mut out = format!("{}{}{}", st.dim, fmt(&header), st.reset);
    for r in &rows {
        out.push_str(&fmt(r));
    }
    out
}
