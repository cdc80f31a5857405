//! Job handlers: one function per job type, dispatched by [`Handlers::handle`]. Handlers see a
//! validated job and its tenant's settings; they know nothing about queues, retries or
//! idempotency (the pipeline owns those), and must be idempotent themselves: a job may run again
//! after a crash, so every write they make is keyed by deterministic ids.

mod erase;
mod source;
mod tenant;
mod test_work;
mod triage;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use tokio::sync::OnceCell;

use serde_json::Value;

use crate::config::Config;
use crate::error::JobError;
use crate::event::{Event, Privacy};
use crate::job::{Job, Payload};
use crate::knowledge::service::Knowledge;
use crate::privacy::audit::AuditLog;
use crate::privacy::gate::Gate;
use crate::privacy::redact::Redactor;
use crate::queue::{Outgoing, Publisher};
use crate::store::JobStore;
use crate::tenant::{TenantSettings, TenantStore};
use crate::triage::engine::{LocalEngine, TriageEngine};
use crate::triage::openai::OpenAiEngine;

/// What a handler sees of a job.
pub struct JobContext<'a> {
    pub job: &'a Job,
    /// 1 on the first delivery, raised by each retry.
    pub attempt: u32,
    /// The tenant's settings (for `tenant.configure`, the new ones).
    pub tenant: Option<Arc<TenantSettings>>,
    /// Where progress events of a long job go.
    pub events: &'a dyn Publisher,
}

impl JobContext<'_> {
    /// The tenant's settings; a job of a tenant without settings cannot run.
    pub fn tenant_settings(&self) -> Result<Arc<TenantSettings>, JobError> {
        self.tenant
            .clone()
            .ok_or_else(|| JobError::UnknownTenant(self.job.tenant_id.clone()))
    }

    /// Publishes an event about this job that is not its result (e.g. `source.progress`). Best
    /// effort: a failure is logged, never fails the job.
    pub async fn progress(&self, event_type: &str, result: Value) {
        let event = Event {
            v: 1,
            job_id: Some(self.job.id.clone()),
            event_type: event_type.to_owned(),
            tenant_id: Some(self.job.tenant_id.clone()),
            result,
            privacy: Privacy {
                training_opt_in: self.tenant.as_ref().is_some_and(|t| t.ai.training_opt_in),
                ..Privacy::default()
            },
        };
        let outgoing = Outgoing {
            routing_key: event.event_type.clone(),
            body: event.to_bytes(),
        };
        if let Err(err) = self.events.publish(&outgoing).await {
            tracing::warn!(event = "progress_publish_failed", job_id = %self.job.id, error = %err);
        }
    }
}

/// What a handler produces: the `result` object and what it did with personal data.
pub struct Output {
    pub result: Value,
    pub privacy: Privacy,
}

impl Output {
    pub fn new(result: Value) -> Output {
        Output {
            result,
            privacy: Privacy::default(),
        }
    }
}

/// What handlers share: config, stores, and the services built on first use (loading models
/// costs seconds, and a worker that only runs some job families never pays for the others).
pub struct Services {
    config: Config,
    jobs: Arc<dyn JobStore>,
    audit: Arc<AuditLog>,
    redactor: OnceLock<Arc<Redactor>>,
    fast_redactor: OnceLock<Arc<Redactor>>,
    gate: OnceLock<Arc<Gate>>,
    knowledge: OnceCell<Arc<Knowledge>>,
    local_engine: OnceCell<Arc<LocalEngine>>,
    openai_engine: OnceCell<Arc<OpenAiEngine>>,
}

