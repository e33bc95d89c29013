//! The delivery ledger: an append-only file of JSON lines, one record per state change of a
//! delivery, each written whole and flushed to disk (`fsync`) before the next step.
//!
//! Why a file and not SQLite: a run appends a few dozen records, reads them once and needs
//! no queries; an append-only text file is crash-safe with one `fsync` per record (a record
//! torn by a crash is the last line, without its newline, and is dropped when the ledger is
//! next opened), can be read, diffed and kept between scheduled runs as a plain artifact, and
//! costs no C build. One run at a time holds an exclusive lock on `<ledger>.lock`.
//!
//! A delivery goes `pending` (written just before the message leaves) → `sent` or `failed`.
//! A `pending` with no `sent` after it is the at-least-once window: the server may have
//! accepted the message before the process died; the next run sends it again under the same
//! id, so the receiver can recognise the repeat.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::files::sync_dir;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    Sent,
    Failed,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Hash of the delivery's slot: kind, tree, period, baseline, owner, channel, via and
    /// target.
    pub slot: String,
    /// `report` or `delivery_failed`.
    #[serde(default = "report_kind")]
    pub kind: String,
    pub tree: String,
    pub period: String,
    pub baseline: String,
    pub owner: String,
    pub channel: String,
    /// `outbox`, `smtp` or `http`.
    pub via: String,
    /// The address, or the Slack/webhook key (never its URL).
    pub target: String,
    /// Hash of what the message shows (the report model at displayed precision).
    pub content: String,
    /// The message's stable id (from slot and content).
    pub id: String,
    pub state: State,
    /// An updated report for a slot that was sent before.
    #[serde(default)]
    pub update: bool,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the record was written (UTC, RFC 3339): the ledger is a log of events, the one
    /// file `notify` writes that is not the same bytes on every run.
    #[serde(default)]
    pub at: String,
}

fn report_kind() -> String {
    "report".into()
}

/// What the ledger knows about a slot.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SlotState {
    /// The last message sent for the slot: (content, id).
    pub sent: Option<(String, String)>,
    /// Ids written as pending and never completed (the at-least-once window).
    pub interrupted: Vec<String>,
}

pub struct Ledger {
    path: PathBuf,
    file: Option<File>,
    _lock: Option<File>,
    records: Vec<Record>,
    /// A record torn by a crash was dropped when opening.
    pub repaired: bool,
}

impl Ledger {
    /// Opens (or creates) the ledger for a run that delivers, taking its lock.
    pub fn open(path: &Path) -> Result<Ledger, String> {
        let shown = path.display();
        let lock_path = lock_path(path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open the ledger lock `{}`: {e}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another `metrictree notify` run holds the ledger `{shown}` (its lock `{}`); wait for it to finish, then run again",
                    lock_path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock the ledger `{shown}`: {e}"));
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the ledger `{shown}`: {e}"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the ledger `{shown}`: {e}"))?;
        let (records, tail) = parse(&bytes, path)?;
        let repaired = tail != Tail::Clean;
        match tail {
            Tail::Clean => {}
            // A whole record that lost only its newline: keep it.
            Tail::Unterminated => file
                .write_all(b"\n")
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot repair the ledger `{shown}`: {e}"))?,
            // A record torn by a crash was never a whole record: drop it.
            Tail::Torn(complete) => file
                .set_len(complete as u64)
                .and_then(|()| file.seek(SeekFrom::End(0)).map(|_| ()))
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot repair the ledger `{shown}`: {e}"))?,
        }
        sync_dir(path);
        Ok(Ledger {
            path: path.to_path_buf(),
            file: Some(file),
            _lock: Some(lock),
            records,
            repaired,
        })
    }

    /// Reads a ledger without changing it (for `--status` and dry runs).
    pub fn read(path: &Path) -> Result<Ledger, String> {
        let bytes = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("cannot read the ledger `{}`: {e}", path.display())),
        };
        let (records, tail) = parse(&bytes, path)?;
        Ok(Ledger {
            path: path.to_path_buf(),
            file: None,
            _lock: None,
            records,
            repaired: tail != Tail::Clean,
        })
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn slot(&self, slot: &str) -> SlotState {
        let mut s = SlotState::default();
        for r in self.records.iter().filter(|r| r.slot == slot) {
            match r.state {
                State::Sent => {
                    s.sent = Some((r.content.clone(), r.id.clone()));
                    s.interrupted.retain(|i| *i != r.id);
                }
                State::Pending => {
                    if !s.interrupted.contains(&r.id) {
                        s.interrupted.push(r.id.clone());
                    }
                }
                State::Failed => s.interrupted.retain(|i| *i != r.id),
            }
        }
        s
    }

    /// Appends a record (stamped with the time) and flushes it to disk before returning.
    pub fn append(&mut self, mut r: Record) -> Result<(), String> {
        r.at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let file = self
            .file
            .as_mut()
            .ok_or("the ledger was opened read-only")?;
        let mut line = serde_json::to_string(&r).map_err(|e| e.to_string())?;
        line.push('\n');
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot write the ledger `{}`: {e}", self.path.display()))?;
        self.records.push(r);
        Ok(())
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// How the ledger's bytes end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// With a newline after the last record.
    Clean,
    /// With a whole record but no newline after it.
    Unterminated,
    /// With part of a record, torn by a crash; the length of the bytes before it.
    Torn(usize),
}

