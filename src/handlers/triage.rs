//! `lead.process` and `reply.suggest`: the tenant's triage engine on one lead or conversation.

use super::{JobContext, Output, Services};
use crate::error::JobError;
use crate::job::{LeadProcess, ReplySuggest};
use crate::triage::engine::{LeadJob, ReplyJob, TriageError};

pub async fn lead(
    services: &Services,
    context: &JobContext<'_>,
    job: &LeadProcess,
) -> Result<Output, JobError> {
    let tenant = context.tenant_settings()?;
    let engine = services.triage_engine(&tenant).await?;
    let triaged = engine
        .process_lead(&LeadJob {
            job_id: &context.job.id,
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
    services: &Services,
    context: &JobContext<'_>,
    job: &ReplySuggest,
) -> Result<Output, JobError> {
    let tenant = context.tenant_settings()?;
    let engine = services.triage_engine(&tenant).await?;
    let triaged = engine
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

fn triage_error(err: TriageError) -> JobError {
    match &err {
        TriageError::Invalid(_) => JobError::Rejected(err.to_string()),
        _ if err.is_retryable() => JobError::Transient(err.to_string()),
        _ => JobError::Rejected(err.to_string()),
    }
}
