//! Numbers and verdicts in words, for readers who are not statisticians: values in the tree's
//! locale, durations in minutes or hours rather than seconds, changes of percentages in
//! points, the noise verdict as a sentence, and segments named by their values
//! (`chat × billing`).
//!
//! Everything here returns plain text; the renderer escapes it for its format.

use crate::spec::locale::Locale;
use crate::spec::model::{Direction, Unit};

/// Formats values and changes in one locale.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    pub locale: Locale,
}

/// Whether a move is good, bad, or neither, given the node's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    Better,
    Worse,
    Neutral,
}

impl Judgement {
    pub fn of(delta: f64, direction: Direction) -> Judgement {
        match direction {
            _ if delta == 0.0 => Judgement::Neutral,
            Direction::Neutral => Judgement::Neutral,
            Direction::HigherIsBetter if delta > 0.0 => Judgement::Better,
            Direction::LowerIsBetter if delta < 0.0 => Judgement::Better,
            _ => Judgement::Worse,
        }
    }

    /// The word a reader sees beside the colour (colour is never the only carrier).
    pub fn word(self) -> &'static str {
        match self {
            Judgement::Better => "better",
            Judgement::Worse => "worse",
            Judgement::Neutral => "no better or worse",
        }
    }
}

/// ▲, ▼ or ■ for a signed change.
pub fn arrow(delta: f64) -> &'static str {
    if delta > 0.0 {
        "▲"
    } else if delta < 0.0 {
        "▼"
    } else {
        "■"
    }
}

/// `rose`, `fell` or `held`.
pub fn verb(delta: f64) -> &'static str {
    if delta > 0.0 {
        "rose"
    } else if delta < 0.0 {
        "fell"
    } else {
        "held"
    }
}

impl Words {
    pub fn new(locale: Locale) -> Words {
        Words { locale }
    }

    fn num(&self, v: f64, decimals: usize) -> String {
        self.locale.number(v, decimals)
    }

    /// Digits after the point for a plain number: enough for two significant ones.
    fn decimals(v: f64) -> usize {
        let a = v.abs();
        if a == 0.0 || a >= 100.0 {
            0
        } else if a >= 10.0 {
            1
        } else if a >= 0.1 {
            2
        } else {
            3
        }
    }

    /// A value in its unit: `27.3%`, `1,900`, `2.4 min`, `1.23`; `—` when undefined.
    pub fn value(&self, v: Option<f64>, unit: Unit) -> String {
        let Some(v) = v.filter(|v| v.is_finite()) else {
            return "—".into();
        };
        match unit {
            Unit::Percent => format!("{}%", self.num(v * 100.0, 1)),
            Unit::Count => {
                let d = if v.fract() == 0.0 { 0 } else { 1 };
                self.num(v, d)
            }
            Unit::Seconds => self.duration(v),
            Unit::Hours => self.duration(v * 3600.0),
            Unit::Ratio | Unit::Number => self.num(v, Self::decimals(v)),
        }
    }

    /// A duration in the unit a person would use: seconds below 90 s, minutes below 90 min,
    /// hours below 48 h, then days.
    pub fn duration(&self, secs: f64) -> String {
        let a = secs.abs();
        let (v, u) = if a < 90.0 {
            (secs, "s")
        } else if a < 90.0 * 60.0 {
            (secs / 60.0, "min")
        } else if a < 48.0 * 3600.0 {
            (secs / 3600.0, "h")
        } else {
            (secs / 86400.0, "days")
        };
        let d = if v.abs() >= 10.0 || v.fract() == 0.0 {
            0
        } else {
            1
        };
        format!("{} {u}", self.num(v, d))
    }

    /// A signed change: `+3.6 points` for percents, `+58`, `+1.5 min`.
    pub fn change(&self, d: f64, unit: Unit) -> String {
        let sign = if d > 0.0 {
            "+"
        } else if d < 0.0 {
            "−"
        } else {
            "±"
        };
        let a = d.abs();
        let body = match unit {
            Unit::Percent => {
                let pts = a * 100.0;
                let dec = if pts >= 0.1 || pts == 0.0 { 1 } else { 2 };
                let n = self.num(pts, dec);
                format!(
                    "{n} {}",
                    if n == "1.0" || n == "1,0" {
                        "point"
                    } else {
                        "points"
                    }
                )
            }
            _ => self.value(Some(a), unit),
        };
        format!("{sign}{body}")
    }

    /// A share as a whole percent (`9%`), for volume shares that are between 0 and 1.
    pub fn share(&self, s: f64) -> String {
        let p = s * 100.0;
        if p > 0.0 && p < 1.0 {
            return "under 1%".into();
        }
        format!("{}%", self.num(p, 0))
    }
}

/// A segment by its values, `chat × billing` (`no tier` for a missing value); a segment of
/// one dimension names it too, `free (tier)`.
pub fn segment_name(parts: &[(String, Option<String>)]) -> String {
    if let [(d, Some(v))] = parts {
        return format!("{v} ({d})");
    }
    parts
        .iter()
        .map(|(d, v)| v.clone().unwrap_or_else(|| format!("no {d}")))
        .collect::<Vec<_>>()
        .join(" × ")
}

/// The noise verdict in words: whether the change is larger than the node's usual
/// period-to-period movement, and why an interval that excludes zero can still be "could be
/// noise" (several branches or segments were checked at once).
pub fn verdict(beyond: Option<bool>, ci: Option<(f64, f64)>, grain: &str, tested: usize) -> String {
    match (beyond, ci) {
        (Some(true), _) => format!("beyond {grain}-to-{grain} noise: a real change"),
        (Some(false), Some((lo, hi))) if (lo > 0.0 || hi < 0.0) && tested > 1 => format!(
            "could be noise: on its own it would stand out, but with {tested} measures checked at once one change this size is expected by chance"
        ),
        (Some(false), _) => {
            format!("within {grain}-to-{grain} noise: not distinguishable from the usual movement")
        }
        (None, _) => "not tested".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_unit_a_person_would() {
        let w = Words::new(Locale::En);
        assert_eq!(w.value(Some(45.0), Unit::Seconds), "45 s");
        assert_eq!(w.value(Some(133_639.0), Unit::Seconds), "37 h");
        assert_eq!(w.value(Some(150.0), Unit::Seconds), "2.5 min");
        assert_eq!(w.value(Some(3.0 * 86400.0), Unit::Seconds), "3 days");
    }

    #[test]
    fn changes_of_percents_are_points() {
        let w = Words::new(Locale::En);
        assert_eq!(w.change(0.0359, Unit::Percent), "+3.6 points");
        assert_eq!(w.change(-0.005, Unit::Percent), "−0.5 points");
        assert_eq!(w.change(0.01, Unit::Percent), "+1.0 point");
        assert_eq!(w.value(Some(230_372_400.0), Unit::Count), "230,372,400");
        assert_eq!(
            Words::new(Locale::De).value(Some(0.273), Unit::Percent),
            "27,3%"
        );
    }

    #[test]
    fn judgement_follows_direction() {
        assert_eq!(
            Judgement::of(0.1, Direction::LowerIsBetter),
            Judgement::Worse
        );
        assert_eq!(
            Judgement::of(0.1, Direction::HigherIsBetter),
            Judgement::Better
        );
        assert_eq!(Judgement::of(0.1, Direction::Neutral), Judgement::Neutral);
    }
}
