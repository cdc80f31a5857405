//! `source.reindex` and `source.delete`: index a knowledge source (with `source.progress`
//! events while it runs) or remove everything of one.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::{JobContext, Output, Services};
use crate::error::JobError;
use crate::job::{ReindexMode, SourceDelete, SourceReindex};
use crate::knowledge::index::{IndexMode, IndexProgress, SourceSpec};
use crate::knowledge::service::KnowledgeError;

/// At most one `source.progress` event per this interval (plus the last state).
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

pub async fn reindex(
    services: &Services,
    context: &JobContext<'_>,
    job: &SourceReindex,
) -> Result<Output, JobError> {
    let tenant = context.tenant_settings()?;
    let settings = tenant.clone();
    let path = match &job.source.path {
        None => None,
        Some(path) => Some(services.allowed_path(path)?),
    };
    let spec = SourceSpec {
        id: job.source.id.clone(),
        url: job.source.url.clone(),
        path,
        max_pages: job.source.max_pages.map(|n| n as usize),
        max_depth: job.source.max_depth.map(|n| n as usize),
    };
    let mode = match job.mode {
        ReindexMode::Incremental => IndexMode::Incremental,
        ReindexMode::Full => IndexMode::Full,
    };
    let knowledge = services.knowledge().await?;

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
    services: &Services,
    context: &JobContext<'_>,
    job: &SourceDelete,
) -> Result<Output, JobError> {
    let knowledge = services.knowledge().await?;
    let chunks = knowledge
        .delete_source(&context.job.tenant_id, &job.source_id)
        .await
        .map_err(knowledge_error)?;
    let results = services
        .forget_results_of_source(&context.job.tenant_id, &job.source_id)
        .await?;
    Ok(Output::new(json!({
        "source_id": job.source_id,
        "chunks_removed": chunks,
        "job_results_removed": results,
    })))
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
pub(super) fn resolve_inside(root: Option<&PathBuf>, path: &str) -> Result<PathBuf, JobError> {
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
