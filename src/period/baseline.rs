//! What the current period is compared with: the previous period (default), a named period,
//! `ago:N` (N periods back) or `trailing:N` (the N periods before the current one, pooled:
//! leaf aggregates are summed and divided by N, then formulas evaluated — a pooled ratio, not
//! a mean of ratios).

use super::{Grain, Period};

/// The most periods `ago:N` and `trailing:N` may reach back (ten years of weeks).
pub const MAX_BASELINE_PERIODS: u32 = 520;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    Previous,
    Period(Period),
    Ago(u32),
    Trailing(u32),
}

impl Baseline {
    /// Parses `--baseline`: a period label, `ago:N` or `trailing:N`.
    pub fn parse(s: &str, grain: Grain) -> Result<Baseline, String> {
        let count = |n: &str, what: &str| -> Result<u32, String> {
            match n.trim().parse::<u64>() {
                Ok(n) if (1..=u64::from(MAX_BASELINE_PERIODS)).contains(&n) => Ok(n as u32),
                _ => Err(format!(
                    "`{}`: {what} needs a whole number of periods from 1 to {MAX_BASELINE_PERIODS}, like `{what}:4`",
                    crate::text::excerpt(s)
                )),
            }
        };
        if let Some(n) = s.strip_prefix("ago:") {
            return Ok(Baseline::Ago(count(n, "ago")?));
        }
        if let Some(n) = s.strip_prefix("trailing:") {
            return Ok(Baseline::Trailing(count(n, "trailing")?));
        }
        Period::parse(s, grain)
            .map(Baseline::Period)
            .map_err(|e| format!("{e}, or `ago:N`, or `trailing:N`"))
    }

    /// The baseline's periods for `current`, oldest first.
    pub fn periods(&self, current: &Period) -> Vec<Period> {
        match self {
            Baseline::Previous => vec![current.prev()],
            Baseline::Period(p) => vec![*p],
            Baseline::Ago(n) => vec![current.back(*n)],
            Baseline::Trailing(n) => (1..=*n).rev().map(|k| current.back(k)).collect(),
        }
    }

    /// How the output names it: `previous`, `period`, `ago:N`, `trailing:N`.
    pub fn kind(&self) -> String {
        match self {
            Baseline::Previous => "previous".into(),
            Baseline::Period(_) => "period".into(),
            Baseline::Ago(n) => format!("ago:{n}"),
            Baseline::Trailing(n) => format!("trailing:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let cur = Period::parse("2026-W46", Grain::Week).unwrap();
        assert_eq!(
            Baseline::parse("ago:4", Grain::Week).unwrap().periods(&cur)[0].label(),
            "2026-W42"
        );
        let t = Baseline::parse("trailing:3", Grain::Week)
            .unwrap()
            .periods(&cur);
        assert_eq!(
            t.iter().map(|p| p.label()).collect::<Vec<_>>(),
            ["2026-W43", "2026-W44", "2026-W45"]
        );
        assert!(Baseline::parse("ago:0", Grain::Week).is_err());
        assert!(
            Baseline::parse("trailing:x", Grain::Week)
                .unwrap_err()
                .contains("trailing:4")
        );
        assert!(Baseline::parse("last week", Grain::Week).is_err());
        assert!(Baseline::parse("trailing:4000000000", Grain::Week).is_err());
        assert!(Baseline::parse("ago:521", Grain::Week).is_err());
    }
}