/// The records, and how the bytes end. Only the last line may be incomplete (bytes are
/// appended in order); anything unreadable before it is an error that names the line.
fn parse(bytes: &[u8], path: &Path) -> Result<(Vec<Record>, Tail), String> {
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut records = Vec::new();
    let mut tail = Tail::Clean;
    if complete < bytes.len() {
        let last = std::str::from_utf8(&bytes[complete..])
            .ok()
            .and_then(|t| serde_json::from_str::<Record>(t).ok());
        tail = match last {
            Some(r) => {
                records.push(r);
                Tail::Unterminated
            }
            None => Tail::Torn(complete),
        };
    }
    let text = std::str::from_utf8(&bytes[..complete]).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        format!(
            "line {line} of the ledger `{}` is not UTF-8; a ledger is only appended to by metrictree: restore it from your last copy, or move it away to start a new one (everything will be sent again)",
            path.display()
        )
    })?;
    let mut whole = Vec::new();
    for (k, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(line).map_err(|e| {
            format!(
                "line {} of the ledger `{}` is not a delivery record ({}); a ledger is only appended to by metrictree: restore it from your last copy, or move it away to start a new one (everything will be sent again)",
                k + 1,
                path.display(),
                e.classify_name()
            )
        })?;
        whole.push(r);
    }
    // The unterminated record, if any, was written last.
    whole.append(&mut records);
    Ok((whole, tail))
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "a JSON value of the wrong shape",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(state: State, id: &str) -> Record {
        Record {
            slot: "s".into(),
            kind: "report".into(),
            tree: "t".into(),
            period: "2026-W46".into(),
            baseline: "2026-W45".into(),
            owner: "o".into(),
            channel: "email".into(),
            via: "smtp".into(),
            target: "a@example.com".into(),
            content: format!("c-{id}"),
            id: id.into(),
            state,
            update: false,
            attempts: 1,
            error: None,
            at: String::new(),
        }
    }

    #[test]
    fn torn_tail_is_dropped_and_lock_is_exclusive() {
        let dir = std::env::temp_dir().join(format!("mt-ledger-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ledger.jsonl");
        {
            let mut l = Ledger::open(&p).unwrap();
            l.append(rec(State::Pending, "a")).unwrap();
            l.append(rec(State::Sent, "a")).unwrap();
            l.append(rec(State::Pending, "b")).unwrap();
            assert!(Ledger::open(&p).err().unwrap().contains("another"));
        }
        // A crash in the middle of a write, inside a multi-byte character.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"slot\":\"s\",\"error\":\"\xe2\x80")
            .unwrap();
        drop(f);
        let l = Ledger::open(&p).unwrap();
        assert!(l.repaired);
        let s = l.slot("s");
        assert_eq!(s.sent, Some(("c-a".into(), "a".into())));
        assert_eq!(s.interrupted, vec!["b".to_string()]);
        drop(l);
        assert!(std::fs::read_to_string(&p).unwrap().ends_with("}\n"));
        // A whole record that lost only its newline is kept.
        let text = std::fs::read_to_string(&p).unwrap();
        let sent_b = serde_json::to_string(&rec(State::Sent, "b")).unwrap();
        std::fs::write(&p, format!("{text}{sent_b}")).unwrap();
        let l = Ledger::open(&p).unwrap();
        assert!(l.repaired);
        assert!(l.slot("s").interrupted.is_empty());
        drop(l);
        assert!(std::fs::read_to_string(&p).unwrap().ends_with("}\n"));
        // A line edited by hand is an error that names the line, not a silent resend.
        std::fs::write(&p, "{\"x\":1}\n").unwrap();
        let e = Ledger::read(&p).err().unwrap();
        assert!(e.contains("line 1"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
