//! The `ingest` and `search` commands: a source indexed from the operator's shell with a progress
//! bar and a summary, and a tenant's knowledge searched from it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::index::{IndexMode, IndexReport, SourceSpec};
use super::service::{Knowledge, KnowledgeError};
use super::store::SearchMode;
use crate::config::Config;
use crate::event::Event;
use crate::privacy::gate::Gate;
use crate::tenant::{TenantSettings, TenantStore};

/// Why a knowledge command failed: bad input (exit 2) or anything else (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

impl From<KnowledgeError> for CommandError {
    fn from(err: KnowledgeError) -> Self {
        match &err {
            KnowledgeError::Index(super::index::IndexError::InvalidSource(_)) => {
                CommandError::Usage(err.to_string())
            }
            _ => CommandError::Failed(err.to_string()),
        }
    }
}

/// What `ingest` was asked to do.
pub struct IngestRequest {
    pub source: String,
    pub source_id: Option<String>,
    pub tenant: String,
    pub max_pages: Option<usize>,
    pub max_depth: Option<usize>,
    pub mode: IndexMode,
    pub allow_private_network: bool,
}

/// Builds the knowledge service the way the worker does.
pub fn knowledge_for(config: &Config) -> Result<Knowledge, CommandError> {
    use crate::cli::{RedactTier, redactor};
    let audit = Arc::new(crate::privacy::audit::AuditLog::new(&config.data_dir));
    let gate = Arc::new(Gate::new(
        &config.openai,
        Arc::new(redactor(config, RedactTier::Default)),
        audit,
    ));
    Knowledge::new(config, gate, Arc::new(redactor(config, RedactTier::Fast)))
        .map_err(|e| CommandError::Failed(e.to_string()))
}

/// The tenant's settings, or defaults (local AI only) for a tenant without a settings file.
pub fn tenant_or_default(
    config: &Config,
    tenant_id: &str,
) -> Result<Arc<TenantSettings>, CommandError> {
    crate::tenant::validate_tenant_id(tenant_id)
        .map_err(|msg| CommandError::Usage(format!("--tenant: {msg}")))?;
    let store =
        TenantStore::open(&config.tenants_dir).map_err(|e| CommandError::Failed(e.to_string()))?;
    match store.get(tenant_id) {
        Ok(Some(settings)) => Ok(settings),
        Ok(None) => {
            let settings: TenantSettings =
                serde_json::from_value(json!({ "tenant_id": tenant_id }))
                    .map_err(|e| CommandError::Failed(e.to_string()))?;
            Ok(Arc::new(settings))
        }
        Err(err) => Err(CommandError::Failed(err.to_string())),
    }
}

/// A source id from the source itself: the host of a URL, the file or folder name of a path.
pub fn default_source_id(source: &str) -> String {
    if let Ok(url) = url::Url::parse(source)
        && let Some(host) = url.host_str()
    {
        return host.to_owned();
    }
    let path = PathBuf::from(source);
    path.file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "files".to_owned())
}

/// `ingest`: indexes the source; prints a summary, or the `source.indexed` event with `--json`.
pub async fn ingest(
    config: &Config,
    request: IngestRequest,
    json_out: bool,
) -> Result<IndexReport, CommandError> {
    let tenant = tenant_or_default(config, &request.tenant)?;
    let is_url = request.source.starts_with("http://") || request.source.starts_with("https://");
    let spec = SourceSpec {
        id: request
            .source_id
            .clone()
            .unwrap_or_else(|| default_source_id(&request.source)),
        url: is_url.then(|| request.source.clone()),
        path: (!is_url).then(|| PathBuf::from(&request.source)),
        max_pages: request.max_pages,
        max_depth: request.max_depth,
    };
    if !is_url && request.source.contains("://") {
        return Err(CommandError::Usage(format!(
            "unsupported source {:?}: give an http(s):// URL, a file or a folder",
            request.source
        )));
    }
    let knowledge = knowledge_for(config)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let job_id = format!("ingest-{}", std::process::id());
    let result = knowledge
        .index(
            &tenant,
            &job_id,
            &spec,
            request.mode,
            request.allow_private_network,
            &|p| {
                bar.set_message(format!(
                    "{} pages seen, {} indexed, {} unchanged, {} failed, {} chunks",
                    p.pages_seen, p.pages_indexed, p.pages_unchanged, p.pages_failed, p.chunks
                ))
            },
        )
        .await;
    bar.finish_and_clear();
    let (report, route) = result?;
    if json_out {
        let privacy = route.privacy(&tenant, &report);
        let event = Event {
            v: 1,
            job_id: Some(job_id),
            event_type: "source.indexed".into(),
            tenant_id: Some(tenant.tenant_id.clone()),
            result: json!(report),
            privacy,
        };
        println!("{}", String::from_utf8_lossy(&event.to_bytes()));
    } else {
        println!(
            "indexed source {:?} for tenant {:?} in {:.1}s: {} pages indexed, {} unchanged, {} removed, {} failed; {} chunks written, {} in the source ({})",
            report.source_id,
            tenant.tenant_id,
            report.elapsed_ms as f64 / 1000.0,
            report.pages_indexed,
            report.pages_unchanged,
            report.pages_removed,
            report.pages_failed,
            report.chunks,
            report.chunks_total,
            report.embedding_model,
        );
        for failure in report.failures.iter().take(20) {
            println!("  failed: {} ({})", failure.url, failure.reason);
        }
        if report.failures.len() > 20 {
            println!("  … and {} more failures", report.failures.len() - 20);
        }
    }
    Ok(report)
}

/// `search`: prints the hits (JSON: `{"hits": [...]}`).
#[allow(clippy::too_many_arguments)]
pub async fn search(
    config: &Config,
    tenant_id: &str,
    query: &str,
    limit: usize,
    source: Option<&str>,
    mode: SearchMode,
    json_out: bool,
) -> Result<(), CommandError> {
    if query.trim().is_empty() {
        return Err(CommandError::Usage("the query is empty".into()));
    }
    let tenant = tenant_or_default(config, tenant_id)?;
    let knowledge = knowledge_for(config)?;
    let job_id = format!("search-{}", std::process::id());
    let (hits, _) = knowledge
        .search(&tenant, &job_id, query, source, limit.max(1), mode)
        .await?;
    if json_out {
        let hits: Vec<_> = hits
            .iter()
            .map(|h| {
                json!({
                    "url": h.payload.url,
                    "title": h.payload.title,
                    "text": h.payload.text,
                    "score": h.score,
                    "chunk_id": h.chunk_id,
                    "source_id": h.payload.source_id,
                    "heading_path": h.payload.heading_path,
                })
            })
            .collect();
        println!("{}", json!({ "hits": hits }));
    } else if hits.is_empty() {
        println!("no results");
    } else {
        for (rank, hit) in hits.iter().enumerate() {
            let title = hit.payload.title.as_deref().unwrap_or("(untitled)");
            let mut text: String = hit.payload.text.chars().take(240).collect();
            if text.len() < hit.payload.text.len() {
                text.push('…');
            }
            println!(
                "{}. {title}  [{:.4}]\n   {}\n   {}\n",
                rank + 1,
                hit.score,
                hit.payload.url,
                text.replace('\n', " ")
            );
        }
    }
    Ok(())
}
