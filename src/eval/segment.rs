//! A segment of the population: a conjunction of `dimension = value` parts (no parts: the
//! whole population). Parts follow the order of the dimensions asked for, so one segment has
//! one spelling. A `None` value is the segment of rows where the dimension is NULL.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Segment(pub Vec<(String, Option<String>)>);

impl Segment {
    /// The whole population.
    pub fn total() -> Segment {
        Segment(Vec::new())
    }

    /// One dimension's value.
    pub fn one(dim: &str, value: Option<String>) -> Segment {
        Segment(vec![(dim.to_string(), value)])
    }

    pub fn is_total(&self) -> bool {
        self.0.is_empty()
    }

    /// How many dimensions it fixes.
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    pub fn dims(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(d, _)| d.as_str())
    }

    /// The segments one part broader (each part dropped in turn).
    pub fn parents(&self) -> Vec<Segment> {
        (0..self.0.len())
            .map(|i| {
                let mut p = self.0.clone();
                p.remove(i);
                Segment(p)
            })
            .collect()
    }

    /// `channel = chat ∧ category = billing`; a NULL value shows as `(none)`.
    pub fn label(&self) -> String {
        if self.0.is_empty() {
            return "everyone".into();
        }
        self.0
            .iter()
            .map(|(d, v)| format!("{d} = {}", v.as_deref().unwrap_or("(none)")))
            .collect::<Vec<_>>()
            .join(" ∧ ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_parents() {
        let s = Segment(vec![
            ("channel".into(), Some("chat".into())),
            ("category".into(), None),
        ]);
        assert_eq!(s.label(), "channel = chat ∧ category = (none)");
        assert_eq!(s.parents()[0], Segment::one("category", None));
        assert_eq!(s.parents()[1], Segment::one("channel", Some("chat".into())));
        assert_eq!(Segment::total().label(), "everyone");
    }
}
