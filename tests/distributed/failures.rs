//! A cluster that fails gives a clear error naming the cluster and the source — or, where
//! Ballista recovers, the right answer — and never hangs or prints a partial number.

use std::time::{Duration, Instant};

use crate::cluster::{Cluster, TempDir, free_port, mt, root};

#[test]
fn a_scheduler_that_is_down_is_one_clear_error() {
    let url = format!("df://127.0.0.1:{}", free_port());
    let start = Instant::now();
    let r = mt(
        &["why", "trees/handoff.yaml", "--ballista", &url],
        Duration::from_secs(120),
    );
    assert_eq!(r.code, 1, "stderr:\n{}", r.stderr);
    assert!(r.stdout.is_empty(), "no partial output: {}", r.stdout);
    let want = format!("error[E051]: cannot run on the Ballista cluster at {url}");
    assert!(
        r.stderr.contains(&want),
        "stderr lacks {want:?}:\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("docs/distributed.md"), "{}", r.stderr);
    // One error for the run, not one per source.
    assert_eq!(r.stderr.matches("error[").count(), 1, "{}", r.stderr);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn an_address_that_is_not_a_scheduler_url_is_refused_with_the_form() {
    let r = mt(
        &[
            "eval",
            "trees/handoff.yaml",
            "--ballista",
            "127.0.0.1:50050",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, 2, "stderr:\n{}", r.stderr);
    assert!(r.stderr.contains("df://HOST:PORT"), "{}", r.stderr);
}

/// A copy of the bundled example in a directory the executors do not see: they run in a
/// mount namespace with an empty tmpfs over it (`unshare`), as an executor without the
/// shared volume would.
#[test]
fn a_path_the_executors_cannot_read_names_the_cluster_and_the_source() {
    let data = TempDir::new("hidden");
    for f in ["conversations.csv", "handoffs.csv", "audits.csv"] {
        std::fs::copy(root().join("examples/support").join(f), data.0.join(f)).unwrap();
    }
    let cluster = Cluster::start_hiding(2, &data.0);
    let data_dir = data.0.display().to_string();
    let r = mt(
        &[
            "eval",
            "trees/handoff.yaml",
            "--data-dir",
            &data_dir,
            "--ballista",
            &cluster.url(),
            "--timeout",
            "120",
        ],
        Duration::from_secs(180),
    );
    // A query failure (exit 2), not a tree error.
    assert_eq!(r.code, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "no partial output: {}", r.stdout);
    // Which file an executor fails on first can vary (a source's query may read several:
    // `conversations` joins `handoffs`); the message names the source whose query failed,
    // the cluster, and the file it could not find.
    let want = format!(
        "failed: on the Ballista cluster at {}: an executor cannot find `{}/",
        cluster.url(),
        data.0.canonicalize().unwrap().display()
    );
    assert!(
        r.stderr.contains(&want),
        "stderr lacks {want:?}:\n{}",
        r.stderr
    );
    let ids = ["conversations", "handoffs", "audits"];
    let source = ids
        .iter()
        .any(|id| r.stderr.contains(&format!("query on source `{id}` failed")));
    let file = ids
        .iter()
        .any(|id| r.stderr.contains(&format!("/{id}.csv`")));
    assert!(
        source && file,
        "the source and the file are named:\n{}",
        r.stderr
    );
}

/// An executor killed while a `why` over 300,000 conversations runs: the run ends within its
/// limit, either with the local engine's answer (Ballista ran the lost tasks again on the
/// other executor) or with an error naming the cluster, never with partial numbers.
#[test]
fn an_executor_killed_mid_query_gives_the_answer_or_a_clear_error() {
    let data = TempDir::new("big");
    let dir = data.0.display().to_string();
    let generated = mt(
        &[
            "demo-data",
            "--out",
            &dir,
            "--conversations",
            "300000",
            "--weeks",
            "6",
        ],
        Duration::from_secs(300),
    );
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    let args = [
        "why",
        "trees/handoff.yaml",
        "--data-dir",
        &dir,
        "--history",
        "2",
        "--format",
        "json",
    ];
    let local = mt(&args, Duration::from_secs(600));
    assert_eq!(local.code, 0, "{}", local.stderr);

    let mut cluster = Cluster::start_with(2, 6, 2);
    let url = cluster.url();
    let mut remote_args = args.to_vec();
    remote_args.extend_from_slice(&["--ballista", &url, "--timeout", "300"]);
    let owned: Vec<String> = remote_args.iter().map(|s| s.to_string()).collect();
    let runner = std::thread::spawn(move || {
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        mt(&refs, Duration::from_secs(400))
    });
    // Kill exec-2 mid-run: once the run is past its connection probe and first queries
    // (three jobs submitted) and exec-2 has run a task.
    let jobs = |c: &Cluster| {
        c.log("scheduler")
            .matches("Submitting execution graph")
            .count()
    };
    let start = Instant::now();
    while jobs(&cluster) < 3 || !cluster.log("exec-2").contains("Execute task") {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the run never reached exec-2:\n{}",
            cluster.log("scheduler")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    cluster.kill("exec-2");
    let jobs_at_kill = jobs(&cluster);
    let remote = runner.join().unwrap();
    if remote.code == 0 {
        // The run went on after the loss: the cluster ran later jobs without exec-2.
        assert!(
            jobs(&cluster) > jobs_at_kill,
            "no job after the kill ({jobs_at_kill} before): the executor was not lost mid-run"
        );
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&local.stdout).unwrap(),
            serde_json::from_str(&remote.stdout).unwrap(),
        );
        if let Err(e) = crate::parity::same_json(&a, &b, "$") {
            panic!("after losing an executor the answer differs at {e}");
        }
        eprintln!("Ballista re-ran the lost tasks; the answer is the local engine's");
    } else {
        assert_eq!(remote.code, 2, "{}", remote.stderr);
        assert!(
            remote.stdout.is_empty(),
            "partial output: {}",
            remote.stdout
        );
        assert!(
            remote
                .stderr
                .contains(&format!("on the Ballista cluster at {url}")),
            "{}",
            remote.stderr
        );
        eprintln!("losing an executor failed the run: {}", remote.stderr);
    }
}

/// Dropping a cluster leaves no node running, also when the test using it panics.
#[test]
fn the_cluster_is_torn_down_even_when_a_test_fails() {
    let pids = std::panic::catch_unwind(|| {
        let cluster = Cluster::start(2);
        let pids = cluster.pids();
        std::panic::panic_any(pids);
    })
    .unwrap_err()
    .downcast::<Vec<u32>>()
    .expect("the pids");
    assert_eq!(pids.len(), 3);
    for pid in *pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        // Gone, or at most a zombie no one waits for (never the case: Drop waits).
        assert!(
            status.is_empty() || status.contains("State:\tZ"),
            "node {pid} still runs:\n{status}"
        );
    }
}
