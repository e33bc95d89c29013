//! The outbox: each message as a file — `.eml` for e-mail (the exact bytes an SMTP server
//! would receive), `.json` for Slack and webhook payloads — named from its key and written
//! whole or not at all (a temporary file, `fsync`, rename, `fsync` of the directory).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::ledger::sync_dir;
use super::message::{Channel, Message};

/// The file name of a message: period, owner, channel, target and the start of its id.
pub fn file_name(m: &Message, id: &str) -> String {
    let ext = match m.channel {
        Channel::Email => "eml",
        Channel::Slack | Channel::Webhook => "json",
    };
    format!(
        "{}-{}-{}-{}-{}.{ext}",
        slug(&m.period),
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

/// Writes `bytes` to `dir/name` atomically; returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the outbox `{}`: {e}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(fail)?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(fail)?;
    sync_dir(&path);
    Ok(path)
}
