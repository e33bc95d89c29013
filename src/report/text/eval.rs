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
    super::table::align(&header, &rows, 2, st)
}
