//! What the runtime asks of the job handlers, and the narrow things it gives them: the job and
//! its tenant ([`JobContext`]), a way to publish progress events, and erasure of stored results
//! ([`StoredResults`]). Handlers know nothing else of the runtime: not the queue, not the retry
//! policy, not the idempotency store.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::contract::error::JobError;
use crate::contract::event::{Event, Privacy};
use crate::contract::job::Job;
use crate::contract::keys::SubjectKey;
use crate::contract::tenant::TenantSettings;
use crate::queue::{Outgoing, Publisher};
use crate::state::jobs::JobStore;

/// Runs a validated job. Implementations must be idempotent: a job may run again after a crash,
/// so every write they make is keyed by deterministic ids.
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn handle(&self, context: &JobContext<'_>) -> Result<Output, JobError>;
}

/// What a handler sees of a job.
pub struct JobContext<'a> {
    pub job: &'a Job,
    /// 1 on the first delivery, raised by each retry.
    pub attempt: u32,
    /// The tenant's settings (for `tenant.configure`, the new ones).
    pub tenant: Option<Arc<TenantSettings>>,
    /// Where progress events of a long job go.
    pub(crate) events: &'a dyn Publisher,
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

/// Erasure of the results the runtime stored for idempotency: all of a tenant's, or those about
/// one subject. The only door handlers have into the job store.
#[async_trait]
pub trait StoredResults: Send + Sync {
    /// Removes the stored results about `subject` (all of the tenant's with `None`); returns
    /// how many went.
    async fn erase(&self, tenant_id: &str, subject: Option<&SubjectKey>) -> Result<u64, JobError>;
}

/// [`StoredResults`] over the job store.
pub struct JobStoreResults(pub Arc<dyn JobStore>);

#[async_trait]
impl StoredResults for JobStoreResults {
    async fn erase(&self, tenant_id: &str, subject: Option<&SubjectKey>) -> Result<u64, JobError> {
        self.0
            .erase(tenant_id, subject)
            .await
            .map_err(|err| JobError::Storage(err.to_string()))
    }
}
