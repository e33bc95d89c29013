//! What a tree may read, and what a run may spend. A tree is untrusted (it arrives through
//! pull requests); the operator's command line is trusted.
//!
//! A tree's data files must resolve inside its **root** — the git top-level that holds the
//! tree file, or else the tree file's directory — or inside a directory the operator named
//! (`--data-dir`, `--allow-path`). The check is made twice: on the path as written (before
//! the filesystem is touched, so nothing outside says whether it exists) and after every
//! symlink is resolved. Only regular files are read; directories, FIFOs, devices and sockets
//! are refused by name. Globs start inside an allowed directory, match at most
//! [`MAX_GLOB_MATCHES`] files and stop after [`GLOB_TIME_LIMIT`].
//!
//! [`Limits`] bound the query engine: a memory pool and an optional time limit per run.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// The most files one glob may match.
pub const MAX_GLOB_MATCHES: usize = 10_000;
/// How long expanding one glob may take.
pub const GLOB_TIME_LIMIT: Duration = Duration::from_secs(10);
/// The default memory pool of the query engine, in MiB.
pub const DEFAULT_MEMORY_MIB: u64 = 4096;
/// The bounds of `--memory-limit`, in MiB.
pub const MEMORY_MIB_RANGE: (u64, u64) = (64, 1 << 20);
/// The bounds of `--timeout`, in seconds.
pub const TIMEOUT_SECONDS_RANGE: (u64, u64) = (1, 7 * 24 * 3600);

/// Resources a run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The query engine's memory pool, in bytes; a query that needs more fails with a message.
    pub memory_bytes: usize,
    /// How long all queries of a run may take together.
    pub timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: (DEFAULT_MEMORY_MIB as usize) << 20,
            timeout: None,
        }
    }
}

/// What the operator allows: the trusted half of a run.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Read each data file by its name from this directory.
    pub data_dir: Option<PathBuf>,
    /// Directories a tree may read besides its root.
    pub allow_paths: Vec<PathBuf>,
    pub limits: Limits,
    /// Where CSV exports are kept as Parquet between runs (`engine::csv_cache`); on a
    /// cluster, where cleaned copies of messy exports are written for the executors.
    pub cache: Option<PathBuf>,
    /// Run file sources on this Ballista cluster instead of in this process
    /// (`engine::cluster`).
    pub cluster: Option<super::cluster::Cluster>,
}

/// Where a tree may read: its root and the operator's directories, each canonical.
#[derive(Debug, Clone)]
pub struct Reach {
    pub root: PathBuf,
    pub dirs: Vec<PathBuf>,
}

impl Reach {
    /// The reach of the tree at `tree` under `access`.
    pub fn new(tree: &Path, access: &Access) -> Reach {
        let root = tree_root(tree);
        let mut dirs = vec![root.clone()];
        for d in access.data_dir.iter().chain(&access.allow_paths) {
            dirs.push(absolute(d));
            if let Ok(c) = d.canonicalize() {
                dirs.push(c);
            }
        }
        Reach { root, dirs }
    }

    fn inside(&self, p: &Path) -> bool {
        self.dirs.iter().any(|d| p.starts_with(d))
    }

    /// Checks one file path (no glob) and returns it resolved.
    pub fn file(&self, path: &Path) -> Result<PathBuf, PathProblem> {
        let lexical = normalize(&absolute(path));
        if !self.inside(&lexical) {
            return Err(PathProblem::Outside(path.to_path_buf()));
        }
        let real = match lexical.canonicalize() {
            Ok(r) => r,
            Err(_) => return Err(PathProblem::Missing(path.to_path_buf())),
        };
        if !self.inside(&real) {
            return Err(PathProblem::Outside(path.to_path_buf()));
        }
        let meta =
            std::fs::metadata(&real).map_err(|_| PathProblem::Missing(path.to_path_buf()))?;
        let kind = kind_of(&meta);
        if kind != "a file" {
            return Err(PathProblem::NotAFile(path.to_path_buf(), kind));
        }
        Ok(real)
    }

