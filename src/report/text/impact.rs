//! `impact` for people: per action its verdict sentence, the levels before and after, the
//! effect with its interval and calibration, and the notes. Renders an [`ImpactReport`]
//! only; strings from the tree or the data are escaped here.

use crate::report::format::{change, interval, value};
use crate::report::impact::{ImpactReport, LevelsOut};
use crate::report::style::Styles;
use crate::text::escape;

pub fn render(r: &ImpactReport, st: &Styles) -> String {
    let mut out = format!(
        "{} — actions as of {} ({} {g}s before each start against up to {} since)\n",
        escape(&r.tree),
        r.as_of.label,
        r.settings.before,
        r.settings.after,
        g = r.grain.name()
    );
    if r.actions.is_empty() {
        out.push_str("no actions: add them under `actions:` in the tree or in an actions file beside it (see docs/impact.md)\n");
        return out;
    }
    for a in &r.actions {
        out.push('\n');
        out.push_str(&format!(
            "{}{} · {} · {} · {}{}",
            st.bold,
            escape(&a.id),
            escape(&a.node_label),
            escape(&a.segment),
            escape(&a.owner_name),
            st.reset
        ));
        out.push('\n');
        if let Some(d) = &a.description {
            out.push_str(&format!("  {}\n", escape(d)));
        }
        out.push_str(&format!(
            "  {}{}{}{}: {}\n",
            st.bold,
            a.verdict_text,
            if a.controlled { "" } else { " (uncontrolled)" },
            st.reset,
            escape(&a.sentence)
        ));
        if !a.before.is_empty() && !a.after.is_empty() {
            let header = vec![
                String::new(),
                a.before.first().cloned().unwrap_or_default()
                    + if a.before.len() > 1 { ".." } else { "" },
                a.after.first().cloned().unwrap_or_default()
                    + if a.after.len() > 1 { ".." } else { "" },
                "change".into(),
            ];
            let row = |name: &str, l: &LevelsOut| {
                vec![
                    name.to_string(),
                    value(l.before, a.unit),
                    value(l.after, a.unit),
                    l.change.map_or("—".into(), |c| change(c, a.unit)),
                ]
            };
            let mut rows = vec![row(
                if a.controlled { "segment" } else { "everyone" },
                &a.treated,
            )];
            if let Some(c) = &a.control {
                rows.push(row("rest", c));
            }
            let table = super::table::align(&header, &rows, 2, st);
            for line in table.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        if let Some(t) = &a.effect {
            out.push_str(&format!(
                "    effect {} {}, p {}; noise ×{:.2} (variance) from {} placebo date(s)\n",
                change(t.estimate, a.unit),
                interval(t.ci_low, t.ci_high, a.unit),
                if t.p < 0.001 {
                    "< 0.001".to_string()
                } else {
                    format!("= {:.3}", t.p)
                },
                t.dispersion,
                t.placebos
            ));
        }
        for n in &a.notes {
            out.push_str(&format!("  · {}\n", escape(n)));
        }
        if let Some(l) = &a.link {
            out.push_str(&format!("  {}\n", escape(l)));
        }
    }
    out
}
