//! The tree's `notify:` rules: who is told when a branch moved, and what a message may carry.
//!
//! Only recipients live in a tree (an owner's e-mail address and the *keys* of its Slack and
//! webhook targets). Where messages go — the SMTP server, each key's URL, the domains e-mail may
//! reach — is the operator's (`delivery::settings`), because a tree arrives by pull request.

use chrono::NaiveDate;

use crate::spec::model::Located;

/// `notify:` with its documented defaults (see `docs/notify.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyRules {
    /// A branch that moved beyond noise notifies its owner when its contribution to the root is
    /// at least this (in the root's unit). `None`: the root's own noise (half its interval).
    pub min_contribution: Option<f64>,
    /// ... or at least this share of the root's change, when the root itself moved beyond noise.
    pub min_share: f64,
    /// The root's owner gets the overview every period, moved or not.
    pub digest: bool,
    /// The owner told about deliveries that failed.
    pub fallback: Option<Located<String>>,
    /// Owners not notified for periods that end on or before a date.
    pub mute: Vec<(Located<String>, NaiveDate)>,
    /// Owners whose messages go to another owner's addresses instead.
    pub delegate: Vec<(Located<String>, Located<String>)>,
    /// Dimensions whose segments are left out of what a channel delivers (personal data).
    pub redact: Redact,
}

impl Default for NotifyRules {
    fn default() -> NotifyRules {
        NotifyRules {
            min_contribution: None,
            min_share: DEFAULT_MIN_SHARE,
            digest: true,
            fallback: None,
            mute: Vec::new(),
            delegate: Vec::new(),
            redact: Redact::default(),
        }
    }
}

pub const DEFAULT_MIN_SHARE: f64 = 0.2;

/// Dimensions left out, per channel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Redact {
    pub email: Vec<Located<String>>,
    pub slack: Vec<Located<String>>,
    pub webhook: Vec<Located<String>>,
}

/// The operator's variable that holds the URL for a Slack or webhook key:
/// `#support-ops` → `METRICTREE_SLACK_SUPPORT_OPS`. `None` for a key that cannot name one.
pub fn target_env(kind: &str, key: &str) -> Option<String> {
    let k = key.trim().trim_start_matches(['#', '@']);
    if k.is_empty() || k.len() > 64 || !k.chars().all(key_char) {
        return None;
    }
    let norm: String = k
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    Some(format!("METRICTREE_{}_{norm}", kind.to_ascii_uppercase()))
}

fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// An e-mail address good enough to hand to a server: one `@`, a dotted domain (or
/// `localhost`), ASCII without spaces, controls, brackets, commas or quotes (so it cannot
/// smuggle a second recipient or a header).
pub fn is_address(a: &str) -> bool {
    let mut parts = a.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let dotted = domain.contains('.') || domain == "localhost";
    !local.is_empty()
        && dotted
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c))
}

/// Whether an owner's `slack`/`webhook` value is an address rather than a key.
pub fn looks_like_url(v: &str) -> bool {
    let l = v.trim().to_ascii_lowercase();
    l.contains("://") || l.starts_with("www.") || l.starts_with("hooks.") || l.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_variables() {
        assert_eq!(
            target_env("slack", "#support-ops").as_deref(),
            Some("METRICTREE_SLACK_SUPPORT_OPS")
        );
        assert_eq!(
            target_env("webhook", "ops.hook_2").as_deref(),
            Some("METRICTREE_WEBHOOK_OPS_HOOK_2")
        );
        assert_eq!(target_env("slack", "#"), None);
        assert_eq!(target_env("slack", "a b"), None);
        assert!(looks_like_url("https://hooks.slack.com/services/T/B/x"));
        assert!(looks_like_url("hooks.example.com/x"));
        assert!(!looks_like_url("#support-ops"));
        assert!(is_address("support-ops@example.com"));
        assert!(!is_address("a@example.com, boss@evil.com"));
        assert!(!is_address("a@example.com\r\nBcc: x@evil.com"));
        assert!(!is_address("ü@example.com"));
        assert!(!is_address("a@b@example.com"));
    }
}
