//! Operations: logging setup (text or JSON), the Prometheus recorder, and the small HTTP endpoint
//! with `/healthz` (the process is alive), `/readyz` (set up, broker connected and store open;
//! while the worker's own setup is unusable, 503 with the reason) and `/metrics` (Prometheus
//! text format).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::queue::{Health, Queue};

/// Buckets for `*_seconds` histograms: 1 ms to 5 minutes.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0,
];

/// Starts logging to stderr. Logs never carry message bodies or personal data: events log ids,
/// types, counts and error kinds only.
pub fn init_logging(json: bool, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Third-party crates that may log request or response bodies (async-openai logs a provider's
    // error body, which can echo the prompt) are capped at `error` whatever the filter says;
    // HTTP clients log URLs and headers at debug/trace.
    let filter = [
        "async_openai=error",
        "reqwest=warn",
        "hyper=warn",
        "spider=warn",
    ]
    .into_iter()
    .filter_map(|d| d.parse().ok())
    .fold(filter, tracing_subscriber::EnvFilter::add_directive);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Installs the global metrics recorder and returns the handle that renders it.
pub fn init_metrics() -> Option<PrometheusHandle> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
        .ok()?
        .install_recorder()
        .ok()
}

/// What `/readyz` reports: the worker is still being set up (or its setup is unusable, with the
/// reason), or it runs on this queue.
#[derive(Default)]
pub struct Readiness {
    queue: std::sync::RwLock<Option<Arc<dyn Queue>>>,
    unready: std::sync::RwLock<Option<String>>,
}

impl Readiness {
    /// The setup failed for this reason (and is retried).
    pub fn unready(&self, reason: &str) {
        *self.unready.write().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_owned());
    }

    /// Set up: from now on the queue's health decides.
    pub fn running(&self, queue: Arc<dyn Queue>) {
        *self.queue.write().unwrap_or_else(|e| e.into_inner()) = Some(queue);
        *self.unready.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[derive(Clone)]
struct OpsState {
    metrics: Option<PrometheusHandle>,
    readiness: Arc<Readiness>,
}

/// Serves the ops endpoint until `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    metrics: Option<PrometheusHandle>,
    readiness: Arc<Readiness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(OpsState { metrics, readiness });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(event = "ops_listening", addr = %addr);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn readyz(State(state): State<OpsState>) -> (StatusCode, String) {
    let queue = state
        .readiness
        .queue
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(queue) = queue else {
        let reason = state
            .readiness
            .unready
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            match reason {
                Some(reason) => format!("not ready: setup failed (retrying): {reason}\n"),
                None => "not ready: starting\n".into(),
            },
        );
    };
    match queue.health() {
        Health::Connected => (
            StatusCode::OK,
            "ready: queue connected, store open\n".into(),
        ),
        Health::Connecting => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: queue connecting\n".into(),
        ),
        Health::Closed => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: queue closed\n".into(),
        ),
    }
}

async fn render_metrics(State(state): State<OpsState>) -> (StatusCode, String) {
    match &state.metrics {
        Some(handle) => (StatusCode::OK, handle.render()),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed\n".into(),
        ),
    }
}
