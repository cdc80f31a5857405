//! Job handlers: one function per job type, dispatched by [`Handlers::handle`]. Handlers see a
//! validated job and its tenant's settings; they know nothing about queues, retries or
//! idempotency (the pipeline owns those), and must be idempotent themselves: a job may run again
//! after a crash, so every write they make is keyed by deterministic ids.

mod tenant;
mod test_work;

use std::sync::Arc;

use serde_json::Value;

use crate::error::JobError;
use crate::event::{Event, Privacy};
use crate::job::{Job, Payload};
use crate::queue::{Outgoing, Publisher};
use crate::tenant::{TenantSettings, TenantStore};

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

/// The handlers and what they depend on.
pub struct Handlers {
    tenants: Arc<TenantStore>,
}

impl Handlers {
    pub fn new(tenants: Arc<TenantStore>) -> Handlers {
        Handlers { tenants }
    }

    pub async fn handle(&self, context: &JobContext<'_>) -> Result<Output, JobError> {
        match &context.job.payload {
            Payload::TenantConfigure(settings) => tenant::configure(&self.tenants, settings).await,
            Payload::TestWork(work) => test_work::run(context, work).await,
            Payload::LeadProcess(_) => Err(JobError::NotImplemented("lead.process (triage)")),
            Payload::ReplySuggest(_) => Err(JobError::NotImplemented("reply.suggest (triage)")),
            Payload::SourceReindex(_) => {
                Err(JobError::NotImplemented("source.reindex (knowledge)"))
            }
            Payload::SourceDelete(_) => Err(JobError::NotImplemented("source.delete (knowledge)")),
            Payload::ContactErase(_) => Err(JobError::NotImplemented("contact.erase (privacy)")),
        }
    }
}
