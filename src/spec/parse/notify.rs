//! Reads `notify:` (rules for `metrictree notify`) and checks owners' Slack and webhook keys.

use chrono::NaiveDate;

use super::{MapReader, SpecParser};
use crate::diag::Diagnostic;
use crate::spec::model::Located;
use crate::spec::notify::{NotifyRules, Redact, looks_like_url, target_env};
use crate::spec::yaml::{Node, Value};

const NOTIFY_KEYS: &[&str] = &[
    "min_contribution",
    "min_share",
    "digest",
    "fallback",
    "mute",
    "delegate",
    "redact",
];
const REDACT_KEYS: &[&str] = &["email", "slack", "webhook"];

impl SpecParser<'_> {
    pub(super) fn notify(&mut self, top: &MapReader) -> NotifyRules {
        let mut r = NotifyRules::default();
        let Some(node) = top.get("notify") else {
            return r;
        };
        let Some(m) = self.map(node, NOTIFY_KEYS, "`notify`") else {
            return r;
        };
        if let Some(v) = self.number(&m, "min_contribution") {
            if v < 0.0 {
                self.notify_error(&m, "min_contribution", "`min_contribution` is negative", "write the smallest contribution to the root that is worth a message, in the root's unit (e.g. 0.005 for half a point of a rate)");
            } else {
                r.min_contribution = Some(v);
            }
        }
        if let Some(v) = self.number(&m, "min_share") {
            if !(0.0..=1.0).contains(&v) {
                self.notify_error(
                    &m,
                    "min_share",
                    "`min_share` is not between 0 and 1",
                    "write a share of the root's change, e.g. 0.2 for a fifth of it",
                );
            } else {
                r.min_share = v;
            }
        }
        if let Some(n) = m.get("digest") {
            match n.value {
                Value::Bool(b) => r.digest = b,
                _ => self.wrong_kind(
                    n,
                    "`digest` in `notify`",
                    "true or false",
                    "write `digest: false` to send the root's owner nothing in quiet periods",
                ),
            }
        }
        r.fallback = self.opt_text(&m, "fallback");
        if let Some(n) = m.get("mute") {
            for (k, v) in self.notify_pairs(n, "mute") {
                match v
                    .as_text()
                    .and_then(|t| NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").ok())
                {
                    Some(d) => r.mute.push((k, d)),
                    None => self.diags.push(
                        Diagnostic::error(
                            "E046",
                            format!("`mute` for `{}` is not a date", k.value),
                        )
                        .at(self.value_pos(v))
                        .help(
                            "write the last day the owner is muted, e.g. `team_leads: 2026-12-31`",
                        ),
                    ),
                }
            }
        }
        if let Some(n) = m.get("delegate") {
            for (k, v) in self.notify_pairs(n, "delegate") {
                if let Some(t) = self.text(v, "a delegate") {
                    r.delegate.push((k, t));
                }
            }
        }
        if let Some(n) = m.get("redact")
            && let Some(rm) = self.map(n, REDACT_KEYS, "`redact` in `notify`")
        {
            let list = |p: &mut Self, k: &str| {
                rm.get(k)
                    .map(|n| p.id_list(n, &format!("`redact.{k}`")))
                    .unwrap_or_default()
            };
            r.redact = Redact {
                email: list(self, "email"),
                slack: list(self, "slack"),
                webhook: list(self, "webhook"),
            };
        }
        r
    }

    fn notify_pairs<'n>(&mut self, n: &'n Node, what: &str) -> Vec<(Located<String>, &'n Node)> {
        match &n.value {
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| (Located::new(k.name.clone(), k.pos), v))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_kind(
                    n,
                    &format!("`{what}` in `notify`"),
                    "a mapping of owner ids",
                    &format!("write one `owner_id: …` line per owner under `{what}:`"),
                );
                Vec::new()
            }
        }
    }

    fn notify_error(&mut self, m: &MapReader, key: &str, msg: &str, help: &str) {
        let pos = m.get(key).map(|n| self.value_pos(n)).unwrap_or(m.pos);
        self.diags.push(
            Diagnostic::error("E046", msg)
                .at(pos)
                .help(help.to_string()),
        );
    }

    /// An owner's `slack` or `webhook` must be a key the operator maps to a URL, never the URL.
    pub(super) fn target_key(&mut self, m: &MapReader, kind: &str, owner: &str) -> Option<String> {
        let t = self.opt_text(m, kind)?;
        if looks_like_url(&t.value) {
            self.diags.push(
                Diagnostic::error(
                    "E046",
                    format!("owner `{owner}` names a {kind} URL in the tree"),
                )
                .at(t.pos)
                // The URL is a secret: the snippet is not shown.
                .secret()
                .help(format!(
                    "a tree arrives by pull request, so it names recipients only: write a key such as `{owner}` here and let the operator set the URL in ${}",
                    target_env(kind, owner).unwrap_or_default()
                )),
            );
            return None;
        }
        if target_env(kind, &t.value).is_none() {
            self.diags.push(
                Diagnostic::error("E046", format!("`{}` is not a {kind} key", t.value))
                    .at(t.pos)
                    .help(format!(
                        "write letters, digits, `_`, `-` or `.` (at most 64), optionally after `#`, e.g. `#{owner}`; the operator's ${} holds the URL",
                        target_env(kind, owner).unwrap_or_default()
                    )),
            );
            return None;
        }
        Some(t.value)
    }
}
