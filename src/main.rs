//! The `jambo-worker` binary: parses the command line, loads the configuration, starts the async
//! runtime with the configured threads, and maps the one error type of the commands to exit
//! codes (2 for bad usage, input or configuration, 1 for any other failure). Everything else
//! lives in the library.

use std::process::ExitCode;

use clap::Parser;
use jambo_worker::cli::{Cli, CliError, load_config, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match start(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            match err {
                CliError::Usage(_) | CliError::Config(_) | CliError::Setup(_) => ExitCode::from(2),
                CliError::Failed(_) => ExitCode::from(1),
            }
        }
    }
}

fn start(cli: Cli) -> Result<(), CliError> {
    let config = load_config(&cli)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker.async_threads)
        .enable_all()
        .build()
        .map_err(|err| CliError::Failed(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(run(cli, config))
}
