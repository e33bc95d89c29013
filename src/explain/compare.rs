//! `why --compare DIM=A,B`: two populations of one period instead of one population in two
//! periods — team A against team B, EMEA against NA, forecast against actual.
//!
//! The pipeline is the same (see the parent module): the first population plays the
//! baseline and the second the current side, so the branch attribution, the segments' mix and
//! rate, and the tests are computed by the same code. What differs is the noise: the two
//! populations are independent samples of the same week, so the tests are two-sample tests
//! (two-proportion z, Welch, the delta method) with no over-dispersion from history — that
//! measures how much one population's value wanders from week to week, which a same-week
//! comparison does not contain — and no volume factor.

use serde::Serialize;

/// Which two populations to compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The dimension that tells them apart.
    pub dimension: String,
    /// Its value for the first population (the baseline side), then the second.
    pub values: [String; 2],
}

impl Comparison {
    /// Parses `DIM=A,B`. The error says what was expected.
    pub fn parse(s: &str) -> Result<Comparison, String> {
        let shape =
            "give one dimension and two of its values, like `--compare team=billing,tech_support`";
        let Some((dim, values)) = s.split_once('=') else {
            return Err(format!("--compare `{s}` has no `=`; {shape}"));
        };
        let dim = dim.trim();
        let parts: Vec<&str> = values.split(',').map(str::trim).collect();
        if dim.is_empty() {
            return Err(format!("--compare `{s}` names no dimension; {shape}"));
        }
        let [a, b] = parts[..] else {
            let n = parts.len();
            let plural = if n == 1 { "value" } else { "values" };
            return Err(format!("--compare `{s}` has {n} {plural}; {shape}"));
        };
        if a.is_empty() || b.is_empty() {
            return Err(format!("--compare `{s}` has an empty value; {shape}"));
        }
        if a == b {
            return Err(format!(
                "--compare `{s}` compares `{a}` with itself; give two different values"
            ));
        }
        Ok(Comparison {
            dimension: dim.to_string(),
            values: [a.to_string(), b.to_string()],
        })
    }

    /// `team = billing`: the side's label.
    pub fn label(&self, side: usize) -> String {
        format!("{} = {}", self.dimension, self.values[side])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_dimension_and_two_values() {
        let c = Comparison::parse("team = billing, tech").unwrap();
        assert_eq!(c.dimension, "team");
        assert_eq!(c.values, ["billing".to_string(), "tech".to_string()]);
        assert_eq!(c.label(1), "team = tech");
        for bad in [
            "team",
            "=a,b",
            "team=a",
            "team=a,b,c",
            "team=a,",
            "team=a,a",
        ] {
            let e = Comparison::parse(bad).unwrap_err();
            assert!(e.contains("--compare"), "{bad}: {e}");
        }
    }
}
