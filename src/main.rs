//! The `jambo-worker` binary: parses the command line and maps errors to exit codes (2 for bad
//! usage or input, 1 for any other failure). Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use jambo_worker::cli::{Cli, CliError, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let outcome: anyhow::Result<()> = runtime.block_on(run(cli)).map_err(anyhow::Error::from);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            match err.downcast_ref::<CliError>() {
                Some(CliError::Usage(_)) | Some(CliError::Config(_)) => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}
