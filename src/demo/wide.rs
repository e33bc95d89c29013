//! A wide synthetic dataset for benchmarking the segment search: conversations with `dims`
//! dimensions of `values` values each (Zipf-like weights), a first-transfer cause, and one
//! planted change (d0 = v01 ∧ d1 = v02 gets 30 more routing points in the last week), spread
//! evenly over the weeks 2026-W45 and W46 (plus `history` weeks before), with a tree whose
//! root is routing + skill + escalation rates over one shared denominator.

use std::fmt::Write as _;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct WideOptions {
    pub rows: u64,
    pub dims: usize,
    pub values: usize,
    pub history: u32,
}

/// Writes `conversations.csv` (weeks 2026-W45 and W46, plus `history` weeks before) and
/// `tree.yaml` into `dir`.
pub fn generate(dir: &Path, a: &WideOptions) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let weeks = 2 + a.history as u64;
    let first = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
        - chrono::Days::new(7 * a.history as u64);
    // Zipf-like value weights: value k has weight 1/(k+1).
    let weights: Vec<f64> = (0..a.values).map(|k| 1.0 / (k as f64 + 1.0)).collect();
    let total: f64 = weights.iter().sum();
    let pick = |rng: &mut ChaCha8Rng| {
        let mut u = rng.random::<f64>() * total;
        for (k, w) in weights.iter().enumerate() {
            u -= w;
            if u < 0.0 {
                return k;
            }
        }
        a.values - 1
    };
    let mut csv = String::with_capacity(a.rows as usize * (20 + 5 * a.dims));
    csv.push_str("created_at");
    for d in 0..a.dims {
        let _ = write!(csv, ",d{d}");
    }
    csv.push_str(",cause\n");
    for i in 0..a.rows {
        let week = i * weeks / a.rows;
        let secs = rng.random_range(0..7 * 86_400);
        let t = first.and_hms_opt(0, 0, 0).unwrap()
            + chrono::TimeDelta::days(7 * week as i64)
            + chrono::TimeDelta::seconds(secs);
        let _ = write!(csv, "{}", t.format("%Y-%m-%d %H:%M:%S"));
        let mut vals = Vec::with_capacity(a.dims);
        for _ in 0..a.dims {
            let v = pick(&mut rng);
            vals.push(v);
            let _ = write!(csv, ",v{v:02}");
        }
        // Planted: in the last week, d0 = v01 ∧ d1 = v02 gets 30 more routing points.
        let planted = week == weeks - 1 && vals[0] == 1 && vals.get(1) == Some(&2);
        let u: f64 = rng.random();
        let cause = if u < 0.06 + if planted { 0.30 } else { 0.0 } {
            "routing"
        } else if u < 0.41 && planted || !planted && u < 0.11 {
            "skill"
        } else if u < 0.45 && planted || !planted && u < 0.15 {
            "escalation"
        } else {
            ""
        };
        let _ = writeln!(csv, ",{cause}");
    }
    std::fs::write(dir.join("conversations.csv"), csv)?;
    let dims: Vec<String> = (0..a.dims).map(|d| format!("d{d}")).collect();
    let tree = format!(
        "version: 1\nname: bench\nroot: handoff_rate\ngrain: week\ntimezone: UTC\nmaturity: 0d\nowners: {{ops: {{name: Ops}}}}\ndimensions:\n{}sources:\n  conversations:\n    file: conversations.csv\n    time: created_at\n    dimensions: {{{}}}\nnodes:\n  handoff_rate:\n    owner: ops\n    unit: percent\n    formula: routing_rate + skill_rate + escalation_rate\n  routing_rate: {{unit: percent, ratio: {{numerator: routed, denominator: conversations}}}}\n  skill_rate: {{unit: percent, ratio: {{numerator: skilled, denominator: conversations}}}}\n  escalation_rate: {{unit: percent, ratio: {{numerator: escalated, denominator: conversations}}}}\n  conversations: {{measure: {{source: conversations, agg: count}}}}\n  routed: {{measure: {{source: conversations, agg: count, filter: \"cause = 'routing'\"}}}}\n  skilled: {{measure: {{source: conversations, agg: count, filter: \"cause = 'skill'\"}}}}\n  escalated: {{measure: {{source: conversations, agg: count, filter: \"cause = 'escalation'\"}}}}\n",
        dims.iter()
            .map(|d| format!("  {d}: {{label: {d}}}\n"))
            .collect::<String>(),
        dims.iter()
            .map(|d| format!("{d}: {d}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    std::fs::write(dir.join("tree.yaml"), tree)
}
