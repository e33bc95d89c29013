//! Formatting of values by unit: percents as `31.2%` and their changes as `+3.7 pp`, counts
//! with thousands separators, durations in seconds or hours. Undefined values print as `—`.

use crate::spec::model::Unit;

/// A value in its unit; `None` → "—".
pub fn value(v: Option<f64>, unit: Unit) -> String {
    let Some(v) = v else { return "—".into() };
    match unit {
        Unit::Percent => format!("{:.1}%", v * 100.0),
        Unit::Count => thousands(v),
        Unit::Seconds => format!("{} s", sig(v)),
        Unit::Hours => format!("{} h", sig(v)),
        Unit::Ratio | Unit::Number => sig(v),
    }
}

/// A signed change in the unit (percent changes in percentage points).
pub fn change(v: f64, unit: Unit) -> String {
    let sign = if v > 0.0 {
        "+"
    } else if v < 0.0 {
        "−"
    } else {
        "±"
    };
    let a = v.abs();
    match unit {
        Unit::Percent => format!("{sign}{:.2} pp", a * 100.0),
        Unit::Count => format!("{sign}{}", thousands(a)),
        Unit::Seconds => format!("{sign}{} s", sig(a)),
        Unit::Hours => format!("{sign}{} h", sig(a)),
        Unit::Ratio | Unit::Number => format!("{sign}{}", sig(a)),
    }
}

/// An interval of changes, `[+2.30, +5.27] pp`, the unit written once.
pub fn interval(lo: f64, hi: f64, unit: Unit) -> String {
    let (a, b) = (change(lo, unit), change(hi, unit));
    for suffix in [" pp", " s", " h"] {
        if let (Some(x), Some(y)) = (a.strip_suffix(suffix), b.strip_suffix(suffix)) {
            return format!("[{x}, {y}]{suffix}");
        }
    }
    format!("[{a}, {b}]")
}

/// A part as a share of a total; `None` when the total is zero (or not finite).
pub fn ratio(part: f64, total: f64) -> Option<f64> {
    (total != 0.0 && total.is_finite()).then(|| part / total)
}

/// A share (see [`ratio`]) as a signed percent (`+92%`), or "—" without one.
pub fn share_of(r: Option<f64>) -> String {
    let Some(r) = r else { return "—".into() };
    let s = r * 100.0;
    if s.abs() < 0.5 {
        "0%".into()
    } else {
        format!("{}{:.0}%", if s > 0.0 { "+" } else { "−" }, s.abs())
    }
}

fn sig(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        thousands(v)
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn thousands(v: f64) -> String {
    let r = v.round();
    if (v - r).abs() > 1e-9 {
        return format!("{v:.1}");
    }
    let digits = format!("{}", r.abs() as u128);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if r < 0.0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(value(Some(0.3124), Unit::Percent), "31.2%");
        assert_eq!(value(None, Unit::Percent), "—");
        assert_eq!(change(0.0371, Unit::Percent), "+3.71 pp");
        assert_eq!(change(-12.0, Unit::Count), "−12");
        assert_eq!(value(Some(1234567.0), Unit::Count), "1,234,567");
        assert_eq!(share_of(ratio(0.5, 2.0)), "+25%");
        assert_eq!(share_of(ratio(1.0, 0.0)), "—");
        assert_eq!(interval(-0.001, 0.02, Unit::Percent), "[−0.10, +2.00] pp");
        assert_eq!(interval(-3.0, 4.0, Unit::Count), "[−3, +4]");
    }
}