    /// Expands a glob inside the reach: sorted, each match checked like [`Reach::file`].
    pub fn glob(&self, pattern: &Path) -> Result<Vec<PathBuf>, PathProblem> {
        let pattern = normalize(&absolute(pattern));
        // The part before the first wildcard must lie inside the reach: no walk from `/`.
        let literal: PathBuf = pattern
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
            .collect();
        if !self.inside(&literal) {
            return Err(PathProblem::Outside(pattern));
        }
        let text = pattern.to_string_lossy().to_string();
        let paths =
            glob::glob(&text).map_err(|e| PathProblem::BadPattern(pattern.clone(), e.msg))?;
        let started = Instant::now();
        let mut files = Vec::new();
        for p in paths {
            if started.elapsed() > GLOB_TIME_LIMIT {
                return Err(PathProblem::GlobTooSlow(pattern));
            }
            let Ok(p) = p else { continue };
            if !p.is_file() {
                continue;
            }
            if files.len() == MAX_GLOB_MATCHES {
                return Err(PathProblem::TooManyMatches(pattern));
            }
            files.push(self.file(&p)?);
        }
        files.sort();
        files.dedup();
        if files.is_empty() {
            return Err(PathProblem::NoMatch(pattern));
        }
        Ok(files)
    }
}

/// Why a data path is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    Outside(PathBuf),
    Missing(PathBuf),
    NotAFile(PathBuf, &'static str),
    BadPattern(PathBuf, &'static str),
    NoMatch(PathBuf),
    TooManyMatches(PathBuf),
    GlobTooSlow(PathBuf),
}

impl PathProblem {
    /// The message, naming the path (escaped) and what it is.
    pub fn message(&self, root: &Path) -> (String, String) {
        let show = |p: &Path| crate::text::escape(&p.display().to_string()).into_owned();
        match self {
            PathProblem::Outside(p) => (
                format!("`{}` lies outside the tree's reach ({})", show(p), show(root)),
                "a tree reads files inside its repository (or its own directory); to read data kept elsewhere, pass `--allow-path DIR` (or `--data-dir DIR`) on the command line".into(),
            ),
            PathProblem::Missing(p) => (
                format!("data file `{}` does not exist", show(p)),
                "paths are relative to the tree file; pass `--data-dir DIR` to read them from elsewhere".into(),
            ),
            PathProblem::NotAFile(p, kind) => (
                format!("`{}` is {kind}, not a data file", show(p)),
                "name a regular file (CSV, Parquet or JSON lines), or a glob such as `exports/*.csv`".into(),
            ),
            PathProblem::BadPattern(p, why) => (
                format!("`{}` is not a valid pattern: {why}", show(p)),
                "`*` matches any part of a name, `?` one character, `[abc]` one of a set".into(),
            ),
            PathProblem::NoMatch(p) => (
                format!("no file matches `{}`", show(p)),
                "paths and patterns are relative to the tree file; `*` matches any part of a name".into(),
            ),
            PathProblem::TooManyMatches(p) => (
                format!("`{}` matches more than {MAX_GLOB_MATCHES} files", show(p)),
                "narrow the pattern (e.g. one directory, `*.csv`), or merge the exports".into(),
            ),
            PathProblem::GlobTooSlow(p) => (
                format!("expanding `{}` took longer than {} s", show(p), GLOB_TIME_LIMIT.as_secs()),
                "narrow the pattern: avoid `**` over large directory trees".into(),
            ),
        }
    }
}

/// What a path is, in words (`a file`, `a directory`, `a FIFO (named pipe)`, ...).
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "a file";
    }
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// The tree's root: the git top-level holding the tree file, or else the tree's directory.
pub fn tree_root(tree: &Path) -> PathBuf {
    let file = tree
        .canonicalize()
        .unwrap_or_else(|_| normalize(&absolute(tree)));
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    dir.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(dir)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// `.` and `..` removed lexically (`a/b/../c` → `a/c`), never above the root.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalize(Path::new("/../../etc")), PathBuf::from("/etc"));
    }

    #[test]
    fn refuses_outside_before_touching_the_filesystem() {
        let dir = std::env::temp_dir().join(format!("mt-access-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("t")).unwrap();
        std::fs::write(dir.join("t/tree.yaml"), "").unwrap();
        std::fs::write(dir.join("t/a.csv"), "x\n").unwrap();
        let reach = Reach::new(&dir.join("t/tree.yaml"), &Access::default());
        assert!(reach.file(&dir.join("t/a.csv")).is_ok());
        assert_eq!(
            reach.file(Path::new("/etc/hostname")),
            Err(PathProblem::Outside("/etc/hostname".into()))
        );
        assert_eq!(
            reach.file(Path::new("/etc/definitely-not-here")),
            Err(PathProblem::Outside("/etc/definitely-not-here".into()))
        );
        assert!(matches!(
            reach.file(&dir.join("t")),
            Err(PathProblem::NotAFile(_, "a directory"))
        ));
        assert!(matches!(
            reach.glob(Path::new("/**/*.csv")),
            Err(PathProblem::Outside(_))
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", dir.join("t/link.csv")).unwrap();
            assert!(matches!(
                reach.file(&dir.join("t/link.csv")),
                Err(PathProblem::Outside(_))
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
