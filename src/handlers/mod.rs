//! Job handlers: one function per job type, dispatched by [`Handlers::handle`]. Handlers see a
//! validated job and its tenant's settings; they know nothing about queues, retries or
//! idempotency (the pipeline owns those), and must be idempotent themselves: a job may run again
//! after a crash, so every write they make is keyed by deterministic ids.

mod tenant;
mod test_work;

use std::sync::Arc;

use serde_json::Value;

use crate::error::JobError;
use crate::event::Privacy;
use crate::job::{Job, Payload};
use crate::tenant::{TenantSettings, TenantStore};

/// What a handler sees of a job.
pub struct JobContext<'a> {
    pub job: &'a Job,
    /// 1 on the first delivery, raised by each retry.
    pub attempt: u32,
    /// The tenant's settings (for `tenant.configure`, the new ones).
    pub tenant: Option<Arc<TenantSettings>>,
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
