//! `lead.process` and `reply.suggest`: the tenant's triage engine on one lead or conversation.

use crate::contract::error::JobError;
use crate::contract::job::{LeadProcess, ReplySuggest};
use crate::runtime::handler::{JobContext, Output};
use crate::triage::engine::{Engines, LeadJob, ReplyJob, TriageError};

/// Runs leads and conversations through the engine each tenant's settings choose.
pub struct TriageHandler {
    engines: Engines,
}

impl TriageHandler {
    pub fn new(engines: Engines) -> TriageHandler {
        TriageHandler { engines }
    }

    pub async fn lead(
        &self,
        context: &JobContext<'_>,
        job: &LeadProcess,
    ) -> Result<Output, JobError> {
        let tenant = context.tenant_settings()?;
        let triaged = self
            .engines
            .process_lead(&LeadJob {
                job_id: &context.job.id,
                received_at: context.job.created_at,
                tenant: &tenant,
                lead: &job.lead,
                suggest_reply: job.suggest_reply.unwrap_or(false),
            })
            .await
            .map_err(triage_error)?;
        Ok(Output {
            result: triaged.result,
            privacy: triaged.privacy,
        })
    }

    pub async fn reply(
        &self,
        context: &JobContext<'_>,
        job: &ReplySuggest,
    ) -> Result<Output, JobError> {
        let tenant = context.tenant_settings()?;
        let triaged = self
            .engines
            .suggest_reply(&ReplyJob {
                job_id: &context.job.id,
                tenant: &tenant,
                conversation: &job.conversation,
            })
            .await
            .map_err(triage_error)?;
        Ok(Output {
            result: triaged.result,
            privacy: triaged.privacy,
        })
    }
}

/// How a triage failure settles the job: retried while the cause may go away, else rejected.
fn triage_error(err: TriageError) -> JobError {
    let retryable = match &err {
        TriageError::Invalid(_) => false,
        TriageError::Embed(inner) => inner.is_retryable(),
        TriageError::Knowledge(inner) => inner.is_retryable(),
    };
    if retryable {
        JobError::Transient(err.to_string())
    } else {
        JobError::Rejected(err.to_string())
    }
}
