//! The `metrictree` binary: parse the command line, run, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;

fn main() -> ExitCode {
    let cli = metrictree::cli::Cli::parse();
    let progress = Progress::start(!cli.quiet && std::io::stderr().is_terminal());
    let result = metrictree::cmd::run(cli);
    drop(progress);
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                // A closed pipe (`metrictree why ... | head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write output: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Err(e) => {
            if let Some(out) = e.output() {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout
                    .write_all(out.as_bytes())
                    .and_then(|_| stdout.flush());
            }
            eprintln!("{}", e.message());
            ExitCode::from(e.exit_code())
        }
    }
}

/// The progress display: a line on stderr, redrawn ten times a second, naming the source
/// being read, its rows so far and the time taken, once a read has taken a second
/// (`METRICTREE_PROGRESS_AFTER_MS` changes the wait, for tests). Cleared when the read ends
/// and before anything else is printed.
struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(enabled: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let after = std::env::var("METRICTREE_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(Duration::from_secs(1), Duration::from_millis);
        let thread = enabled.then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut drawn = false;
                let clear = "\r\x1b[2K";
                while !stop.load(Ordering::Relaxed) {
                    match metrictree::engine::progress::now() {
                        Some((source, took, rows)) if took >= after => {
                            eprint!(
                                "{clear}reading `{}`: {rows} rows, {:.1} s",
                                metrictree::text::escape(&source),
                                took.as_secs_f64()
                            );
                            drawn = true;
                        }
                        Some(_) => {}
                        None if drawn => {
                            eprint!("{clear}");
                            drawn = false;
                        }
                        None => {}
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                if drawn {
                    eprint!("{clear}");
                }
            })
        });
        Progress { stop, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
