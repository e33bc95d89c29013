//! How numbers are written for the tree's readers (`locale:`): the decimal and thousands
//! separators. Reports use it; the JSON keeps plain numbers.

use serde::Serialize;

/// A number style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Locale {
    /// 1,234.5
    #[default]
    #[serde(rename = "en")]
    En,
    /// 1.234,5
    #[serde(rename = "de")]
    De,
    /// 1 234,5 (narrow no-break space)
    #[serde(rename = "fr")]
    Fr,
    /// 1’234.5
    #[serde(rename = "de-CH")]
    DeCh,
    /// 1,23,456.5 is not attempted: Indian grouping uses `en` separators.
    #[serde(rename = "en-IN")]
    EnIn,
}

impl Locale {
    pub const ALL: [(&'static str, Locale); 5] = [
        ("en", Locale::En),
        ("de", Locale::De),
        ("fr", Locale::Fr),
        ("de-CH", Locale::DeCh),
        ("en-IN", Locale::EnIn),
    ];

    /// (decimal separator, thousands separator).
    pub fn separators(self) -> (char, char) {
        match self {
            Locale::En | Locale::EnIn => ('.', ','),
            Locale::De => (',', '.'),
            Locale::Fr => (',', '\u{202f}'),
            Locale::DeCh => ('.', '’'),
        }
    }

    /// A number written with `decimals` digits after the point and grouped thousands.
    pub fn number(self, v: f64, decimals: usize) -> String {
        let (dec, th) = self.separators();
        let s = format!("{:.*}", decimals, v.abs());
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i.to_string(), Some(f.to_string())),
            None => (s, None),
        };
        let mut grouped = String::new();
        let n = int.len();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (n - i) % 3 == 0 {
                grouped.push(th);
            }
            grouped.push(c);
        }
        let mut out = String::new();
        if v < 0.0 && s_nonzero(&grouped, frac.as_deref()) {
            out.push('−');
        }
        out.push_str(&grouped);
        if let Some(f) = frac {
            out.push(dec);
            out.push_str(&f);
        }
        out
    }
}

fn s_nonzero(int: &str, frac: Option<&str>) -> bool {
    int.chars()
        .chain(frac.unwrap_or("").chars())
        .any(|c| c.is_ascii_digit() && c != '0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_follow_the_locale() {
        assert_eq!(Locale::En.number(1234567.891, 1), "1,234,567.9");
        assert_eq!(Locale::De.number(1234.5, 2), "1.234,50");
        assert_eq!(Locale::Fr.number(-1234.0, 0), "−1\u{202f}234");
        assert_eq!(Locale::DeCh.number(999.0, 0), "999");
        assert_eq!(Locale::En.number(-0.0001, 1), "0.0");
    }
}
