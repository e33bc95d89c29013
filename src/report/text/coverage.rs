//! Cause coverage for people: per event-log source, a line per period with its cases,
//! transfers and each cause's share, flagged when the unclassified share is above the
//! maximum. Renders the report model's `transfer_causes`.

use crate::report::coverage::CoverageJson;
use crate::report::format::value;
use crate::report::style::Styles;
use crate::spec::model::Unit;
use crate::text::escape;

/// A block per source.
pub fn render(cov: &[CoverageJson], st: &Styles) -> String {
    let mut out = String::new();
    let width = cov
        .iter()
        .flat_map(|c| c.periods.iter().map(|p| p.period.chars().count()))
        .max()
        .unwrap_or(0);
    for c in cov {
        out.push_str(&format!(
            "\n{}Transfer causes{}  source `{}`, by the cases of each period (max unclassified {})\n",
            st.bold,
            st.reset,
            escape(&c.source),
            value(Some(c.max_unclassified), Unit::Percent)
        ));
        for p in &c.periods {
            let label = p.period.as_str();
            let pad = " ".repeat(width - label.chars().count());
            if p.transfers == 0 {
                out.push_str(&format!(
                    "  {label}{pad}  {} cases, no transfers\n",
                    value(Some(p.cases as f64), Unit::Count)
                ));
                continue;
            }
            let parts: Vec<String> = p
                .causes
                .iter()
                .map(|k| format!("{} {}", escape(&k.cause), value(k.share, Unit::Percent)))
                .collect();
            let flag = if p.above_max {
                format!("  {}unclassified above the maximum{}", st.bad, st.reset)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {label}{pad}  {} cases, {} transfers: {}{flag}\n",
                value(Some(p.cases as f64), Unit::Count),
                value(Some(p.transfers as f64), Unit::Count),
                parts.join(", ")
            ));
        }
    }
    out
}
