//! `why` for people: the question, the explained node then and now with its interval and
//! verdict, where it moved, the branch table (the report's ranking drawn as a tree), the
//! largest mover, cause coverage and how the verdicts were reached. Renders a
//! [`WhyReport`] only; every string from the tree or the data is escaped here.

use crate::period::Grain;
use crate::report::format::{change, interval, share_of, value};
use crate::report::style::Styles;
use crate::report::why::{NodeJson, PlayerJson, SegmentJson, SegmentsJson, TestJson, WhyReport};
use crate::spec::model::{Direction, Unit};
use crate::text::escape;

fn esc(s: &str) -> String {
    escape(s).into_owned()
}

/// The owner's name, or its id when the tree names none.
fn owner(n: &NodeJson) -> String {
    esc(if n.owner_name.is_empty() {
        &n.owner
    } else {
        &n.owner_name
    })
}

fn noise_words(t: &TestJson) -> &'static str {
    if t.verdict == "beyond_noise" {
        "beyond noise"
    } else {
        "within noise"
    }
}

/// One verdict as a word for the table.
fn verdict_word(t: Option<&TestJson>) -> &'static str {
    match t {
        Some(t) if t.verdict == "beyond_noise" => "beyond",
        Some(_) => "within",
        None => "—",
    }
}

/// An insight as two lines (`indent` before each): where, how much, its interval and
/// verdict; then the mix/rate split, the rate inside, its volume and what it covers.
fn insight_lines(
    segs: &SegmentsJson,
    s: &SegmentJson,
    unit: Unit,
    indent: &str,
    st: &Styles,
) -> String {
    let verdict = match &s.test {
        Some(t) => format!(
            "  {}  {}",
            interval(t.ci_low, t.ci_high, unit),
            noise_words(t)
        ),
        None => String::new(),
    };
    let mut detail = Vec::new();
    if let (Some(r), Some(m)) = (s.rate, s.mix) {
        detail.push(format!("rate {}, mix {}", change(r, unit), change(m, unit)));
    }
    if let ("rate", Some(b), Some(n)) = (segs.kind, s.baseline, s.current) {
        detail.push(format!(
            "{} → {} inside",
            value(Some(b), unit),
            value(Some(n), unit)
        ));
    }
    detail.push(format!("{:.0}% of volume", 100.0 * s.volume_share));
    let folds: Vec<String> = s.folds.iter().map(|f| esc(&f.label)).collect();
    if !folds.is_empty() {
        detail.push(format!("covers {}", folds.join(", ")));
    }
    format!(
        "{indent}▸ {}{}{}  {}{verdict}\n{indent}    {}{}{}\n",
        st.bold,
        esc(&s.label),
        st.reset,
        change(s.contribution, unit),
        st.dim,
        detail.join("; "),
        st.reset
    )
}

fn insights(n: &NodeJson, indent: &str, st: &Styles) -> Vec<String> {
    n.segments.as_ref().map_or_else(Vec::new, |segs| {
        segs.insights
            .iter()
            .map(|s| insight_lines(segs, s, n.unit, indent, st))
            .collect()
    })
}

/// The human view.
pub fn render(r: &WhyReport, st: &Styles) -> String {
    let root = r.root_node();
    let mut out = String::new();
    let grain = match r.grain {
        Grain::Day => "dai",
        Grain::Week => "week",
        Grain::Month => "month",
    };
    match &r.comparison {
        Some(c) => out.push_str(&format!(
            "{}Why is {} different?{}  {} vs {} in {} ({}ly, {})\n\n",
            st.bold,
            esc(&root.label),
            st.reset,
            esc(&c.labels[1]),
            esc(&c.labels[0]),
            r.current.label,
            grain,
            esc(&r.timezone)
        )),
        None => out.push_str(&format!(
            "{}Why did {} change?{}  {} vs {}{} ({}ly, {})\n\n",
            st.bold,
            esc(&root.label),
            st.reset,
            r.current.label,
            r.baseline.label,
            if r.baseline_periods.len() > 1 {
                " pooled"
            } else {
                ""
            },
            grain,
            esc(&r.timezone)
        )),
    }
    let sign_style = |d: f64, dir: Direction| match (dir, d > 0.0, d < 0.0) {
        (Direction::HigherIsBetter, true, _) | (Direction::LowerIsBetter, _, true) => st.good,
        (Direction::HigherIsBetter, _, true) | (Direction::LowerIsBetter, true, _) => st.bad,
        _ => "",
    };
    out.push_str(&format!(
        "  {}{}{}  {} → {}  {}{}{}  {}   owner: {}\n",
        st.bold,
        esc(&root.label),
        st.reset,
        value(Some(root.baseline), root.unit),
        value(Some(root.current), root.unit),
        sign_style(root.delta, root.direction),
        change(root.delta, root.unit),
        st.reset,
        match &root.test {
            Some(t) => format!(
                "{} {}",
                interval(t.ci_low, t.ci_high, root.unit),
                noise_words(t)
            ),
            None => String::new(),
        },
        owner(root)
    ));
    if let Some(t) = &r.share_of_tree_root {
        out.push_str(&format!(
            "  contributes {} ({}) to {}\n",
            change(t.contribution, t.unit),
            share_of(t.share),
            esc(&t.label)
        ));
    }
    let lines = insights(root, "    ", st);
    if !lines.is_empty() {
        out.push_str(if r.comparison.is_some() {
            "\n  Where they differ:\n"
        } else {
            "\n  Where it moved:\n"
        });
        lines.iter().for_each(|l| out.push_str(l));
    }
    out.push('\n');
    out.push_str(&table(r, root, st, &sign_style));
    if let Some(m) = &r.largest_mover {
        out.push_str(&format!(
            "\n{}: {} ({}), {} of the {} {}.\n",
            if r.comparison.is_some() {
                "Largest difference"
            } else {
                "Largest mover"
            },
            esc(&m.label),
            esc(&m.owner_name),
            share_of(m.share).trim_start_matches('+'),
            change(root.delta, root.unit),
            if r.comparison.is_some() {
                "gap"
            } else {
                "change"
            }
        ));
    }
    out.push_str(&players(r, root));
    out.push_str(&every_segment(r));
    out.push_str(&super::coverage::render(&r.transfer_causes, st));
    out.push_str(&format!("{}{}{}", st.dim, noise_note(r), st.reset));
    out
}

