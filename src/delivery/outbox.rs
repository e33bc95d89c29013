//! The outbox: each message as a file — `.eml` for e-mail (the exact bytes an SMTP server
//! would receive), `.json` for Slack and webhook payloads — named from its key and written
//! whole or not at all (`report::files`).

use std::path::{Path, PathBuf};

use super::message::{Channel, Message};
use crate::report::files::write_atomic;

/// The file name of a message: period, owner, channel, target and the start of its id.
pub fn file_name(m: &Message, id: &str) -> String {
    let ext = match m.channel {
        Channel::Email => "eml",
        Channel::Slack | Channel::Webhook => "json",
    };
    format!(
        "{}-{}-{}-{}-{}.{ext}",
        slug(m.period()),
        slug(&m.owner),
        m.channel.name(),
        slug(&m.target),
        &id[..12.min(id.len())]
    )
}

fn slug(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    t.trim_start_matches('.').to_string()
}

/// Writes `bytes` to `dir/name` whole or not at all; returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the outbox `{}`: {e}", dir.display()))?;
    let path = dir.join(name);
    write_atomic(&path, bytes)?;
    Ok(path)
}
