//! The composition root: every part of the worker is built here from [`Config`], once, and each
//! part is handed the narrow pieces it needs (no service locator). Stores, redactors, the
//! provider gate, knowledge, the triage engines, the handlers, the pipeline, the queue and the
//! background sweeps.
//!
//! Owns: which implementation plays which role (`adapters` joins layers that must not know each
//! other). Must not know: commands and their output (`cli`), evaluation (`eval`).

mod adapters;

use std::sync::Arc;

use crate::config::{Config, StateConfig};
use crate::contract::job::Family;
use crate::contract::tenant::TenantSettings;
use crate::handlers::{HandlerParts, Handlers};
use crate::knowledge::service::{Knowledge, KnowledgeError};
use crate::privacy::audit::AuditLog;
use crate::privacy::export::ChunkSource;
use crate::privacy::gate::Gate;
use crate::privacy::redact::{RedactTier, Redactor, RedactorConfig};
use crate::queue::Queue;
use crate::queue::stdio::StdioQueue;
use crate::runtime::handler::JobStoreResults;
use crate::runtime::pipeline::Pipeline;
use crate::runtime::worker::lane_of;
use crate::state::jobs::{JobStore, RedbJobStore};
use crate::state::postgres::{PgJobStore, PgSettings, PgState};
use crate::state::tenants::TenantStore;
use crate::triage::engine::{Engines, LocalEngine};

pub use self::adapters::RedactorPii;

/// Why the worker could not be built. Every variant is a setup problem: nothing was consumed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The data dir, the job store or the tenant settings cannot be opened.
    #[error("{0}")]
    Storage(String),
    /// The knowledge service cannot be built.
    #[error("{0}")]
    Knowledge(#[from] KnowledgeError),
    /// The queue cannot be reached or declared.
    #[error("{0}")]
    Queue(String),
    /// The configuration asks for something this build does not have.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// What leaves the process and what is kept about it: the audit log, the provider gate, and
/// the fast-tier redactor for PII tags on content that stays.
pub struct Privacy {
    pub audit: Arc<AuditLog>,
    pub gate: Arc<Gate>,
    pub fast_redactor: Arc<Redactor>,
}

impl Privacy {
    pub fn build(config: &Config) -> Privacy {
        let audit = Arc::new(AuditLog::new(&config.data_dir));
        let fast_redactor = Arc::new(Redactor::for_tier(&config.models_dir, RedactTier::Fast));
        // Only content sent to a provider needs the model tier; without a provider the gate
        // sends nothing, so the model is not loaded.
        let outgoing = if config.openai.base_url.is_some()
            || config.openai.api_key.is_some()
            || !config.providers.is_empty()
        {
            Arc::new(Redactor::for_tier(&config.models_dir, RedactTier::Default))
        } else {
            fast_redactor.clone()
        };
        let gate = Arc::new(Gate::with_providers(
            &config.openai,
            &config.providers,
            outgoing,
            audit.clone(),
        ));
        Privacy {
            audit,
            gate,
            fast_redactor,
        }
    }
}

/// The knowledge service the way the worker builds it: the local model, the provider through
/// the gate for the tenants that allow it, PII tags from the fast-tier redactor.
pub fn knowledge(config: &Config, privacy: &Privacy) -> Result<Arc<Knowledge>, AppError> {
    let external = Arc::new(adapters::GateEmbeddings {
        gate: privacy.gate.clone(),
        config: config.openai.clone(),
    });
    let pii = Arc::new(RedactorPii(privacy.fast_redactor.clone()));
    Ok(Arc::new(Knowledge::new(config, external, pii)?))
}

/// The triage engines: the local one (its own e-mail and phone detector for extraction, the
/// fast-tier redactor for PII tags), and the provider's on top when a chat model is configured.
pub fn engines(privacy: &Privacy, knowledge: Arc<Knowledge>) -> Engines {
    let contacts = Arc::new(Redactor::new(RedactorConfig::contact_fields()));
    let local = Arc::new(LocalEngine::new(
        knowledge,
        privacy.fast_redactor.clone(),
        contacts,
    ));
    Engines::new(local, privacy.gate.clone())
}

/// The job families this configuration consumes.
pub fn families(config: &Config) -> Vec<Family> {
    Family::ALL
        .into_iter()
        .filter(|f| *f != Family::Test || config.worker.test_jobs)
        .collect()
}

/// Opens the stores under the data dir, builds every part and the pipeline, and starts the
/// retention sweep.
pub async fn pipeline(config: &Config) -> Result<Arc<Pipeline>, AppError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|err| {
        AppError::Storage(format!("data dir {}: {err}", config.data_dir.display()))
    })?;
    let privacy = Privacy::build(config);
    let stores = stores(config).await?;
    if let Some(state) = &stores.shared {
        privacy.gate.share_usage(state.clone());
        privacy.audit.share(state.clone());
    }
    let (tenants, jobs) = (stores.tenants, stores.jobs);
    let knowledge = knowledge(config, &privacy)?;
    let handlers = Handlers::new(HandlerParts {
        tenants: tenants.clone(),
        knowledge: knowledge.clone(),
        engines: engines(&privacy, knowledge),
        results: Arc::new(JobStoreResults(jobs.clone())),
        files_root: config.knowledge_files_root.clone(),
    });
    spawn_retention(config, jobs.clone(), privacy.audit.clone());
    Ok(Arc::new(Pipeline::new(
        config.worker.clone(),
        tenants,
        jobs,
        Arc::new(handlers),
    )))
}

