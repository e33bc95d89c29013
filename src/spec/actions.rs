//! The tree's actions: fixes a team shipped on a branch (a routing rule, a training module,
//! an escalation criterion), each with the node it should move, when it started, which way
//! and in which segment — what `metrictree impact` checks (see `docs/impact.md`).
//!
//! Actions live in the tree (`actions:` as a mapping) or in a file beside it (`actions:` as
//! that file's name), so they can be added without touching the tree. Names are resolved in
//! `graph::actions`.

use chrono::NaiveDate;

use crate::diag::Pos;
use crate::spec::model::Located;

/// Which way an action is expected to move its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Up,
    Down,
}

impl Expect {
    /// +1 for up, −1 for down.
    pub fn sign(self) -> f64 {
        match self {
            Expect::Up => 1.0,
            Expect::Down => -1.0,
        }
    }
}

/// One action as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpec {
    pub id: Located<String>,
    pub node: Located<String>,
    /// Who shipped it (the node's owner when left out).
    pub owner: Option<Located<String>>,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub expect: Expect,
    /// The expected size of the effect, in the node's unit (a magnitude).
    pub size: Option<f64>,
    /// The rows it applies to: `dimension = value` parts (none: everyone).
    pub segment: Vec<(Located<String>, String)>,
    pub description: Option<String>,
    /// A ticket or pull request (http or https).
    pub link: Option<String>,
    /// Where the action's entry starts.
    pub pos: Pos,
}

/// Where a tree's actions are.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ActionsDecl {
    #[default]
    None,
    /// Written in the tree.
    Inline(Vec<ActionSpec>),
    /// A file beside the tree (a plain file name).
    File(Located<String>),
}

/// Whether `name` is a file name beside the tree: no directory part, no `..`, a YAML
/// extension — an actions file cannot make the tree read anything else.
pub fn is_beside_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && (lower.ends_with(".yaml") || lower.ends_with(".yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_beside_the_tree() {
        assert!(is_beside_name("handoff.actions.yaml"));
        assert!(!is_beside_name("../secrets.yaml"));
        assert!(!is_beside_name("/etc/passwd"));
        assert!(!is_beside_name("sub/actions.yaml"));
        assert!(!is_beside_name(".hidden.yaml"));
        assert!(!is_beside_name("actions.txt"));
    }
}
