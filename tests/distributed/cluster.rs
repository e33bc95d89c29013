//! A real Ballista cluster for one test: a scheduler and executors, each its own
//! `metrictree-ballista` process on 127.0.0.1 with ports picked free, each writing its log to
//! a file. Dropping the [`Cluster`] kills every node and waits for it, also when the test
//! failed; nodes are started with a deadline, and a node that does not come up fails the test
//! with its log.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a node may take to start and register.
const START_LIMIT: Duration = Duration::from_secs(90);

/// One cluster at a time: the machine has two cores, and every node takes some.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// This test's turn to run a cluster (held by the [`Cluster`]).
pub fn turn() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// A port nothing listens on now (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "metrictree-dist-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Node {
    name: String,
    child: Child,
    log: PathBuf,
}

pub struct Cluster {
    pub port: u16,
    nodes: Vec<Node>,
    pub dir: TempDir,
    _turn: MutexGuard<'static, ()>,
}

fn node_binary() -> &'static str {
    env!("CARGO_BIN_EXE_metrictree-ballista")
}

/// Starts a node; with `hide`, in its own mount namespace where that directory is an empty
/// tmpfs (`unshare`, util-linux), so the node cannot see what the client sees there.
fn spawn(name: &str, args: &[String], dir: &Path, hide: Option<&Path>) -> Node {
    let log = dir.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).expect("log file");
    let mut command = match hide {
        None => Command::new(node_binary()),
        Some(h) => {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--map-root-user", "sh", "-c"])
                .arg("mount -t tmpfs none \"$0\" && exec \"$@\"")
                .arg(h)
                .arg(node_binary());
            c
        }
    };
    let child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log file"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("{name} starts: {e}"));
    Node {
        name: name.to_string(),
        child,
        log,
    }
}

impl Cluster {
    /// A scheduler and `executors` executors (`exec-1`, `exec-2`, ...), each registered.
    pub fn start(executors: usize) -> Cluster {
        Cluster::start_with(executors, 180, 60)
    }

    /// [`Cluster::start`] with the scheduler's executor timeout and the executors' heartbeat
    /// interval, in seconds (short ones let a test see a lost executor quickly).
    pub fn start_with(executors: usize, executor_timeout: u64, heartbeat: u64) -> Cluster {
        Cluster::launch(executors, executor_timeout, heartbeat, None)
    }

    /// [`Cluster::start`] with executors that do not see `dir` (see [`spawn`]).
    pub fn start_hiding(executors: usize, dir: &Path) -> Cluster {
        Cluster::launch(executors, 180, 60, Some(dir))
    }

    fn launch(
        executors: usize,
        executor_timeout: u64,
        heartbeat: u64,
        hide: Option<&Path>,
    ) -> Cluster {
        // Ports are picked once it is this test's turn: a cluster still running could take
        // them in between.
        let turn = turn();
        let port = free_port();
        let scheduler = vec![
            "scheduler".into(),
            "--port".into(),
            port.to_string(),
            "--executor-timeout".into(),
            executor_timeout.to_string(),
        ];
        let dir = TempDir::new("cluster");
        let execs = (1..=executors)
            .map(|i| {
                let name = format!("exec-{i}");
                let work = dir.0.join(&name);
                let args = vec![
                    "executor".into(),
                    "--scheduler".into(),
                    format!("127.0.0.1:{port}"),
                    "--port".into(),
                    free_port().to_string(),
                    "--grpc-port".into(),
                    free_port().to_string(),
                    "--id".into(),
                    name.clone(),
                    "--work-dir".into(),
                    work.display().to_string(),
                    "--vcores".into(),
                    "2".into(),
                    "--heartbeat".into(),
                    heartbeat.to_string(),
                ];
                (name, args)
            })
            .collect();
        Cluster::from_args(turn, dir, port, scheduler, execs, hide)
    }

    /// Starts the scheduler with `scheduler` (its arguments; it listens on `port`) and each
    /// named executor with its arguments, waiting for each to come up; `--work-dir`s are
    /// created first.
    pub fn from_args(
        turn: MutexGuard<'static, ()>,
        dir: TempDir,
        port: u16,
        scheduler: Vec<String>,
        executors: Vec<(String, Vec<String>)>,
        hide: Option<&Path>,
    ) -> Cluster {
        let mut cluster = Cluster {
            port,
            nodes: Vec::new(),
            dir,
            _turn: turn,
        };
        let node = spawn("scheduler", &scheduler, &cluster.dir.0, None);
        cluster.nodes.push(node);
        cluster.wait_for(0, "listening on");
        for (name, args) in executors {
            if let Some(w) = args.iter().position(|a| a == "--work-dir") {
                std::fs::create_dir_all(&args[w + 1]).expect("work dir");
            }
            let node = spawn(&name, &args, &cluster.dir.0, hide);
            cluster.nodes.push(node);
            let k = cluster.nodes.len() - 1;
            cluster.wait_for(k, "registration succeed");
        }
        cluster
    }

    pub fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }

    /// Waits until node `k`'s log has `needle`; fails with the log if it exits or takes
    /// longer than [`START_LIMIT`].
    fn wait_for(&mut self, k: usize, needle: &str) {
        let start = Instant::now();
        loop {
            let log = std::fs::read_to_string(&self.nodes[k].log).unwrap_or_default();
            if log.contains(needle) {
                return;
            }
            // The node itself, and the scheduler an executor waits for, must be running.
            for j in [0, k] {
                let node = &mut self.nodes[j];
                if let Ok(Some(status)) = node.child.try_wait() {
                    let log = std::fs::read_to_string(&node.log).unwrap_or_default();
                    panic!("{} exited ({status}) before `{needle}`:\n{log}", node.name);
                }
            }
            if start.elapsed() > START_LIMIT {
                let name = &self.nodes[k].name;
                panic!("{name} did not log `{needle}` within {START_LIMIT:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self, name: &str) -> String {
        let node = self.nodes.iter().find(|n| n.name == name).expect("node");
        std::fs::read_to_string(&node.log).unwrap_or_default()
    }

    /// The executors the scheduler recorded finished tasks from (its log: one line per
    /// status report, naming the executor).
    pub fn executors_that_ran_tasks(&self) -> BTreeSet<String> {
        let log = self.log("scheduler");
        let mut out = BTreeSet::new();
        for line in log.lines() {
            if let Some(rest) = line
                .split("task status update request for executor \"")
                .nth(1)
                && let Some(id) = rest.split('"').next()
            {
                out.insert(id.to_string());
            }
        }
        out
    }

    /// Kills one node (SIGKILL), as a crash would.
    pub fn kill(&mut self, name: &str) {
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.name == name)
            .expect("node");
        let _ = node.child.kill();
        let _ = node.child.wait();
    }

    /// Whether every node has exited (after [`Drop`], for the teardown test).
    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.child.id()).collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Executors first, then the scheduler; each is waited for, so no process outlives
        // the test.
        for node in self.nodes.iter_mut().rev() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}

/// What a run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `metrictree` from the project root (no colour), killed after `limit`.
pub fn mt(args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metrictree"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("metrictree starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let read_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let read_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (read_out.join().unwrap(), read_err.join().unwrap());
    let Some(status) = status else {
        panic!(
            "`metrictree {}` did not finish within {limit:?}\nstderr:\n{stderr}",
            args.join(" ")
        );
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}
