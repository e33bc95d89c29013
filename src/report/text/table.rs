//! Column alignment for the text tables: the first `left` columns left-aligned, the rest
//! (numbers) right-aligned, two spaces between; a row with a different number of cells (a
//! section heading) is printed as its first cell.

use crate::report::style::Styles;

pub fn align(header: &[String], rows: &[Vec<String>], left: usize, st: &Styles) -> String {
    let cols = header.len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            std::iter::once(header)
                .chain(rows.iter().filter(|r| r.len() == cols).map(Vec::as_slice))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let fmt = |r: &[String]| {
        if r.len() != cols {
            return format!("{}\n", r.first().cloned().unwrap_or_default());
        }
        let mut s = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c < left {
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
    let mut out = format!("{}{}{}", st.dim, fmt(header), st.reset);
    for r in rows {
        out.push_str(&fmt(r));
    }
    out
}