impl Services {
    pub fn new(config: &Config, jobs: Arc<dyn JobStore>) -> Services {
        Services {
            audit: Arc::new(AuditLog::new(&config.data_dir)),
            config: config.clone(),
            jobs,
            redactor: OnceLock::new(),
            fast_redactor: OnceLock::new(),
            gate: OnceLock::new(),
            knowledge: OnceCell::new(),
            local_engine: OnceCell::new(),
            openai_engine: OnceCell::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn audit(&self) -> &Arc<AuditLog> {
        &self.audit
    }

    pub fn jobs(&self) -> &Arc<dyn JobStore> {
        &self.jobs
    }

    /// The default redactor (fast tier, name lists, and the model tier where its files are):
    /// for everything that leaves the process.
    pub fn redactor(&self) -> Arc<Redactor> {
        self.redactor
            .get_or_init(|| {
                Arc::new(crate::cli::redactor(
                    &self.config,
                    crate::cli::RedactTier::Default,
                ))
            })
            .clone()
    }

    /// The fast tier with the name lists: PII tags on content that stays in the process
    /// (chunks, leads), where the model tier would cost far more than it adds.
    pub fn fast_redactor(&self) -> Arc<Redactor> {
        self.fast_redactor
            .get_or_init(|| {
                Arc::new(crate::cli::redactor(
                    &self.config,
                    crate::cli::RedactTier::Fast,
                ))
            })
            .clone()
    }

    /// The one exit to external AI providers.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate
            .get_or_init(|| {
                Arc::new(Gate::new(
                    &self.config.openai,
                    self.redactor(),
                    self.audit.clone(),
                ))
            })
            .clone()
    }

    /// The knowledge service (indexer, embedders, vector stores).
    pub async fn knowledge(&self) -> Result<Arc<Knowledge>, JobError> {
        self.knowledge
            .get_or_try_init(|| async {
                Knowledge::new(&self.config, self.gate(), self.fast_redactor())
                    .map(Arc::new)
                    .map_err(source::knowledge_error)
            })
            .await
            .cloned()
    }

    /// The local triage engine.
    pub async fn local_engine(&self) -> Result<Arc<LocalEngine>, JobError> {
        let knowledge = self.knowledge().await?;
        Ok(self
            .local_engine
            .get_or_init(
                || async move { Arc::new(LocalEngine::new(knowledge, self.fast_redactor())) },
            )
            .await
            .clone())
    }

    /// The engine for this tenant: the OpenAI-compatible one when the tenant allows external AI
    /// and a chat model is configured, else the local one.
    pub async fn triage_engine(
        &self,
        tenant: &TenantSettings,
    ) -> Result<Arc<dyn TriageEngine>, JobError> {
        let local = self.local_engine().await?;
        let gate = self.gate();
        if !gate.allows(tenant) || gate.chat_model().is_none() {
            return Ok(local);
        }
        let engine = self
            .openai_engine
            .get_or_init(|| async { Arc::new(OpenAiEngine::new(local.clone(), gate.clone())) })
            .await
            .clone();
        Ok(engine)
    }

    /// A job's `source.path`, resolved inside `knowledge.files_root`.
    fn allowed_path(&self, path: &str) -> Result<PathBuf, JobError> {
        source::resolve_inside(self.config.knowledge_files_root.as_ref(), path)
    }

    /// Erases the cached results of jobs about a source.
    async fn forget_results_of_source(
        &self,
        tenant_id: &str,
        source_id: &str,
    ) -> Result<u64, JobError> {
        self.jobs
            .erase(tenant_id, Some(&format!("source:{source_id}")))
            .await
            .map_err(|err| JobError::Storage(err.to_string()))
    }
}

/// The handlers and what they depend on.
pub struct Handlers {
    tenants: Arc<TenantStore>,
    services: Arc<Services>,
}

impl Handlers {
    pub fn new(tenants: Arc<TenantStore>, services: Arc<Services>) -> Handlers {
        Handlers { tenants, services }
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    pub async fn handle(&self, context: &JobContext<'_>) -> Result<Output, JobError> {
        match &context.job.payload {
            Payload::TenantConfigure(settings) => tenant::configure(&self.tenants, settings).await,
            Payload::TestWork(work) => test_work::run(context, work).await,
            Payload::LeadProcess(job) => triage::lead(&self.services, context, job).await,
            Payload::ReplySuggest(job) => triage::reply(&self.services, context, job).await,
            Payload::SourceReindex(job) => source::reindex(&self.services, context, job).await,
            Payload::SourceDelete(job) => source::delete(&self.services, context, job).await,
            Payload::ContactErase(job) => erase::contact(&self.services, context, job).await,
            Payload::TenantErase(_) => erase::tenant(&self.services, context).await,
        }
    }
}
