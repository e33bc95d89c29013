//! `metrictree-ballista`: one node of an Apache DataFusion Ballista cluster — a scheduler or
//! an executor — built from the `ballista-scheduler` and `ballista-executor` library crates on
//! the project's own DataFusion build (`--features distributed`).
//!
//! The nodes are stock Ballista: nothing of metrictree is registered in them (no function, no
//! codec). Two limits are lifted, because a tree's plans nest deeply: threads get 64 MiB
//! stacks, and protobuf decoding has no recursion limit (prost's `no-recursion-limit`, a
//! feature of this build). It also needs no second DataFusion build. See docs/distributed.md.
//!
//! Logs go to stderr, one line each: `LEVEL target: message`. The scheduler also logs which
//! executor reported each finished task (what the tests read to see that both ran work).

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "metrictree-ballista",
    version,
    about = "A Ballista scheduler or executor (stock Ballista 55, on metrictree's DataFusion)"
)]
struct Cli {
    #[command(subcommand)]
    node: Node,
}

#[derive(Subcommand)]
enum Node {
    /// Runs a scheduler: clients connect to `df://HOST:PORT`, executors register there.
    Scheduler {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The port for clients and executors (gRPC).
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Seconds without a heartbeat after which an executor counts as lost and its tasks
        /// run elsewhere (Ballista's default is 180).
        #[arg(long, default_value_t = 180)]
        executor_timeout: u64,
    },
    /// Runs an executor that registers with a scheduler and runs its tasks.
    Executor {
        /// The scheduler, as HOST:PORT.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: String,
        /// The address to listen on (and to advertise to the scheduler).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The Arrow Flight port (clients and other executors fetch results here).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// The gRPC port (the scheduler pushes tasks here).
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// The executor's name in the scheduler's logs and job API.
        #[arg(long)]
        id: Option<String>,
        /// Where shuffle files are written (a fresh temporary directory if not given).
        #[arg(long)]
        work_dir: Option<String>,
        /// Tasks run at once (default: the machine's cores).
        #[arg(long)]
        vcores: Option<usize>,
        /// Seconds between heartbeats to the scheduler (Ballista's default is 60).
        #[arg(long, default_value_t = 60)]
        heartbeat: u64,
    },
}

/// Lines on stderr: info and above, and the scheduler's record of who finished each task.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
            || m.target()
                .starts_with("ballista_scheduler::scheduler_server::grpc")
                && m.level() <= log::Level::Debug
    }

    fn log(&self, r: &log::Record) {
        // Of the scheduler's debug lines, only who finished tasks (others print whole plans).
        let wanted = r.level() <= log::Level::Info
            || r.args()
                .as_str()
                .map_or_else(|| r.args().to_string(), str::to_string)
                .starts_with("Received task status update");
        if self.enabled(r.metadata()) && wanted {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{} {}: {}",
                r.level(),
                r.target(),
                r.args()
            );
        }
    }

    fn flush(&self) {}
}

/// The stack every thread of a node gets: decoding and planning a tree's statements
/// recurses once per nesting level of their expressions (long sums of ψ terms, many periods),
/// beyond the 2 MiB Rust gives a thread by default. Threads Ballista spawns itself take the
/// size from `RUST_MIN_STACK`, which the standard library reads once: so the node sets it by
/// replacing itself with the same command and the variable set.
const STACK_BYTES: &str = "67108864";

fn main() -> std::process::ExitCode {
    if std::env::var_os("RUST_MIN_STACK").is_none()
        && let Ok(me) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt as _;
        let e = std::process::Command::new(me)
            .args(std::env::args_os().skip(1))
            .env("RUST_MIN_STACK", STACK_BYTES)
            .exec();
        eprintln!("error: cannot restart with a larger stack: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    static LOG: StderrLog = StderrLog;
    let _ = log::set_logger(&LOG).map(|()| log::set_max_level(log::LevelFilter::Debug));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.node {
            Node::Scheduler {
                bind,
                port,
                executor_timeout,
            } => scheduler(bind, port, executor_timeout).await,
            Node::Executor {
                scheduler,
                bind,
                port,
                grpc_port,
                id,
                work_dir,
                vcores,
                heartbeat,
            } => {
                let (host, sport) = scheduler
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                    .ok_or_else(|| format!("--scheduler `{scheduler}` is not HOST:PORT"))?;
                let defaults =
                    ballista_executor::executor_process::ExecutorProcessConfig::default();
                let config = ballista_executor::executor_process::ExecutorProcessConfig {
                    executor_id: id.unwrap_or(defaults.executor_id.clone()),
                    bind_host: bind.clone(),
                    external_host: Some(bind),
                    port,
                    grpc_port,
                    scheduler_host: host,
                    scheduler_port: sport,
                    scheduler_connect_timeout_seconds: 30,
                    vcores: vcores.unwrap_or(defaults.vcores),
                    work_dir,
                    executor_heartbeat_interval_seconds: heartbeat,
                    ..defaults
                };
                ballista_executor::executor_process::start_executor_process(Arc::new(config))
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn scheduler(bind: String, port: u16, executor_timeout: u64) -> Result<(), String> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
    let addr: SocketAddr = format!("{bind}:{port}")
        .parse()
        .map_err(|e| format!("--bind/--port: {e}"))?;
    let mut config = SchedulerConfig::default()
        .with_hostname(bind.clone())
        .with_port(port)
        // Tasks spread over the executors one at a time, not packed onto the first.
        .with_task_distribution(TaskDistributionPolicy::RoundRobin);
    config.bind_host = bind;
    config.executor_timeout_seconds = executor_timeout.max(2);
    config.expire_dead_executor_interval_seconds = (executor_timeout / 4).clamp(1, 15);
    config.no_executors_grace_period_seconds = config.executor_timeout_seconds;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    ballista_scheduler::scheduler_process::start_server(cluster, addr, Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}
