//! Builders for inline test fixtures: a tree over one CSV source and the CSV's rows, written
//! as calls that read like the tree they make instead of YAML squeezed into one string.
//!
//! ```ignore
//! let tree = Tree::new("r")
//!     .dimensions(&["team"])
//!     .ratio("r", "h", "n")
//!     .count_where("h", "handed")
//!     .count("n");
//! let data = Rows::new(&["t", "handed", "team"]).row(&[&BASE_DAY, &true, &"a"]);
//! let j = why(&tree.yaml(), &data.csv(), &[]);
//! ```

use std::fmt::Display;

/// A tree over one CSV source `s` (`data.csv`, time column `t`), weekly in UTC, owner `o`
/// on the root.
pub struct Tree {
    root: String,
    dims: Vec<String>,
    nodes: Vec<(String, String)>,
}

impl Tree {
    pub fn new(root: &str) -> Tree {
        Tree {
            root: root.to_string(),
            dims: Vec::new(),
            nodes: Vec::new(),
        }
    }

    /// Dimensions, each read from the column of the same name.
    pub fn dimensions(mut self, dims: &[&str]) -> Tree {
        self.dims = dims.iter().map(|d| d.to_string()).collect();
        self
    }

    fn node(mut self, id: &str, body: String) -> Tree {
        self.nodes.push((id.to_string(), body));
        self
    }

    pub fn formula(self, id: &str, formula: &str) -> Tree {
        self.node(id, format!("formula: \"{formula}\""))
    }

    pub fn ratio(self, id: &str, numerator: &str, denominator: &str) -> Tree {
        self.node(
            id,
            format!("ratio: {{numerator: {numerator}, denominator: {denominator}}}"),
        )
    }

    /// A measure over `s`: `agg` (count, sum, mean, ...), with an optional value expression
    /// and filter.
    pub fn measure(self, id: &str, agg: &str, expr: Option<&str>, filter: Option<&str>) -> Tree {
        let mut m = format!("{{source: s, agg: {agg}");
        if let Some(e) = expr {
            m.push_str(&format!(", expr: \"{e}\""));
        }
        if let Some(f) = filter {
            m.push_str(&format!(", filter: \"{f}\""));
        }
        m.push('}');
        self.node(id, format!("measure: {m}"))
    }

    pub fn count(self, id: &str) -> Tree {
        self.measure(id, "count", None, None)
    }

    pub fn count_where(self, id: &str, filter: &str) -> Tree {
        self.measure(id, "count", None, Some(filter))
    }

    pub fn sum(self, id: &str, expr: &str) -> Tree {
        self.measure(id, "sum", Some(expr), None)
    }

    pub fn mean(self, id: &str, expr: &str) -> Tree {
        self.measure(id, "mean", Some(expr), None)
    }

    /// The tree file.
    pub fn yaml(&self) -> String {
        let dims: String = self
            .dims
            .iter()
            .map(|d| format!("  {d}: {{label: {d}}}\n"))
            .collect();
        let mapped: Vec<String> = self.dims.iter().map(|d| format!("{d}: {d}")).collect();
        let nodes: String = self
            .nodes
            .iter()
            .map(|(id, body)| {
                let owner = if *id == self.root {
                    "    owner: o\n"
                } else {
                    ""
                };
                format!("  {id}:\n{owner}    {body}\n")
            })
            .collect();
        format!(
            "version: 1\nname: t\nroot: {}\ngrain: week\ntimezone: UTC\nmaturity: 0d\nowners: {{o: {{name: O}}}}\ndimensions:\n{dims}sources:\n  s: {{file: data.csv, time: t, dimensions: {{{}}}}}\nnodes:\n{nodes}",
            self.root,
            mapped.join(", ")
        )
    }
}

/// A CSV file's rows.
pub struct Rows {
    lines: Vec<String>,
}

impl Rows {
    pub fn new(header: &[&str]) -> Rows {
        Rows {
            lines: vec![header.join(",")],
        }
    }

    pub fn row(mut self, values: &[&dyn Display]) -> Rows {
        let cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        self.lines.push(cells.join(","));
        self
    }

    /// `n` rows, the `i`-th made by `f(i)`.
    pub fn rows(mut self, n: usize, f: impl Fn(usize) -> Vec<String>) -> Rows {
        for i in 0..n {
            self.lines.push(f(i).join(","));
        }
        self
    }

    pub fn csv(&self) -> String {
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
}

#[test]
fn the_builders_write_what_the_hand_written_fixtures_did() {
    let built = Tree::new("r")
        .dimensions(&["team"])
        .ratio("r", "h", "n")
        .count_where("h", "handed")
        .count("n")
        .yaml();
    let by_hand = crate::segments::tree(
        &["team"],
        "  r:\n    owner: o\n    ratio: {numerator: h, denominator: n}\n  h:\n    measure: {source: s, agg: count, filter: \"handed\"}\n  n:\n    measure: {source: s, agg: count}\n",
    );
    assert_eq!(built, by_hand);
    let g = crate::util::graph(&built);
    assert_eq!(g.nodes.len(), 3);
    let rows = Rows::new(&["t", "handed"])
        .row(&[&"2026-01-06", &true])
        .rows(2, |i| vec!["2026-01-13".into(), (i == 0).to_string()]);
    assert_eq!(
        rows.csv(),
        "t,handed\n2026-01-06,true\n2026-01-13,true\n2026-01-13,false\n"
    );
}
