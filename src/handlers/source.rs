//! `source.reindex` and `source.delete`: index a knowledge source (with `source.progress`
//! events while it runs) or remove everything of one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use crate::contract::error::JobError;
use crate::contract::job::{SourceDelete, SourceReindex};
use crate::contract::keys::SubjectKey;
use crate::knowledge::index::{IndexProgress, SourceSpec};
use crate::knowledge::service::{Knowledge, KnowledgeError};
use crate::runtime::handler::{JobContext, Output, StoredResults};

/// At most one `source.progress` event per this interval (plus the last state).
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Indexing and deletion of knowledge sources.
pub struct SourceHandler {
    knowledge: Arc<Knowledge>,
    results: Arc<dyn StoredResults>,
    /// Where a job's `source.path` may point (`knowledge.files_root`); `None` refuses paths.
    files_root: Option<PathBuf>,
}

impl SourceHandler {
    pub fn new(
        knowledge: Arc<Knowledge>,
        results: Arc<dyn StoredResults>,
        files_root: Option<PathBuf>,
    ) -> SourceHandler {
        SourceHandler {
            knowledge,
            results,
            files_root,
        }
    }

    pub async fn reindex(
        &self,
        context: &JobContext<'_>,
        job: &SourceReindex,
    ) -> Result<Output, JobError> {
        let tenant = context.tenant_settings()?;
        let settings = tenant.clone();
        let path = match &job.source.path {
            None => None,
            Some(path) => Some(resolve_inside(self.files_root.as_ref(), path)?),
        };
        let spec = SourceSpec {
            id: job.source.id.clone(),
            url: job.source.url.clone(),
            path,
            max_pages: job.source.max_pages.map(|n| n as usize),
            max_depth: job.source.max_depth.map(|n| n as usize),
        };
        let mode = job.mode;
        let knowledge = &self.knowledge;

        let (tx, mut rx) = watch::channel::<Option<IndexProgress>>(None);
        let work = async move {
            let result = knowledge
                .index(&tenant, &context.job.id, &spec, mode, false, &|p| {
                    let _ = tx.send(Some(p));
                })
                .await;
            drop(tx);
            result
        };
        let publish = async {
            while rx.changed().await.is_ok() {
                let latest = rx.borrow_and_update().clone();
                if let Some(progress) = latest {
                    context.progress("source.progress", json!(progress)).await;
                }
                tokio::time::sleep(PROGRESS_EVERY).await;
            }
        };
        let (result, ()) = tokio::join!(work, publish);
        let (report, route) = result.map_err(knowledge_error)?;
        let privacy = route.privacy(&settings, &report);
        tracing::info!(
            event = "source_indexed",
            job_id = %context.job.id,
            source_id = %report.source_id,
            pages_indexed = report.pages_indexed,
            pages_unchanged = report.pages_unchanged,
            pages_removed = report.pages_removed,
            pages_failed = report.pages_failed,
            chunks = report.chunks,
            elapsed_ms = report.elapsed_ms,
        );
        Ok(Output {
            result: json!(report),
            privacy,
        })
    }

    pub async fn delete(
        &self,
        context: &JobContext<'_>,
        job: &SourceDelete,
    ) -> Result<Output, JobError> {
        let chunks = self
            .knowledge
            .delete_source(&context.job.tenant_id, &job.source_id)
            .await
            .map_err(knowledge_error)?;
        let subject = SubjectKey::source(&job.source_id);
        let results = self
            .results
            .erase(&context.job.tenant_id, Some(&subject))
            .await?;
        Ok(Output::new(json!({
            "source_id": job.source_id,
            "chunks_removed": chunks,
            "job_results_removed": results,
        })))
    }
}

/// Maps a knowledge failure to how the job is treated.
pub(super) fn knowledge_error(err: KnowledgeError) -> JobError {
    if err.is_retryable() {
        JobError::Transient(err.to_string())
    } else {
        JobError::Rejected(err.to_string())
    }
}

/// Resolves a job's `source.path` inside `knowledge.files_root`, or refuses it.
fn resolve_inside(root: Option<&PathBuf>, path: &str) -> Result<PathBuf, JobError> {
    let root = root.ok_or_else(|| {
        JobError::Rejected(
            "source.path needs knowledge.files_root in the worker config (jobs may not read arbitrary files)".into(),
        )
    })?;
    let root = root
        .canonicalize()
        .map_err(|err| JobError::Rejected(format!("knowledge.files_root: {}", err.kind())))?;
    let candidate = root.join(path.trim_start_matches('/'));
    let resolved = candidate.canonicalize().map_err(|_| {
        JobError::Rejected("source.path does not exist under knowledge.files_root".into())
    })?;
    if !resolved.starts_with(&root) {
        return Err(JobError::Rejected(
            "source.path is outside knowledge.files_root".into(),
        ));
    }
    Ok(resolved)
}
