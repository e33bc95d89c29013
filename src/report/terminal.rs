//! The tree as a terminal may show it: a copy of the graph whose every author-written string
//! (labels, descriptions, ids, owner names, the tree's name and title, dimension labels,
//! source ids, cause names) is escaped by `text::escape`. Text renderers start from it, so
//! no label can move the cursor, recolour, reorder or hide what a reader sees.

use crate::graph::MetricGraph;
use crate::spec::model::SourceKind;
use crate::text::escape;

fn esc(s: &mut String) {
    if let std::borrow::Cow::Owned(e) = escape(s) {
        *s = e;
    }
}

/// A copy of `g` with every author-written string escaped for the terminal.
pub fn escaped(g: &MetricGraph) -> MetricGraph {
    let mut g = g.clone();
    esc(&mut g.spec.name);
    for t in [&mut g.spec.title, &mut g.spec.description]
        .into_iter()
        .flatten()
    {
        esc(t);
    }
    for n in &mut g.nodes {
        esc(&mut n.id);
        esc(&mut n.label);
        esc(&mut n.owner);
        if let Some(d) = &mut n.description {
            esc(d);
        }
    }
    for o in &mut g.spec.owners {
        esc(&mut o.id);
        esc(&mut o.name);
    }
    for d in &mut g.spec.dimensions {
        esc(&mut d.id);
        esc(&mut d.label);
    }
    for s in &mut g.spec.sources {
        esc(&mut s.id);
        if let SourceKind::EventLog(el) = &mut s.kind {
            for (cause, _) in &mut el.causes {
                esc(&mut cause.value);
            }
        }
    }
    g
}
