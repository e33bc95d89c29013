//! A sparkline: a node's last periods as a small line, the latest point marked, undefined
//! periods left as gaps.

use super::{Chart, open, px, xml};

const W: f64 = 132.0;
const H: f64 = 30.0;
const PAD: f64 = 3.0;

/// `values` oldest first; `desc` lists them in words (the text alternative).
pub fn draw(label: &str, values: &[Option<f64>], desc: &str) -> Chart {
    let title = format!("{label}: the last {} periods", values.len());
    let mut svg = open(W, H, &title, desc);
    let defined: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if let (Some(lo), Some(hi)) = (
        defined.iter().copied().reduce(f64::min),
        defined.iter().copied().reduce(f64::max),
    ) {
        let span = if hi > lo { hi - lo } else { 1.0 };
        let n = values.len().max(2) - 1;
        let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / n as f64;
        let y = |v: f64| {
            if hi > lo {
                H - PAD - (H - 2.0 * PAD) * (v - lo) / span
            } else {
                H / 2.0
            }
        };
        // One polyline per run of defined values.
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, svg: &mut String| {
            if run.len() > 1 {
                svg.push_str(&format!(
                    "<polyline fill=\"none\" stroke=\"#57606a\" stroke-width=\"1.5\" points=\"{}\"/>",
                    run.join(" ")
                ));
            }
            run.clear();
        };
        for (i, v) in values.iter().enumerate() {
            match v.filter(|v| v.is_finite()) {
                Some(v) => run.push(format!("{},{}", px(x(i)), px(y(v)))),
                None => flush(&mut run, &mut svg),
            }
        }
        flush(&mut run, &mut svg);
        if let Some(Some(v)) = values.last().map(|v| v.filter(|v| v.is_finite())) {
            svg.push_str(&format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#0969da\"/>",
                px(x(values.len() - 1)),
                px(y(v))
            ));
        }
    } else {
        svg.push_str(&format!(
            "<text x=\"4\" y=\"19\" font-size=\"11\" fill=\"#57606a\">{}</text>",
            xml("no data")
        ));
    }
    svg.push_str("</svg>");
    Chart {
        kind: "sparkline",
        svg,
        title,
    }
}

/// The same series as block characters, for text and e-mail (`▁▃▅█`, `·` for gaps).
pub fn blocks(values: &[Option<f64>]) -> String {
    const B: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let defined: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = defined.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = defined.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| match v.filter(|v| v.is_finite()) {
            None => '·',
            Some(_) if hi <= lo => B[3],
            Some(v) => B[(((v - lo) / (hi - lo)) * 7.0).round() as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_the_line_and_blocks_scale() {
        let c = draw(
            "<x>",
            &[Some(1.0), Some(2.0), None, Some(3.0), Some(4.0)],
            "d",
        );
        assert_eq!(c.svg.matches("<polyline").count(), 2);
        assert!(c.svg.contains("&lt;x&gt;") && !c.svg.contains("<x>"));
        assert_eq!(blocks(&[Some(0.0), None, Some(1.0)]), "▁·█");
    }
}
