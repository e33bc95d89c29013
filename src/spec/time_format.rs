//! How a time column is written — as a tree declares it (`time_format:`) or as reading a
//! file detects it — and how one value in that format is read and rewritten as ISO 8601.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// How a time column is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    Iso,
    DayFirst,
    MonthFirst,
    EpochSeconds,
    EpochMillis,
    /// A chrono pattern (`%d.%m.%Y %H:%M`).
    Pattern(String),
}

impl TimeFormat {
    pub fn parse(s: &str) -> Option<TimeFormat> {
        Some(match s {
            "iso" => TimeFormat::Iso,
            "day_first" => TimeFormat::DayFirst,
            "month_first" => TimeFormat::MonthFirst,
            "epoch_seconds" => TimeFormat::EpochSeconds,
            "epoch_millis" => TimeFormat::EpochMillis,
            p if p.contains("%Y") || p.contains("%y") => TimeFormat::Pattern(p.to_string()),
            _ => return None,
        })
    }

    pub fn name(&self) -> String {
        match self {
            TimeFormat::Iso => "iso".into(),
            TimeFormat::DayFirst => "day_first".into(),
            TimeFormat::MonthFirst => "month_first".into(),
            TimeFormat::EpochSeconds => "epoch_seconds".into(),
            TimeFormat::EpochMillis => "epoch_millis".into(),
            TimeFormat::Pattern(p) => p.clone(),
        }
    }

    /// The value rewritten as ISO 8601 (`YYYY-MM-DD HH:MM:SS`, or `...Z` for an instant).
    pub fn normalize(&self, v: &str) -> Option<String> {
        let v = v.trim();
        let naive = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S%.f").to_string();
        let instant = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string();
        match self {
            TimeFormat::Iso => {
                if let Ok(t) = DateTime::parse_from_rfc3339(v) {
                    return Some(instant(t.with_timezone(&Utc)));
                }
                for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
                    if let Ok(t) = DateTime::parse_from_str(v, f) {
                        return Some(instant(t.with_timezone(&Utc)));
                    }
                }
                for f in [
                    "%Y-%m-%d %H:%M:%S%.f",
                    "%Y-%m-%dT%H:%M:%S%.f",
                    "%Y-%m-%d %H:%M",
                    "%Y-%m-%dT%H:%M",
                ] {
                    if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
                        return Some(naive(t));
                    }
                }
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(naive)
            }
            TimeFormat::DayFirst | TimeFormat::MonthFirst => {
                // 29/2/2016 01:16, 29.02.2016, 29-02-2016 10:00:05
                let (date, time) = v.split_once([' ', 'T']).unwrap_or((v, ""));
                let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
                let [a, b, y] = parts.as_slice() else {
                    return None;
                };
                let (d, m) = if *self == TimeFormat::DayFirst {
                    (a, b)
                } else {
                    (b, a)
                };
                let mut year: i32 = y.parse().ok()?;
                if y.len() == 2 {
                    year += 2000;
                }
                let date = NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)?;
                let hms: Vec<&str> = time.split(':').filter(|s| !s.is_empty()).collect();
                let num = |i: usize| hms.get(i).map_or(Some(0), |s| s.parse::<u32>().ok());
                let (h, mi) = (num(0)?, num(1)?);
                let sec: f64 = hms.get(2).map_or(Some(0.0), |s| s.parse().ok())?;
                let nanos = ((sec.fract()) * 1e9).round() as u32;
                let t = date.and_hms_nano_opt(h, mi, sec.trunc() as u32, nanos)?;
                Some(naive(t))
            }
            TimeFormat::EpochSeconds | TimeFormat::EpochMillis => {
                let x: f64 = v.parse().ok()?;
                let secs = if *self == TimeFormat::EpochMillis {
                    x / 1000.0
                } else {
                    x
                };
                if !secs.is_finite() {
                    return None;
                }
                let whole = secs.floor();
                let nanos = ((secs - whole) * 1e9).round() as u32;
                DateTime::from_timestamp(whole as i64, nanos.min(999_999_999)).map(instant)
            }
            TimeFormat::Pattern(p) => NaiveDateTime::parse_from_str(v, p)
                .ok()
                .map(naive)
                .or_else(|| {
                    DateTime::parse_from_str(v, p)
                        .ok()
                        .map(|t| instant(t.with_timezone(&Utc)))
                })
                .or_else(|| {
                    NaiveDate::parse_from_str(v, p)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(naive)
                }),
        }
    }

    /// Guesses the format of a column from sample values; the second value says why, and
    /// whether the guess is ambiguous.
    pub fn detect(values: &[&str]) -> Option<(TimeFormat, String)> {
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return None;
        }
        let digits = |v: &&str| v.chars().all(|c| c.is_ascii_digit() || c == '.');
        if values.iter().all(digits) {
            let long = values
                .iter()
                .filter(|v| v.split('.').next().unwrap_or("").len() >= 12)
                .count();
            return Some(if long * 2 > values.len() {
                (
                    TimeFormat::EpochMillis,
                    "13-digit numbers: epoch milliseconds".into(),
                )
            } else {
                (
                    TimeFormat::EpochSeconds,
                    "10-digit numbers: epoch seconds".into(),
                )
            });
        }
        if values
            .iter()
            .all(|v| TimeFormat::Iso.normalize(v).is_some())
        {
            return Some((TimeFormat::Iso, "ISO 8601".into()));
        }
        let (mut first_big, mut second_big) = (false, false);
        for v in &values {
            let date = v.split([' ', 'T']).next().unwrap_or("");
            let parts: Vec<u32> = date
                .split(['/', '.', '-'])
                .filter_map(|p| p.parse().ok())
                .collect();
            if parts.len() != 3 {
                // Not a date at all (`hello`, `10:15`): nothing to assume.
                return None;
            }
            first_big |= parts[0] > 12;
            second_big |= parts[1] > 12;
        }
        match (first_big, second_big) {
            (true, false) => Some((
                TimeFormat::DayFirst,
                "a first number above 12: day-first".into(),
            )),
            (false, true) => Some((
                TimeFormat::MonthFirst,
                "a second number above 12: month-first".into(),
            )),
            (false, false) => Some((
                TimeFormat::DayFirst,
                "AMBIGUOUS: no value has a number above 12; day-first assumed (set `time_format`)"
                    .into(),
            )),
            (true, true) => None,
        }
    }
}
