//! `run`: the worker. Consumes jobs until SIGTERM/SIGINT, then drains and exits 0. An unusable
//! setup exits 2, or with `--http` keeps `/readyz` at 503 with the reason and retries.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::CliError;
use crate::config::Config;
use crate::queue::Queue;
use crate::runtime::ops::Readiness;
use crate::runtime::pipeline::Pipeline;
use crate::runtime::worker::{Stopped, Worker};

pub async fn run(config: Config) -> Result<(), CliError> {
    let metrics = crate::runtime::ops::init_metrics();
    let stop = CancellationToken::new();
    let readiness = Arc::new(Readiness::default());
    if let Some(addr) = config.http_listen {
        let stop = stop.clone();
        let listener = crate::runtime::ops::serve(addr, metrics, readiness.clone(), async move {
            stop.cancelled().await
        });
        tokio::spawn(async move {
            if let Err(err) = listener.await {
                tracing::error!(event = "ops_http_failed", error = %err);
            }
        });
    }
    let (pipeline, queue) = match set_up(&config, &readiness).await {
        Ok(parts) => parts,
        Err(err) => {
            stop.cancel();
            return Err(err);
        }
    };
    readiness.running(queue.clone());
    tracing::info!(event = "worker_started", families = ?crate::app::families(&config), data_dir = %config.data_dir.display());
    let worker = Worker::new(
        queue,
        pipeline,
        &config.worker.concurrency,
        config.worker.drain_timeout,
    );
    let stopped = worker.run(shutdown_signal()).await;
    stop.cancel();
    tracing::info!(event = "worker_stopped", outcome = ?stopped);
    match stopped {
        Stopped::InputEnded | Stopped::Drained | Stopped::Requeued(_) => Ok(()),
    }
}

/// The pipeline and the queue. Without `--http` an unusable setup (state database, job store,
/// knowledge, queue) ends `run` at once (exit 2 with the reason); with it the worker stays up,
/// `/readyz` answers 503 with the reason, and the setup is tried again with backoff (2 s doubling
/// to 60 s) until it works or a signal ends the process. Nothing is consumed before it works.
async fn set_up(
    config: &Config,
    readiness: &Readiness,
) -> Result<(Arc<Pipeline>, Arc<dyn Queue>), CliError> {
    let mut wait = Duration::from_secs(2);
    // what was built stays built: a job store opened once is not opened again
    let mut pipeline: Option<Arc<Pipeline>> = None;
    loop {
        let attempt = async {
            if pipeline.is_none() {
                pipeline = Some(crate::app::pipeline(config).await?);
            }
            crate::app::queue(config).await
        };
        let error = match attempt.await {
            Ok(queue) => {
                if let Some(pipeline) = pipeline {
                    return Ok((pipeline, queue));
                }
                continue;
            }
            Err(err) => err,
        };
        if config.http_listen.is_none() {
            return Err(error.into());
        }
        let reason = error.to_string();
        tracing::error!(event = "setup_unusable", error = %reason, retry_in_s = wait.as_secs());
        readiness.unready(&reason);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown_signal() => return Err(error.into()),
        }
        wait = (wait * 2).min(Duration::from_secs(60));
    }
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
