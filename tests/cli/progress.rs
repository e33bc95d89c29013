//! The progress display: drawn on stderr when it is a terminal (here a pseudo-terminal made
//! by util-linux `script`), never with `--quiet`, never when stderr is a pipe.

use std::process::Command;

use crate::util::{mt, root};

/// `why` on the bundled example under a pseudo-terminal; what the terminal showed.
fn on_a_terminal(extra: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_metrictree");
    let out = Command::new("script")
        .args([
            "-qec",
            &format!("{bin} why trees/handoff.yaml --by none {extra}"),
            "/dev/null",
        ])
        .current_dir(root())
        // Draw from the first tick, so a fast read is shown too.
        .env("METRICTREE_PROGRESS_AFTER_MS", "0")
        .env("NO_COLOR", "1")
        .output()
        .expect("util-linux `script` runs (CI installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn reads_show_progress_on_a_terminal_only() {
    let shown = on_a_terminal("");
    assert!(
        shown.contains("reading `conversations`: "),
        "no progress line on a terminal:\n{shown}"
    );
    assert!(shown.contains(" rows, "), "{shown}");
    // The line is cleared before the answer is printed.
    assert!(shown.contains("\r\x1b[2K"), "{shown:?}");
    assert!(shown.contains("Why did Handoff rate change?"), "{shown}");

    let quiet = on_a_terminal("--quiet");
    assert!(
        !quiet.contains("reading `"),
        "--quiet drew progress:\n{quiet}"
    );
    assert!(quiet.contains("Why did Handoff rate change?"), "{quiet}");

    // stderr a pipe (as in every other test): nothing but the answer's diagnostics.
    let r = mt(&["why", "trees/handoff.yaml", "--by", "none"]);
    r.ok();
    assert!(!r.stderr.contains("reading `"), "{}", r.stderr);
}