/// The shared state on PostgreSQL when the config names it (`[state] backend = "postgres"`),
/// connected and migrated.
pub async fn shared_state(config: &Config) -> Result<Option<PgState>, AppError> {
    let StateConfig::Postgres {
        url,
        password,
        schema,
        pool_size,
        claim_lease,
    } = &config.state
    else {
        return Ok(None);
    };
    let settings = PgSettings {
        url: url.clone(),
        password: password.as_ref().map(|p| p.expose().to_owned()),
        schema: schema.clone(),
        pool_size: *pool_size,
        claim_lease: *claim_lease,
    };
    let state = PgState::connect(&settings).await.map_err(|e| {
        AppError::Storage(format!("state.url {}: {e}", crate::config::redact_url(url)))
    })?;
    Ok(Some(state))
}

/// Results are kept for the idempotency window, never longer than the retention period.
fn idempotency_window(config: &Config) -> std::time::Duration {
    match config.privacy.retention {
        Some(retention) => config.worker.idempotency_window.min(retention),
        None => config.worker.idempotency_window,
    }
}

/// The embedded job store: results are kept for the idempotency window, never longer than the
/// retention period.
pub fn job_store(config: &Config) -> Result<Arc<dyn JobStore>, AppError> {
    let window = idempotency_window(config);
    let store = RedbJobStore::open(&config.data_dir.join("jobs.redb"), window)
        .map_err(|e| AppError::Storage(e.to_string()))?;
    Ok(Arc::new(store))
}

/// The tenant settings and the job store the config names: the fleet's, in PostgreSQL, with
/// `[state] backend = "postgres"` (one pool for both); else the tenants dir and the data dir's
/// job store.
pub struct Stores {
    pub tenants: Arc<TenantStore>,
    pub jobs: Arc<dyn JobStore>,
    /// The shared state, when the config names it.
    pub shared: Option<PgState>,
}

pub async fn stores(config: &Config) -> Result<Stores, AppError> {
    Ok(match shared_state(config).await? {
        Some(state) => Stores {
            tenants: Arc::new(TenantStore::shared(state.clone())),
            jobs: Arc::new(PgJobStore::new(state.clone(), idempotency_window(config))),
            shared: Some(state),
        },
        None => Stores {
            tenants: Arc::new(open_tenants_dir(config)?),
            jobs: job_store(config)?,
            shared: None,
        },
    })
}

fn open_tenants_dir(config: &Config) -> Result<TenantStore, AppError> {
    TenantStore::open(&config.tenants_dir).map_err(|e| AppError::Storage(e.to_string()))
}

/// The tenant settings store alone (no job store opened: a command that needs only settings
/// runs beside a worker on the same data dir).
pub async fn tenant_store(config: &Config) -> Result<TenantStore, AppError> {
    match shared_state(config).await? {
        Some(state) => Ok(TenantStore::shared(state)),
        None => open_tenants_dir(config),
    }
}

/// The settings of every tenant in `tenants`.
pub async fn all_tenants(tenants: &TenantStore) -> Result<Vec<Arc<TenantSettings>>, AppError> {
    let storage = |e: crate::state::tenants::TenantError| AppError::Storage(e.to_string());
    let mut all = Vec::new();
    for id in tenants.ids().await.map_err(storage)? {
        if let Some(settings) = tenants.lookup(&id).await.map_err(storage)? {
            all.push(settings);
        }
    }
    Ok(all)
}

/// The knowledge chunks of every store this data dir holds, for the training export.
pub async fn chunk_source(knowledge: &Knowledge) -> Result<Arc<dyn ChunkSource>, AppError> {
    let stores = knowledge.all_stores().await?;
    Ok(Arc::new(adapters::StoreChunks(stores)))
}

/// The retention sweep: removes job results older than the idempotency window (capped by
/// `privacy.retention_days`) and audit day files older than the retention period.
fn spawn_retention(config: &Config, jobs: Arc<dyn JobStore>, audit: Arc<AuditLog>) {
    let config = config.privacy.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(config.retention_sweep);
        loop {
            every.tick().await;
            match jobs.expire().await {
                Ok(removed) => tracing::info!(event = "job_store_expired", removed),
                Err(err) => tracing::warn!(event = "job_store_expiry_failed", error = %err),
            }
            if let Some(retention) = config.retention {
                match audit.expire(retention).await {
                    Ok(removed) => tracing::info!(event = "audit_expired", day_files = removed),
                    Err(err) => tracing::warn!(event = "audit_expiry_failed", error = %err),
                }
            }
        }
    });
}

/// The queue of this configuration: RabbitMQ when `amqp.url` is set, else JSONL on stdio.
pub async fn queue(config: &Config) -> Result<Arc<dyn Queue>, AppError> {
    match &config.amqp.url {
        Some(_) => connect_amqp(config).await,
        None => Ok(Arc::new(StdioQueue::stdio(
            config.data_dir.clone(),
            config.worker.max_body_bytes,
        ))),
    }
}

#[cfg(feature = "amqp")]
async fn connect_amqp(config: &Config) -> Result<Arc<dyn Queue>, AppError> {
    let lanes = families(config).into_iter().map(lane_of).collect();
    let queue = crate::queue::amqp::AmqpQueue::connect(&config.amqp, lanes)
        .await
        .map_err(|e| AppError::Queue(e.to_string()))?;
    let queue = Arc::new(queue);
    let poller = Arc::downgrade(&queue);
    let every = config.amqp.depth_poll;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            let Some(queue) = poller.upgrade() else {
                return;
            };
            for (name, depth) in queue.depths().await {
                metrics::gauge!("jambo_queue_depth", "queue" => name).set(f64::from(depth));
            }
        }
    });
    Ok(queue)
}

#[cfg(not(feature = "amqp"))]
async fn connect_amqp(_config: &Config) -> Result<Arc<dyn Queue>, AppError> {
    Err(AppError::Unsupported(
        "this build has no RabbitMQ support (feature `amqp`)",
    ))
}
