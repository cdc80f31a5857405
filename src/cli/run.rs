//! `run`: the worker. Consumes jobs until SIGTERM/SIGINT, then drains and exits 0.

use tokio_util::sync::CancellationToken;

use super::CliError;
use crate::config::Config;
use crate::runtime::worker::{Stopped, Worker};

pub async fn run(config: Config) -> Result<(), CliError> {
    let metrics = crate::runtime::ops::init_metrics();
    let pipeline = crate::app::pipeline(&config).await?;
    let queue = crate::app::queue(&config).await?;
    let stop = CancellationToken::new();
    if let Some(addr) = config.http_listen {
        let queue = queue.clone();
        let stop = stop.clone();
        let listener =
            crate::runtime::ops::serve(addr, metrics, queue, async move { stop.cancelled().await });
        tokio::spawn(async move {
            if let Err(err) = listener.await {
                tracing::error!(event = "ops_http_failed", error = %err);
            }
        });
    }
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
