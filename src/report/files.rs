//! Writing output files whole or not at all — report pages, outbox messages: a temporary
//! file beside the target, flushed to disk, renamed over it, then the directory flushed, so
//! a crash leaves the old file or the new one, never half of one.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically. The error names the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(fail)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(fail)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(fail)?;
    sync_dir(path);
    Ok(())
}

/// Makes a new file's directory entry durable (best effort: not every platform allows it).
pub fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}
