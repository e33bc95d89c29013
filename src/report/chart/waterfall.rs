//! The waterfall (bridge) of the root's change: the baseline value, each branch's
//! contribution as a step up or down, then the current value. Horizontal, so the branch
//! names stay readable; the axis covers the values the steps pass through (it need not start
//! at zero, and the chart says where it starts).

use super::{Chart, clip, colour, open, px, xml};
use crate::report::words::Judgement;

/// One bar: a total (baseline or current) or a step.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    /// Written at the bar's end (already formatted: `+3.8 points`, `23.7%`).
    pub text: String,
    pub from: f64,
    pub to: f64,
    /// Totals are drawn from the axis; steps float.
    pub total: bool,
    pub judgement: Judgement,
}

const LABEL_W: f64 = 210.0;
const BAR_W: f64 = 330.0;
const TEXT_W: f64 = 120.0;
const ROW: f64 = 26.0;
const TOP: f64 = 8.0;

/// The axis the bars are drawn on: the values they pass through, padded by 8 % each side.
pub fn axis(bars: &[Bar]) -> (f64, f64) {
    let lo = bars
        .iter()
        .flat_map(|b| [b.from, b.to])
        .fold(f64::INFINITY, f64::min);
    let hi = bars
        .iter()
        .flat_map(|b| [b.from, b.to])
        .fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi > lo {
        let pad = (hi - lo) * 0.08;
        (lo - pad, hi + pad)
    } else {
        (lo - 1.0, lo + 1.0)
    }
}

/// `axis_note` says where the axis starts (in the value's unit, see [`axis`]), for the
/// description.
pub fn draw(title: &str, bars: &[Bar], axis_note: &str) -> Chart {
    let (lo, hi) = axis(bars);
    let x = |v: f64| LABEL_W + BAR_W * (v - lo) / (hi - lo);
    let w = LABEL_W + BAR_W + TEXT_W;
    let h = TOP * 2.0 + ROW * bars.len() as f64 + 14.0;
    let desc: Vec<String> = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, b.text))
        .collect();
    let mut svg = open(w, h, title, &format!("{}. {axis_note}", desc.join("; ")));
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let (a, z) = if b.total { (lo, b.to) } else { (b.from, b.to) };
        let (x0, x1) = (x(a.min(z)), x(a.max(z)));
        let fill = if b.total {
            "#8c959f"
        } else {
            colour(b.judgement)
        };
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1f2328\">{}</text>",
            px(LABEL_W - 8.0),
            px(y + 16.0),
            xml(&clip(&b.label, 32))
        ));
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"18\" fill=\"{fill}\"/>",
            px(x0),
            px(y + 3.0),
            px((x1 - x0).max(1.5))
        ));
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1f2328\">{}</text>",
            px(x1 + 6.0),
            px(y + 16.0),
            xml(&b.text)
        ));
        if i + 1 < bars.len() {
            // The connector to the next bar's start.
            svg.push_str(&format!(
                "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#8c959f\" stroke-dasharray=\"2,2\"/>",
                px(x(b.to)),
                px(x(b.to)),
                px(y + 21.0),
                px(y + ROW + 3.0)
            ));
        }
    }
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#57606a\">{}</text></svg>",
        px(LABEL_W),
        px(h - 4.0),
        xml(axis_note)
    ));
    Chart {
        kind: "waterfall",
        svg,
        title: title.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_drawn_and_labels_escaped() {
        let bars = vec![
            Bar {
                label: "W45".into(),
                text: "23.7%".into(),
                from: 0.0,
                to: 0.237,
                total: true,
                judgement: Judgement::Neutral,
            },
            Bar {
                label: "</svg><script>".into(),
                text: "+3.8 points".into(),
                from: 0.237,
                to: 0.275,
                total: false,
                judgement: Judgement::Worse,
            },
            Bar {
                label: "W46".into(),
                text: "27.5%".into(),
                from: 0.0,
                to: 0.275,
                total: true,
                judgement: Judgement::Neutral,
            },
        ];
        let c = draw("t", &bars, "axis from 23%");
        assert_eq!(c.svg.matches("<rect").count(), 3);
        assert!(!c.svg.contains("<script>") && c.svg.ends_with("</svg>"));
        assert_eq!(c.svg.matches("<svg").count(), 1);
    }
}
