//! A node's `question:` template: the concrete question its owner's report asks, with
//! placeholders the report fills from the data (`{segment}`, `{before}`, ...).
//!
//! Trees are untrusted, so this is not a template language: text and a fixed set of
//! placeholders, checked when the tree is read. The report escapes what it fills in and the
//! text around it for the format it writes.

use serde::Serialize;

/// The placeholders a question may use, and what the report puts there.
pub const PLACEHOLDERS: [(&str, Slot); 7] = [
    ("node", Slot::Node),
    ("owner", Slot::Owner),
    ("segment", Slot::Segment),
    ("before", Slot::Before),
    ("after", Slot::After),
    ("change", Slot::Change),
    ("direction", Slot::Direction),
];

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The node's label.
    Node,
    /// The owner's name.
    Owner,
    /// The segment that moved most (`chat × billing`), or "overall" when none stands out.
    Segment,
    /// The value in the baseline (of the segment when there is one).
    Before,
    /// The value in the current period (likewise).
    After,
    /// The change, signed, in the node's unit.
    Change,
    /// `rose` or `fell` (or `held`).
    Direction,
}

/// A piece of a question: literal text or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Slot(Slot),
}

/// A parsed question template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question(pub Vec<Piece>);

/// Why a template does not parse: the message and the character offset it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionError {
    pub offset: usize,
    pub message: String,
}

/// The longest question a tree may carry, in characters.
pub const MAX_LEN: usize = 500;

impl Question {
    /// Parses `text`: `{name}` is a placeholder, `{{` and `}}` are literal braces.
    pub fn parse(text: &str) -> Result<Question, QuestionError> {
        if text.chars().count() > MAX_LEN {
            return Err(QuestionError {
                offset: MAX_LEN,
                message: format!("the question is longer than {MAX_LEN} characters"),
            });
        }
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '{' if chars.get(i + 1) == Some(&'{') => {
                    lit.push('{');
                    i += 2;
                }
                '}' if chars.get(i + 1) == Some(&'}') => {
                    lit.push('}');
                    i += 2;
                }
                '{' => {
                    let Some(len) = chars[i + 1..].iter().position(|&c| c == '}') else {
                        return Err(QuestionError {
                            offset: i,
                            message: "`{` opens a placeholder that is never closed".into(),
                        });
                    };
                    let name: String = chars[i + 1..i + 1 + len].iter().collect();
                    let Some((_, slot)) = PLACEHOLDERS.iter().find(|(n, _)| *n == name) else {
                        return Err(QuestionError {
                            offset: i + 1,
                            message: format!("unknown placeholder `{{{name}}}`"),
                        });
                    };
                    if !lit.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::Slot(*slot));
                    i += len + 2;
                }
                '}' => {
                    return Err(QuestionError {
                        offset: i,
                        message: "`}` closes no placeholder".into(),
                    });
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Text(lit));
        }
        Ok(Question(pieces))
    }

    /// The default for nodes without one.
    pub fn generic() -> Question {
        Question::parse("{node} {direction} from {before} to {after} ({change}) in {segment}: what changed there this period?")
            .expect("the generic question parses")
    }

    /// The question as plain text, each placeholder replaced by `fill(slot)`; the renderer
    /// escapes the whole for its format.
    pub fn render(&self, fill: impl Fn(Slot) -> String) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Slot(s) => fill(*s),
            })
            .collect()
    }
}

/// The placeholder names, for help texts.
pub fn placeholder_names() -> String {
    PLACEHOLDERS
        .iter()
        .map(|(n, _)| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_placeholders_and_literal_braces() {
        let q = Question::parse("check {segment} {{rules}}").unwrap();
        assert_eq!(
            q.0,
            vec![
                Piece::Text("check ".into()),
                Piece::Slot(Slot::Segment),
                Piece::Text(" {rules}".into())
            ]
        );
        assert_eq!(q.render(|_| "X".into()), "check X {rules}");
    }

    #[test]
    fn refuses_unknown_and_unclosed() {
        assert_eq!(Question::parse("a {nope}").unwrap_err().offset, 3);
        assert!(Question::parse("a {segment").is_err());
        assert!(Question::parse("a } b").is_err());
        assert!(Question::parse(&"x".repeat(MAX_LEN + 1)).is_err());
    }
}
