//! What a report was computed from, so a reader can tell whether two reports saw the same
//! data: each data file's size and SHA-256, and the git commit of the repository holding
//! the tree. Only files the engine already opened for the tree are read; nothing from them
//! is quoted.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Engine;

/// One data file as read.
#[derive(Debug, Clone)]
pub struct FileFingerprint {
    /// The source it belongs to.
    pub source: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// The SHA-256 of a file, in hex, and its size.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((n, hex(&h.finalize())))
}

/// The SHA-256 of bytes, in hex.
pub fn hash_bytes(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every data file the engine registered for the tree's sources, in source order.
pub fn files(engine: &Engine, source_ids: &[String]) -> Vec<FileFingerprint> {
    engine
        .info
        .iter()
        .zip(source_ids)
        .filter_map(|(info, id)| {
            let file = info.as_ref()?.file.as_ref()?;
            let (bytes, sha256) = hash_file(file).ok()?;
            Some(FileFingerprint {
                source: id.clone(),
                path: file.clone(),
                bytes,
                sha256,
            })
        })
        .collect()
}

/// The commit checked out in the git repository holding `tree` (read from `.git`, without
/// running git); `None` outside a repository or when it cannot be read.
pub fn git_commit(tree: &Path) -> Option<String> {
    let root = super::access::tree_root(tree);
    let mut git = root.join(".git");
    if git.is_file() {
        // A worktree or submodule: `gitdir: <path>`.
        let t = std::fs::read_to_string(&git).ok()?;
        let dir = t.strip_prefix("gitdir:")?.trim();
        git = root.join(dir);
    }
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let is_sha = |s: &str| s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit());
    let Some(r) = head.strip_prefix("ref:").map(str::trim) else {
        return is_sha(head).then(|| head.to_string());
    };
    if r.contains("..") {
        return None;
    }
    // A worktree keeps its refs in the common directory.
    let common = std::fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.clone());
    for dir in [&git, &common] {
        if let Ok(s) = std::fs::read_to_string(dir.join(r)) {
            let s = s.trim();
            if is_sha(s) {
                return Some(s.to_string());
            }
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, name) = l.split_once(' ')?;
        (name == r && is_sha(sha)).then(|| sha.to_string())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_match_a_known_digest() {
        assert_eq!(
            super::hash_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
