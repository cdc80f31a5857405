//! `contact.erase` and `tenant.erase`: remove every stored trace of a contact, or everything
//! stored for a tenant, and report what went.
//!
//! What the worker stores about a contact: the cached results of jobs about them (lead and
//! reply results, which hold extracted fields and drafted replies) in the job store. Knowledge
//! chunks come from sources, never from contacts' messages, so none are removed here; audit
//! records hold ids and counts only, no contact data, and stay for their retention period.

use std::sync::Arc;

use serde_json::json;

use crate::contract::error::JobError;
use crate::contract::job::ContactErase;
use crate::contract::keys::SubjectKey;
use crate::knowledge::service::Knowledge;
use crate::runtime::handler::{JobContext, Output, StoredResults};

/// Erasure of a contact's or a whole tenant's data.
pub struct EraseHandler {
    knowledge: Arc<Knowledge>,
    results: Arc<dyn StoredResults>,
}

impl EraseHandler {
    pub fn new(knowledge: Arc<Knowledge>, results: Arc<dyn StoredResults>) -> EraseHandler {
        EraseHandler { knowledge, results }
    }

    pub async fn contact(
        &self,
        context: &JobContext<'_>,
        job: &ContactErase,
    ) -> Result<Output, JobError> {
        let subject = SubjectKey::contact(&job.contact_id);
        let results = self
            .results
            .erase(&context.job.tenant_id, Some(&subject))
            .await?;
        tracing::info!(event = "contact_erased", job_id = %context.job.id, job_results_removed = results);
        Ok(Output::new(json!({
            "contact_id": job.contact_id,
            "job_results_removed": results,
            "chunks_removed": 0,
        })))
    }

    /// Everything of a tenant: chunks of every source in every store, source state, cached job
    /// results. The tenant's settings file stays (it is configuration, not content); audit
    /// records (ids and counts only) stay for their retention period.
    pub async fn tenant(&self, context: &JobContext<'_>) -> Result<Output, JobError> {
        let tenant_id = &context.job.tenant_id;
        let chunks = self
            .knowledge
            .delete_tenant(tenant_id)
            .await
            .map_err(super::source::knowledge_error)?;
        let results = self.results.erase(tenant_id, None).await?;
        tracing::info!(event = "tenant_erased", job_id = %context.job.id, chunks_removed = chunks, job_results_removed = results);
        Ok(Output::new(json!({
            "tenant_id": tenant_id,
            "chunks_removed": chunks,
            "job_results_removed": results,
        })))
    }
}