/// `--segments all`: every evaluated segment of each split node, with its contribution (and
/// for rates, its rate and mix parts).
fn every_segment(r: &WhyReport) -> String {
    let mut s = String::new();
    for n in &r.nodes {
        let Some(all) = n.segments.as_ref().and_then(|x| x.all.as_ref()) else {
            continue;
        };
        s.push_str(&format!(
            "\nEvery segment of {} ({}):\n",
            esc(&n.label),
            all.len()
        ));
        let width = all
            .iter()
            .map(|x| x.label.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        for seg in all {
            let label: String = esc(&seg.label).chars().take(60).collect();
            let pad = " ".repeat(width.saturating_sub(label.chars().count()));
            let mut line = format!("  {label}{pad}  {:>12}", change(seg.contribution, n.unit));
            if let (Some(rate), Some(mix)) = (seg.rate, seg.mix) {
                line.push_str(&format!(
                    "  rate {:>10}  mix {:>10}",
                    change(rate, n.unit),
                    change(mix, n.unit)
                ));
            }
            if seg.suppressed {
                line.push_str("  (below the minimums)");
            }
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}

/// The players' effects (`players:`), largest first, or why there are none.
fn players(r: &WhyReport, root: &NodeJson) -> String {
    if let Some(n) = &r.players_undefined_at {
        return format!(
            "\nFactors: not split, because `{}` divides by zero where the two {} values are mixed.\n",
            esc(n),
            if r.comparison.is_some() {
                "populations'"
            } else {
                "periods'"
            }
        );
    }
    let Some(ps) = &r.players else {
        return String::new();
    };
    let mut rows: Vec<&PlayerJson> = ps.iter().collect();
    rows.sort_by(|a, b| {
        b.effect
            .abs()
            .total_cmp(&a.effect.abs())
            .then(a.name.cmp(&b.name))
    });
    let width = rows
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut s =
        String::from("\nFactors (each group of leaves moved together; Shapley over the groups):\n");
    for p in rows {
        let name = esc(&p.name);
        s.push_str(&format!(
            "  {name}{}  {:>12}  {:>6}  ({} {})\n",
            " ".repeat(width.saturating_sub(p.name.chars().count())),
            change(p.effect, root.unit),
            share_of(p.share),
            p.leaves.len(),
            if p.leaves.len() == 1 {
                "leaf"
            } else {
                "leaves"
            }
        ));
    }
    s
}

/// The ranking as a tree-shaped table; a direct branch's insights follow its row.
fn table(
    r: &WhyReport,
    root: &NodeJson,
    st: &Styles,
    sign_style: &dyn Fn(f64, Direction) -> &'static str,
) -> String {
    struct Row {
        cells: [String; 9],
        style: &'static str,
        /// Free lines printed after the row.
        after: Vec<String>,
    }
    let mut rows = Vec::new();
    // Whether each ancestor on the current path was its parent's last input.
    let mut lasts: Vec<bool> = Vec::new();
    for b in &r.ranking {
        lasts.truncate(b.depth - 1);
        let mut prefix = "  ".to_string();
        for &l in &lasts {
            prefix.push_str(if l { "   " } else { "│  " });
        }
        let next = format!("{prefix}{}", if b.last { "   " } else { "│  " });
        lasts.push(b.last);
        let Some(child) = r.node(&b.id) else { continue };
        let after = if b.depth == 1 {
            insights(child, &format!("{next}  "), st)
        } else {
            Vec::new()
        };
        let t = child.test.as_ref();
        rows.push(Row {
            cells: [
                format!(
                    "{prefix}{}{}",
                    if b.last { "└─ " } else { "├─ " },
                    esc(&child.label)
                ),
                owner(child),
                value(Some(child.baseline), child.unit),
                value(Some(child.current), child.unit),
                change(child.delta, child.unit),
                t.map(|t| interval(t.ci_low, t.ci_high, child.unit))
                    .unwrap_or_default(),
                verdict_word(t).into(),
                change(b.contribution_to_root, root.unit),
                share_of(b.share),
            ],
            style: sign_style(b.contribution_to_root, root.direction),
            after,
        });
    }
    let (left, right) = match &r.comparison {
        Some(c) => (esc(&c.baseline), esc(&c.current)),
        None => (r.baseline.label.clone(), r.current.label.clone()),
    };
    let header = Row {
        cells: [
            "  Branch".into(),
            "Owner".into(),
            left,
            right,
            "Change".into(),
            "95% interval".into(),
            "Noise".into(),
            format!("→ {}", short(&esc(&root.label))),
            "Share".into(),
        ],
        style: "",
        after: Vec::new(),
    };
    let widths: Vec<usize> = (0..9)
        .map(|c| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r.cells[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &Row, style: &str, reset: &str| {
        let mut l = String::new();
        for (c, cell) in r.cells.iter().enumerate() {
            let pad = " ".repeat(widths[c].saturating_sub(cell.chars().count()));
            match c {
                0 | 1 | 6 => l.push_str(&format!("{cell}{pad}  ")),
                7 => l.push_str(&format!("{style}{pad}{cell}{reset}  ")),
                _ => l.push_str(&format!("{pad}{cell}  ")),
            }
        }
        format!("{}\n", l.trim_end())
    };
    let mut out = format!("{}{}{}", st.dim, line(&header, "", ""), st.reset);
    for r in &rows {
        out.push_str(&line(
            r,
            r.style,
            if r.style.is_empty() { "" } else { st.reset },
        ));
        for l in &r.after {
            out.push_str(l);
        }
    }
    out
}

/// How the verdicts were reached, in one paragraph.
fn noise_note(r: &WhyReport) -> String {
    let o = &r.noise;
    let mut s = format!("\nNoise: {} branch changes tested", o.branches_tested);
    if !o.dimensions.is_empty() {
        let dims: Vec<String> = o.dimensions.iter().map(|d| esc(d)).collect();
        s.push_str(&format!(
            " and {} segments (of {} evaluated over {}, up to {} combined; support ≥ {}%, ≥ {} rows)",
            value(Some(o.segments_tested as f64), Unit::Count),
            value(Some(o.segments_evaluated as f64), Unit::Count),
            dims.join(", "),
            o.depth,
            o.min_support * 100.0,
            o.min_count
        ));
    }
    s.push_str(&format!(
        "; false discovery rate {}% (Benjamini–Hochberg); 95% intervals",
        o.fdr * 100.0
    ));
    if let Some(c) = &r.comparison {
        s.push_str(&format!(
            "; two-sample tests between {} and {} in one period, rows as independent draws: week-to-week over-dispersion from history does not apply to a same-period gap (conversations that cluster — one agent's, one customer's — make these intervals too narrow)",
            esc(&c.labels[0]),
            esc(&c.labels[1])
        ));
    } else if o.history_periods >= 2 {
        s.push_str(&format!(
            ", widened by the over-dispersion of {} periods of history",
            o.history_periods
        ));
    } else {
        s.push_str(", binomial/Poisson noise only (no history)");
    }
    s.push_str(".\n");
    if let Some(res) = r.split_residual {
        s.push_str(&format!(
            "Split: Aumann–Shapley along the straight line between the {} leaves, integrated numerically (largest residual {res:.1e} of a node's change).\n",
            if r.comparison.is_some() {
                "populations'"
            } else {
                "periods'"
            }
        ));
    } else if r.split == crate::attribution::Split::Local {
        s.push_str("Split: node by node with each formula's own method (`method:` in the tree), chained; another way of writing the same formulas can split differently.\n");
    }
    for n in &r.nodes {
        if let Some(why) = &n.unsplit {
            s.push_str(&format!("Not split by segments: {}.\n", esc(why)));
        }
    }
    s
}

fn short(label: &str) -> String {
    let s: String = label.chars().take(18).collect();
    if label.chars().count() > 18 {
        format!("{s}…")
    } else {
        s
    }
}
