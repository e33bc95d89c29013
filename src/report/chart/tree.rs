//! The tree diagram: the root on top, its branches below, their formula branches below
//! those; each box shows the node, its owner, then and now, and its change with an arrow and
//! a colour for better or worse (the word is in the text alternative).

use super::{Chart, clip, colour, open, px, xml};
use crate::report::words::{Judgement, arrow};

/// One box.
#[derive(Debug, Clone)]
pub struct TreeBox {
    pub label: String,
    pub owner: String,
    /// `23.7% → 27.3%`.
    pub values: String,
    /// `+3.6 points`.
    pub change: String,
    pub delta: f64,
    pub judgement: Judgement,
    pub children: Vec<TreeBox>,
}

const BOX_W: f64 = 160.0;
const BOX_H: f64 = 70.0;
const GAP_X: f64 = 10.0;
const GAP_Y: f64 = 30.0;
/// How far a stacked child is indented under its branch.
const INDENT: f64 = 12.0;

/// Draws the root on top, its children in a row below, and each child's own children
/// stacked in its column (so a wide tree stays as wide as its first level). Deeper levels
/// are not drawn.
pub fn draw(title: &str, root: &TreeBox) -> Chart {
    let cols = root.children.len().max(1) as f64;
    let stack = root
        .children
        .iter()
        .map(|c| c.children.len())
        .max()
        .unwrap_or(0) as f64;
    let w = cols * (BOX_W + INDENT + GAP_X) + GAP_X;
    let rows = if root.children.is_empty() {
        1.0
    } else {
        2.0 + stack
    };
    let h = rows * (BOX_H + GAP_Y) - GAP_Y + 2.0 * GAP_X;
    let mut desc = Vec::new();
    describe(root, &mut desc);
    let mut body = String::new();
    let root_x = w / 2.0 - BOX_W / 2.0;
    let y0 = GAP_X;
    let y1 = y0 + BOX_H + GAP_Y;
    for (k, c) in root.children.iter().enumerate() {
        let x = GAP_X + k as f64 * (BOX_W + INDENT + GAP_X);
        body.push_str(&format!(
            "<path d=\"M{} {} V{} H{} V{}\" fill=\"none\" stroke=\"#8c959f\"/>",
            px(w / 2.0),
            px(y0 + BOX_H),
            px(y0 + BOX_H + GAP_Y / 2.0),
            px(x + BOX_W / 2.0),
            px(y1)
        ));
        boxed(c, x, y1, &mut body);
        for (i, g) in c.children.iter().enumerate() {
            let y = y1 + (i + 1) as f64 * (BOX_H + GAP_Y);
            body.push_str(&format!(
                "<path d=\"M{} {} V{} H{}\" fill=\"none\" stroke=\"#8c959f\"/>",
                px(x + INDENT / 2.0),
                px(y1 + BOX_H),
                px(y + BOX_H / 2.0),
                px(x + INDENT)
            ));
            boxed(g, x + INDENT, y, &mut body);
        }
    }
    boxed(root, root_x, y0, &mut body);
    let mut svg = open(w, h, title, &desc.join("; "));
    svg.push_str(&body);
    svg.push_str("</svg>");
    Chart {
        kind: "tree",
        svg,
        title: title.to_string(),
    }
}

fn describe(b: &TreeBox, out: &mut Vec<String>) {
    out.push(format!(
        "{} ({}): {}, {} ({})",
        b.label,
        b.owner,
        b.values,
        b.change,
        b.judgement.word()
    ));
    for c in &b.children {
        describe(c, out);
    }
}

/// One box at (x, y): label, owner, then and now, the change with its arrow.
fn boxed(b: &TreeBox, x: f64, y: f64, out: &mut String) {
    let cx = x + BOX_W / 2.0;
    let c = colour(b.judgement);
    out.push_str(&format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"2\"/>",
        px(x),
        px(y),
        px(BOX_W),
        px(BOX_H)
    ));
    let line = |dy: f64, size: u32, weight: &str, fill: &str, text: &str| {
        format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"{size}\" font-weight=\"{weight}\" fill=\"{fill}\" text-anchor=\"middle\">{}</text>",
            px(cx),
            px(y + dy),
            xml(text)
        )
    };
    out.push_str(&line(16.0, 12, "bold", "#1f2328", &clip(&b.label, 26)));
    out.push_str(&line(31.0, 10, "normal", "#57606a", &clip(&b.owner, 30)));
    out.push_str(&line(46.0, 11, "normal", "#1f2328", &clip(&b.values, 30)));
    out.push_str(&line(
        62.0,
        12,
        "bold",
        c,
        &format!("{} {}", arrow(b.delta), clip(&b.change, 24)),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(label: &str) -> TreeBox {
        TreeBox {
            label: label.into(),
            owner: "o & \"p\"".into(),
            values: "1 → 2".into(),
            change: "+1".into(),
            delta: 1.0,
            judgement: Judgement::Worse,
            children: vec![],
        }
    }

    #[test]
    fn every_node_gets_a_box_and_a_link() {
        let mut root = leaf("root");
        root.children = vec![leaf("a"), leaf("<b>")];
        let c = draw("t", &root);
        assert_eq!(c.svg.matches("<rect").count(), 3);
        assert_eq!(c.svg.matches("<path").count(), 2);
        assert!(c.svg.contains("&lt;b&gt;") && c.svg.contains("o &amp; &quot;p&quot;"));
    }
}
