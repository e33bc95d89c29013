//! Test helpers: run the binary, make temporary trees, build graphs from YAML text.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the metrictree binary from the project root, without colour.
pub fn mt(args: &[&str]) -> Run {
    mt_env(args, &[])
}

/// [`mt`] with extra environment variables.
pub fn mt_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_metrictree"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh temporary directory (removed when dropped).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "metrictree-test-{}-{}-{}",
            std::process::id(),
            name,
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write fixture");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A graph from YAML text (no data is read).
pub fn graph(yaml: &str) -> metrictree::graph::MetricGraph {
    let (spec, diags) = metrictree::spec::parse(Path::new("test.yaml"), yaml);
    let spec = spec.unwrap_or_else(|| panic!("spec: {diags:?}"));
    let (g, diags) = metrictree::graph::build(spec);
    g.unwrap_or_else(|| panic!("graph: {diags:?}"))
}

/// The shared reference cases, read from `../shared/reference` (CI has it beside the repo).
pub fn reference() -> serde_json::Value {
    let p = root().join("../shared/reference/attribution-cases.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "the reference cases are needed at {} ({e}); CI places ../shared beside the repository",
            p.display()
        )
    });
    serde_json::from_str(&text).expect("reference JSON")
}

/// |got − want| ≤ tol·max(1, |want|)
#[track_caller]
pub fn close(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "got {got}, want {want} (tol {tol})"
    );
}

/// A number in JSON output (panics with the value when it is not one).
#[track_caller]
pub fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("number expected: {v}"))
}

/// Σ `contribution` over a JSON list (a node's `inputs`, a dimension's `segments`).
#[track_caller]
pub fn contributions(list: &serde_json::Value) -> f64 {
    list.as_array()
        .unwrap_or_else(|| panic!("list expected: {list}"))
        .iter()
        .map(|x| num(&x["contribution"]))
        .sum()
}

/// The entry with `"id": id` in a JSON output's `nodes` list.
#[track_caller]
pub fn node<'a>(j: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    j["nodes"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["id"] == id))
        .unwrap_or_else(|| panic!("no node `{id}` in the output"))
}
