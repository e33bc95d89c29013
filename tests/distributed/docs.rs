//! docs/distributed.md works as written: its cluster block starts the cluster (the same
//! `metrictree-ballista` commands, with free ports and temporary directories), and its worked
//! example runs on that cluster (20,000 conversations instead of 10 million) and answers as
//! the local engine does. The default test suite skips these blocks (their `not run` note
//! names this file).

use std::time::Duration;

use crate::cluster::{Cluster, TempDir, free_port, mt, root};

const MARK: &str = "tests/distributed/docs.rs runs this block";

/// The shell lines of the `sh` blocks marked for this test, block by block, as words.
fn marked_blocks() -> Vec<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(root().join("docs/distributed.md")).unwrap();
    let mut out = Vec::new();
    let mut prev = "";
    let mut block: Option<Vec<Vec<String>>> = None;
    for line in text.lines() {
        if line.starts_with("```") {
            match block.take() {
                Some(b) => out.push(b),
                None if prev.contains(MARK) && line == "```sh" => block = Some(Vec::new()),
                None => {}
            }
        } else if let Some(b) = &mut block {
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if !words.is_empty() {
                b.push(words);
            }
        }
        if !line.trim().is_empty() {
            prev = line;
        }
    }
    out
}

#[test]
fn the_documented_cluster_and_worked_example_run() {
    let blocks = marked_blocks();
    assert_eq!(blocks.len(), 2, "the cluster block and the worked example");
    let tmp = TempDir::new("docs");
    let path = |w: &str| match w.strip_prefix("/tmp/") {
        Some(rest) => tmp.0.join(rest).display().to_string(),
        None => w.to_string(),
    };

    // The cluster, from its documented lines (ports picked once it is this test's turn).
    let turn = crate::cluster::turn();
    let port = free_port();
    let documented_port = "50050";
    let mut scheduler = None;
    let mut executors = Vec::new();
    for words in &blocks[0] {
        assert_eq!(
            words[0], "./target/release/metrictree-ballista",
            "{words:?}"
        );
        let mut args = Vec::new();
        let mut it = words[1..].iter().filter(|w| *w != "&").peekable();
        while let Some(w) = it.next() {
            args.push(path(w));
            if matches!(w.as_str(), "--port" | "--grpc-port") {
                let n = it.next().expect("a port");
                let p = if n == documented_port {
                    port
                } else {
                    free_port()
                };
                args.push(p.to_string());
            } else if w == "--scheduler" {
                let a = it.next().expect("HOST:PORT");
                args.push(a.replace(documented_port, &port.to_string()));
            }
        }
        match args[0].as_str() {
            "scheduler" => scheduler = Some(args),
            "executor" => {
                let id = args
                    .iter()
                    .position(|a| a == "--id")
                    .map(|i| args[i + 1].clone())
                    .expect("an --id");
                executors.push((id, args));
            }
            other => panic!("unknown node `{other}`"),
        }
    }
    assert_eq!(executors.len(), 2);
    let cluster = Cluster::from_args(
        turn,
        TempDir::new("docs-cluster"),
        port,
        scheduler.expect("a scheduler line"),
        executors,
        None,
    );

    // The worked example on it, each command also run locally.
    let mut ran = 0;
    for words in &blocks[1] {
        assert_eq!(words[0], "./target/release/metrictree", "{words:?}");
        let mut args: Vec<String> = Vec::new();
        for w in &words[1..] {
            if args.last().is_some_and(|a| a == "--conversations") {
                args.push("20000".into());
            } else if w.starts_with("df://") {
                assert_eq!(w, &format!("df://127.0.0.1:{documented_port}"));
                args.push(cluster.url());
            } else {
                args.push(path(w));
            }
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = mt(&refs, Duration::from_secs(600));
        assert_eq!(r.code, 0, "`metrictree {}`:\n{}", args.join(" "), r.stderr);
        if let Some(i) = refs.iter().position(|a| *a == "--ballista") {
            let mut local = refs.clone();
            local.drain(i..i + 2);
            let l = mt(&local, Duration::from_secs(600));
            assert_eq!(l.stdout, r.stdout, "`metrictree {}`", args.join(" "));
        }
        ran += 1;
    }
    assert_eq!(ran, 3);
}
