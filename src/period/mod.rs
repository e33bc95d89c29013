//! Periods: a day, an ISO week or a calendar month in the tree's time zone.
//!
//! Labels are `2026-11-16`, `2026-W46`, `2026-11`. Boundaries are computed here, in Rust,
//! once: as local wall-clock times (for data whose timestamps carry no offset, read in the
//! tree's zone) and as UTC instants (for data with offsets). Every engine then filters with
//! `time >= start AND time < end`, so bucketing is identical everywhere, across
//! daylight-saving changes and ISO week 53.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

pub mod baseline;

pub use baseline::Baseline;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }

    /// How a label of this grain looks, for messages.
    pub fn example(self) -> &'static str {
        match self {
            Grain::Day => "2026-11-16",
            Grain::Week => "2026-W46",
            Grain::Month => "2026-11",
        }
    }
}

/// One period: its grain and the local date it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub start: NaiveDate,
    pub grain: Grain,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{label}` is not a {grain} period: {why}; write it like `{example}`")]
pub struct PeriodError {
    pub label: String,
    pub grain: &'static str,
    pub why: String,
    pub example: &'static str,
}

impl Period {
    /// The period of this grain that contains `date`.
    pub fn containing(grain: Grain, date: NaiveDate) -> Period {
        let start = match grain {
            Grain::Day => date,
            Grain::Week => date - Days::new(date.weekday().num_days_from_monday() as u64),
            Grain::Month => date.with_day(1).unwrap_or(date),
        };
        Period { start, grain }
    }

    /// Parses a label of the given grain.
    pub fn parse(label: &str, grain: Grain) -> Result<Period, PeriodError> {
        let err = |why: &str| PeriodError {
            label: label.to_string(),
            grain: grain.name(),
            why: why.to_string(),
            example: grain.example(),
        };
        let label_t = label.trim();
        match grain {
            Grain::Day => NaiveDate::parse_from_str(label_t, "%Y-%m-%d")
                .map(|d| Period { start: d, grain })
                .map_err(|_| err("expected year-month-day")),
            Grain::Week => {
                let (y, w) = label_t
                    .split_once("-W")
                    .or_else(|| label_t.split_once("-w"))
                    .ok_or_else(|| err("expected year-Wweek"))?;
                let y: i32 = y.parse().map_err(|_| err("the year is not a number"))?;
                let w: u32 = w.parse().map_err(|_| err("the week is not a number"))?;
                NaiveDate::from_isoywd_opt(y, w, Weekday::Mon)
                    .map(|d| Period { start: d, grain })
                    .ok_or_else(|| err(&format!("ISO year {y} has no week {w}")))
            }
            Grain::Month => {
                let (y, m) = label_t
                    .split_once('-')
                    .ok_or_else(|| err("expected year-month"))?;
                let y: i32 = y.parse().map_err(|_| err("the year is not a number"))?;
                let m: u32 = m.parse().map_err(|_| err("the month is not a number"))?;
                NaiveDate::from_ymd_opt(y, m, 1)
                    .map(|d| Period { start: d, grain })
                    .ok_or_else(|| err("no such month"))
            }
        }
    }

    pub fn label(&self) -> String {
        match self.grain {
            Grain::Day => self.start.format("%Y-%m-%d").to_string(),
            Grain::Week => {
                let w = self.start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Grain::Month => self.start.format("%Y-%m").to_string(),
        }
    }

    /// The first local date after the period.
    pub fn end_date(&self) -> NaiveDate {
        match self.grain {
            Grain::Day => self.start + Days::new(1),
            Grain::Week => self.start + Days::new(7),
            Grain::Month => self.start + Months::new(1),
        }
    }

    pub fn next(&self) -> Period {
        Period {
            start: self.end_date(),
            grain: self.grain,
        }
    }

    pub fn prev(&self) -> Period {
        let start = match self.grain {
            Grain::Day => self.start - Days::new(1),
            Grain::Week => self.start - Days::new(7),
            Grain::Month => self.start - Months::new(1),
        };
        Period {
            start,
            grain: self.grain,
        }
    }

    /// `n` periods back (0 = this one).
    pub fn back(&self, n: u32) -> Period {
        (0..n).fold(*self, |p, _| p.prev())
    }

    /// Local wall-clock bounds `[start, end)`.
    pub fn local_bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        (midnight(self.start), midnight(self.end_date()))
    }

    /// UTC bounds `[start, end)` of the period in zone `tz`.
    pub fn utc_bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_to_utc(tz, midnight(self.start)),
            local_to_utc(tz, midnight(self.end_date())),
        )
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// The UTC instant of a local wall-clock time. An ambiguous time (clocks going back) takes
/// the earlier instant; a time that does not exist (clocks going forward over midnight, as in
/// some zones) takes the first valid instant after the gap.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => {
            // Step forward minute by minute (gaps are at most a few hours).
            let mut t = local;
            for _ in 0..(24 * 60) {
                t += chrono::TimeDelta::minutes(1);
                if let Some(x) = tz.from_local_datetime(&t).earliest() {
                    return x.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for (g, l) in [
            (Grain::Week, "2026-W46"),
            (Grain::Week, "2026-W53"),
            (Grain::Month, "2026-11"),
            (Grain::Day, "2026-11-16"),
        ] {
            assert_eq!(Period::parse(l, g).unwrap().label(), l);
        }
        assert!(
            Period::parse("2025-W53", Grain::Week).is_err(),
            "2025 has 52 ISO weeks"
        );
    }

    #[test]
    fn week_53_spans_the_year_boundary() {
        let p = Period::parse("2026-W53", Grain::Week).unwrap();
        assert_eq!(p.start, NaiveDate::from_ymd_opt(2026, 12, 28).unwrap());
        assert_eq!(p.end_date(), NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
        assert_eq!(p.next().label(), "2027-W01");
        assert_eq!(
            Period::containing(Grain::Week, NaiveDate::from_ymd_opt(2027, 1, 3).unwrap()),
            p
        );
    }

    #[test]
    fn dst_week_is_167_hours_in_berlin() {
        // 2026-03-29: clocks go forward in Europe/Berlin, inside ISO week 13.
        let p = Period::parse("2026-W13", Grain::Week).unwrap();
        let (s, e) = p.utc_bounds(chrono_tz::Europe::Berlin);
        assert_eq!((e - s).num_hours(), 167);
        assert_eq!(s.to_rfc3339(), "2026-03-22T23:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-03-29T22:00:00+00:00");
    }

    #[test]
    fn missing_midnight_moves_to_first_valid_instant() {
        // America/Santiago skips 00:00–01:00 on 2026-09-06.
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let t = local_to_utc(chrono_tz::America::Santiago, midnight(d));
        assert_eq!(t.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }
}
