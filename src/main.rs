//! The `metrictree` binary: parse the command line, run, print, exit.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = metrictree::cli::Cli::parse();
    match metrictree::cmd::run(cli) {
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
        Err(metrictree::error::Error::Delivery(summary)) => {
            // The run's summary is its output; the failure is said on stderr.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout
                .write_all(summary.as_bytes())
                .and_then(|_| stdout.flush());
            eprintln!(
                "error: some messages were not delivered (see above); a rerun sends only those"
            );
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("{}", e.message());
            ExitCode::from(e.exit_code())
        }
    }
}
