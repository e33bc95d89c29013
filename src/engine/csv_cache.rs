//! The CSV cache (`--cache DIR` or `METRICTREE_CACHE`): each CSV export read as Parquet after
//! its first run, so a weekly rerun over months of exports does not parse them again.
//!
//! A CSV file source read as it is (not through the cleaner) is written once, as parsed (the
//! same schema), to `DIR/<path>-<version>.parquet`, and read from there while the file is
//! unchanged. The entry's name holds a hash of the file's canonical path and one of what
//! identifies its version: size, modification time, inode, the delimiter, the header flag
//! and this program's version; an export that changes gets a new entry and the old one is
//! removed. The cache holds parsed data only: diagnostics that name a CSV line (bad weights)
//! still read the CSV, and a file the engine cannot parse is not cached (the run reports it
//! as without the cache). The directory is the operator's choice, never the tree's.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The cache directory of this run: `--cache DIR`, else `METRICTREE_CACHE`; none by default.
pub fn dir(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("METRICTREE_CACHE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where `file`'s Parquet copy lives for its current version, and the prefix every version
/// of it shares; `None` if the file cannot be examined.
pub fn entry(
    dir: &Path,
    file: &Path,
    delimiter: u8,
    has_header: bool,
) -> Option<(PathBuf, String)> {
    let canonical = file.canonicalize().ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0u64;
    let path_hash = hex(&Sha256::digest(canonical.to_string_lossy().as_bytes())[..12]);
    let version = format!(
        "{}|{modified}|{inode}|{delimiter}|{has_header}|{}",
        meta.len(),
        env!("CARGO_PKG_VERSION")
    );
    let version_hash = hex(&Sha256::digest(version.as_bytes())[..12]);
    Some((
        dir.join(format!("{path_hash}-{version_hash}.parquet")),
        format!("{path_hash}-"),
    ))
}

/// Removes the entries of earlier versions of a file (same prefix, another name).
pub fn remove_stale(dir: &Path, prefix: &str, keep: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for e in read.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(prefix) && name.ends_with(".parquet") && p != keep {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A temporary name beside `target`, unique to this process and call.
pub fn temporary(target: &Path) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    target.with_extension(format!(
        "tmp-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ))
}
