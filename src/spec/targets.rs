//! Where a node's value should sit: its named bands (profiles such as "lean,
//! frontline-resolved") and the published industry ranges a node can be compared with.
//!
//! The industry ranges are estimates practitioners publish for handoff success rate, average
//! handoff time and transfer completion rate, per kind of support organisation. Reports
//! show them as a guide, never as a target.

use serde::Serialize;

/// A named band: values from the previous band's bound up to `below` (exclusive); the last
/// band may be open-ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub label: String,
    /// Upper bound, exclusive; `None` for the last band.
    pub below: Option<f64>,
}

/// The band a value falls in (bands are checked ascending when the tree is read).
pub fn band_of(bands: &[Band], v: f64) -> Option<&Band> {
    bands.iter().find(|b| b.below.is_none_or(|x| v < x))
}

/// What an industry range measures; a node says which with `benchmark:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Benchmark {
    /// Transfers the receiver resolved without a further transfer or reopen (percent).
    HandoffSuccessRate,
    /// Time from transfer to the receiver picking up (seconds).
    AverageHandoffTime,
    /// Transfers accepted and not abandoned (percent).
    TransferCompletionRate,
}

impl Benchmark {
    pub const ALL: [(&'static str, Benchmark); 3] = [
        ("handoff_success_rate", Benchmark::HandoffSuccessRate),
        ("average_handoff_time", Benchmark::AverageHandoffTime),
        (
            "transfer_completion_rate",
            Benchmark::TransferCompletionRate,
        ),
    ];

    /// Whether the range is in seconds (else a share).
    pub fn in_seconds(self) -> bool {
        self == Benchmark::AverageHandoffTime
    }
}

/// A kind of support organisation, selecting the industry ranges (`industry:` in the tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    SaasB2b,
    SaasB2c,
    Ecommerce,
    Fintech,
    SubscriptionMedia,
    EarlyStage,
    GrowthStage,
    Enterprise,
    SelfServe,
    EnterpriseSales,
}

/// Per industry: its key, its name, then the ranges for handoff success rate (share), average
/// handoff time (seconds) and transfer completion rate (share).
type Row = (&'static str, Industry, &'static str, [(f64, f64); 3]);

const RANGES: [Row; 10] = [
    (
        "saas_b2b",
        Industry::SaasB2b,
        "SaaS B2B",
        [(0.85, 0.92), (45.0, 90.0), (0.78, 0.85)],
    ),
    (
        "saas_b2c",
        Industry::SaasB2c,
        "SaaS B2C",
        [(0.80, 0.88), (30.0, 60.0), (0.75, 0.82)],
    ),
    (
        "ecommerce",
        Industry::Ecommerce,
        "Ecommerce",
        [(0.82, 0.89), (25.0, 45.0), (0.80, 0.87)],
    ),
    (
        "fintech",
        Industry::Fintech,
        "Fintech",
        [(0.88, 0.95), (60.0, 120.0), (0.82, 0.90)],
    ),
    (
        "subscription_media",
        Industry::SubscriptionMedia,
        "Subscription media",
        [(0.83, 0.90), (35.0, 75.0), (0.77, 0.84)],
    ),
    (
        "early_stage",
        Industry::EarlyStage,
        "Early-stage (<$10M ARR)",
        [(0.75, 0.85), (60.0, 120.0), (0.70, 0.80)],
    ),
    (
        "growth_stage",
        Industry::GrowthStage,
        "Growth-stage ($10–100M ARR)",
        [(0.85, 0.92), (45.0, 75.0), (0.80, 0.88)],
    ),
    (
        "enterprise",
        Industry::Enterprise,
        "Enterprise (>$100M ARR)",
        [(0.90, 0.96), (30.0, 60.0), (0.85, 0.92)],
    ),
    (
        "self_serve",
        Industry::SelfServe,
        "Self-serve",
        [(0.78, 0.86), (30.0, 60.0), (0.75, 0.83)],
    ),
    (
        "enterprise_sales",
        Industry::EnterpriseSales,
        "Enterprise sales",
        [(0.88, 0.95), (60.0, 90.0), (0.83, 0.91)],
    ),
];

impl Industry {
    /// Every key and its industry, for parsing and help.
    pub fn all() -> impl Iterator<Item = (&'static str, Industry)> {
        RANGES.iter().map(|r| (r.0, r.1))
    }

    fn row(self) -> &'static Row {
        RANGES
            .iter()
            .find(|r| r.1 == self)
            .expect("every industry has a row")
    }

    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The published range (low, high) of a measure for this industry.
    pub fn range(self, b: Benchmark) -> (f64, f64) {
        let i = match b {
            Benchmark::HandoffSuccessRate => 0,
            Benchmark::AverageHandoffTime => 1,
            Benchmark::TransferCompletionRate => 2,
        };
        self.row().3[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_found_by_upper_bound() {
        let b = vec![
            Band {
                label: "lean".into(),
                below: Some(0.15),
            },
            Band {
                label: "balanced".into(),
                below: Some(0.30),
            },
            Band {
                label: "bouncing".into(),
                below: None,
            },
        ];
        assert_eq!(band_of(&b, 0.1).unwrap().label, "lean");
        assert_eq!(band_of(&b, 0.15).unwrap().label, "balanced");
        assert_eq!(band_of(&b, 0.9).unwrap().label, "bouncing");
    }

    #[test]
    fn ranges_are_ordered_and_published() {
        for (_, i) in Industry::all() {
            for (_, b) in Benchmark::ALL {
                let (lo, hi) = i.range(b);
                assert!(lo < hi, "{i:?} {b:?}");
            }
        }
        assert_eq!(
            Industry::Fintech.range(Benchmark::AverageHandoffTime),
            (60.0, 120.0)
        );
        assert_eq!(
            Industry::SaasB2b.range(Benchmark::TransferCompletionRate),
            (0.78, 0.85)
        );
    }
}
