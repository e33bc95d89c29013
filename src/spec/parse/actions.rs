//! Reads actions (`actions:` in a tree, or an actions file beside it).

use std::path::Path;

use chrono::{Datelike, NaiveDate};

use super::{MapReader, SpecParser};
use crate::diag::Diagnostic;
use crate::spec::actions::{ActionSpec, ActionsDecl, Expect, is_beside_name};
use crate::spec::model::Located;
use crate::spec::yaml::{self, Key, Node, Value};

const ACTION_KEYS: &[&str] = &[
    "node",
    "owner",
    "start",
    "end",
    "expect",
    "size",
    "segment",
    "description",
    "link",
];
const FILE_KEYS: &[&str] = &["actions"];

/// Reads an actions file: a mapping with `actions:`, whose entries are as in a tree.
pub fn parse_actions_file(path: &Path, text: &str) -> (Vec<ActionSpec>, Vec<Diagnostic>) {
    let _ = path;
    let mut p = SpecParser {
        text,
        diags: Vec::new(),
        source_ids: Vec::new(),
    };
    let root = match yaml::parse(text) {
        Ok(n) => n,
        Err(e) => {
            p.diags.push(
                Diagnostic::error("E001", format!("YAML syntax error: {}", e.message))
                    .help("fix the YAML syntax (indentation, quotes, colons) at this place")
                    .at_opt(e.pos),
            );
            return (Vec::new(), p.diags);
        }
    };
    let Some(top) = p.map(&root, FILE_KEYS, "the actions file") else {
        return (Vec::new(), p.diags);
    };
    let list = match top.get("actions") {
        Some(n) => p.action_map(n),
        None => Vec::new(),
    };
    (list, p.diags)
}

impl SpecParser<'_> {
    /// `actions:` in a tree: a mapping of actions, or the name of a file beside the tree.
    pub(super) fn actions(&mut self, top: &MapReader) -> ActionsDecl {
        let Some(n) = top.get("actions") else {
            return ActionsDecl::None;
        };
        match &n.value {
            Value::Str(_) => {
                let t = self
                    .text(n, "`actions`")
                    .unwrap_or_else(|| Located::new(String::new(), self.value_pos(n)));
                if is_beside_name(&t.value) {
                    ActionsDecl::File(t)
                } else {
                    self.diags.push(
                        Diagnostic::error("E048", "`actions` names a file that is not beside the tree")
                            .at(t.pos)
                            .help("write the name of a YAML file in the tree's directory, e.g. `actions: handoff.actions.yaml` (no directory, no `..`); or write the actions here as a mapping"),
                    );
                    ActionsDecl::None
                }
            }
            _ => ActionsDecl::Inline(self.action_map(n)),
        }
    }

    fn action_map(&mut self, n: &Node) -> Vec<ActionSpec> {
        self.id_map(Some(n), "action")
            .into_iter()
            .filter_map(|(k, v)| self.action(k, v))
            .collect()
    }

    fn action(&mut self, key: &Key, node: &Node) -> Option<ActionSpec> {
        let ctx = format!("action `{}`", key.name);
        let m = self.map(node, ACTION_KEYS, &ctx)?;
        let target = self.required(
            &m,
            "node",
            "name the node the action should move, e.g. `node: skill_rate`",
        );
        let start = self.required(
            &m,
            "start",
            "write the day the action took effect, e.g. `start: 2026-09-28`",
        );
        let expect_node = self.required(
            &m,
            "expect",
            "write which way the node should move: `expect: down` or `expect: up`",
        );
        let node_id = target.and_then(|n| self.text(n, &format!("`node` in {ctx}")));
        let start = start.and_then(|n| self.date(n, "start", &ctx));
        let end = m.get("end").and_then(|n| self.date(n, "end", &ctx));
        let expect = expect_node.and_then(|n| {
            let t = self.text(n, &format!("`expect` in {ctx}"))?;
            match t.value.as_str() {
                "up" => Some(Expect::Up),
                "down" => Some(Expect::Down),
                _ => {
                    self.diags.push(
                        Diagnostic::error("E048", format!("`{}` is not a direction", t.value))
                            .at(t.pos)
                            .help("write `expect: down` (the node should fall) or `expect: up`"),
                    );
                    None
                }
            }
        });
        let size = self.number(&m, "size").and_then(|s| {
            if s > 0.0 {
                Some(s)
            } else {
                let pos = m.get("size").map_or(m.pos, |n| self.value_pos(n));
                self.diags.push(
                    Diagnostic::error("E048", format!("`size` in {ctx} is not above zero"))
                        .at(pos)
                        .help("write the expected size of the effect as a magnitude in the node's unit, e.g. `size: 0.02` for two points of a rate; `expect` gives the direction"),
                );
                None
            }
        });
        let mut segment = Vec::new();
        if let Some(sn) = m.get("segment") {
            match &sn.value {
                Value::Map(entries) => {
                    for (k, v) in entries {
                        if let Some(t) = self.text(v, &format!("`segment.{}` in {ctx}", k.name)) {
                            segment.push((Located::new(k.name.clone(), k.pos), t.value));
                        }
                    }
                }
                Value::Null => {}
                _ => self.wrong_kind(
                    sn,
                    &format!("`segment` in {ctx}"),
                    "a mapping of dimensions to values",
                    "write e.g. `segment: {category: integrations}`; leave it out for an action on everyone",
                ),
            }
        }
        let link = self.opt_text(&m, "link").and_then(|t| {
            let v = t.value.trim();
            let ok = (v.starts_with("https://") || v.starts_with("http://"))
                && !v.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>'
                });
            if ok {
                Some(v.to_string())
            } else {
                self.diags.push(
                    Diagnostic::error(
                        "E048",
                        format!("`link` in {ctx} is not a plain http(s) URL"),
                    )
                    .at(t.pos)
                    .help("write the ticket's or pull request's address, starting with https://"),
                );
                None
            }
        });
        let description = self.opt_text(&m, "description").map(|t| t.value);
        let owner = self.opt_text(&m, "owner");
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            let pos = m.get("end").map_or(m.pos, |n| self.value_pos(n));
            self.diags.push(
                Diagnostic::error("E048", format!("{ctx} ends before it starts"))
                    .at(pos)
                    .help("write an `end` on or after `start`, or leave `end` out for an action still in force"),
            );
        }
        Some(ActionSpec {
            id: Located::new(key.name.clone(), key.pos),
            node: node_id?,
            owner,
            start: start?,
            end,
            expect: expect?,
            size,
            segment,
            description,
            link,
            pos: key.pos,
        })
    }

    fn date(&mut self, n: &Node, key: &str, ctx: &str) -> Option<NaiveDate> {
        let t = self.text(n, &format!("`{key}` in {ctx}"))?;
        // Years outside 1900..=2999 are typing mistakes, and keep period arithmetic far from
        // the calendar's ends.
        match NaiveDate::parse_from_str(t.value.trim(), "%Y-%m-%d") {
            Ok(d) if (1900..=2999).contains(&d.year()) => Some(d),
            _ => {
                self.diags.push(
                    Diagnostic::error("E048", format!("`{key}` in {ctx} is not a date"))
                        .at(t.pos)
                        .help("write a day from 1900 to 2999 as YYYY-MM-DD, e.g. 2026-09-28"),
                );
                None
            }
        }
    }
}
