//! Job handlers: one per job family, dispatched by [`Handlers`], the runtime's
//! [`JobHandler`]. Handlers see a validated job and its tenant's settings through
//! [`JobContext`]; they know nothing about queues, retries or the idempotency store (the runtime
//! owns those; stored results are erased through the narrow [`StoredResults`]). They must be
//! idempotent: a job may run again after a crash, so every write is keyed by deterministic ids.
//!
//! Each handler holds only the parts it needs, handed in by the composition root (`app`).

mod erase;
mod source;
mod tenant;
mod test_work;
mod triage;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::contract::error::JobError;
use crate::contract::job::Payload;
use crate::knowledge::service::Knowledge;
use crate::runtime::handler::{JobContext, JobHandler, Output, StoredResults};
use crate::state::tenants::TenantStore;
use crate::triage::engine::Engines;

pub use self::erase::EraseHandler;
pub use self::source::SourceHandler;
pub use self::tenant::TenantHandler;
pub use self::triage::TriageHandler;

/// What the handlers are built from.
pub struct HandlerParts {
    pub tenants: Arc<TenantStore>,
    pub knowledge: Arc<Knowledge>,
    pub engines: Engines,
    pub results: Arc<dyn StoredResults>,
    /// Where `source.path` of a job may point (`knowledge.files_root`).
    pub files_root: Option<PathBuf>,
}

/// Every handler, dispatched by payload.
pub struct Handlers {
    tenant: TenantHandler,
    source: SourceHandler,
    triage: TriageHandler,
    erase: EraseHandler,
}

impl Handlers {
    pub fn new(parts: HandlerParts) -> Handlers {
        Handlers {
            tenant: TenantHandler::new(parts.tenants),
            source: SourceHandler::new(
                parts.knowledge.clone(),
                parts.results.clone(),
                parts.files_root,
            ),
            triage: TriageHandler::new(parts.engines),
            erase: EraseHandler::new(parts.knowledge, parts.results),
        }
    }
}

#[async_trait]
impl JobHandler for Handlers {
    async fn handle(&self, context: &JobContext<'_>) -> Result<Output, JobError> {
        match &context.job.payload {
            Payload::TenantConfigure(settings) => self.tenant.configure(settings).await,
            Payload::TestWork(work) => test_work::run(context, work).await,
            Payload::LeadProcess(job) => self.triage.lead(context, job).await,
            Payload::ReplySuggest(job) => self.triage.reply(context, job).await,
            Payload::SourceReindex(job) => self.source.reindex(context, job).await,
            Payload::SourceDelete(job) => self.source.delete(context, job).await,
            Payload::ContactErase(job) => self.erase.contact(context, job).await,
            Payload::TenantErase(_) => self.erase.tenant(context).await,
        }
    }
}
