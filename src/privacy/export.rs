//! `export-training`: a JSONL export of content that may be used to train or improve models.
//! Only tenants whose settings say `ai.training_opt_in = true` now contribute, only content that
//! was produced or indexed while they were opted in, and every text is redacted (placeholders)
//! before it is written.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};

use async_trait::async_trait;

use crate::contract::event::Event;
use crate::contract::tenant::TenantSettings;
use crate::privacy::redact::{Pseudonymizer, Redactor};
use crate::state::jobs::JobStore;

/// A knowledge chunk as the export sees it.
#[derive(Debug, Clone, Default)]
pub struct ChunkRecord {
    pub source_id: String,
    pub url: String,
    pub title: Option<String>,
    pub heading_path: Vec<String>,
    pub language: Option<String>,
    pub text: String,
    /// The tenant's training consent when the chunk was indexed.
    pub training_opt_in: bool,
}

/// Where the export reads a tenant's knowledge chunks (the composition root wires the vector
/// stores in; privacy knows nothing of them).
#[async_trait]
pub trait ChunkSource: Send + Sync {
    async fn chunks(&self, tenant_id: &str) -> Result<Vec<ChunkRecord>, String>;
}

/// What the export wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    pub tenants_exported: Vec<String>,
    /// Tenants left out because they did not opt in.
    pub tenants_skipped: Vec<String>,
    pub job_results: u64,
    pub knowledge_chunks: u64,
    /// Entities replaced by placeholders, by type.
    pub redactions: BTreeMap<String, u64>,
}

/// Why the export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading stored data: {0}")]
    Read(String),
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes the export of `tenants` to `out`.
pub async fn export_training(
    tenants: &[std::sync::Arc<TenantSettings>],
    jobs: &dyn JobStore,
    chunks: &dyn ChunkSource,
    redactor: &Redactor,
    out: &mut dyn Write,
) -> Result<ExportReport, ExportError> {
    let mut report = ExportReport::default();
    for tenant in tenants {
        if !tenant.ai.training_opt_in {
            report.tenants_skipped.push(tenant.tenant_id.clone());
            continue;
        }
        report.tenants_exported.push(tenant.tenant_id.clone());
        let results = jobs
            .results(&tenant.tenant_id)
            .await
            .map_err(|e| ExportError::Read(e.to_string()))?;
        for bytes in results {
            let Ok(event) = serde_json::from_slice::<Event>(&bytes) else {
                continue;
            };
            if !event.privacy.training_opt_in
                || !matches!(
                    event.event_type.as_str(),
                    "lead.processed" | "reply.suggested"
                )
            {
                continue;
            }
            let mut data = event.result.clone();
            redact_value(&mut data, redactor, &mut report.redactions);
            let line = json!({
                "tenant_id": tenant.tenant_id,
                "kind": "job_result",
                "type": event.event_type,
                "job_id": event.job_id,
                "data": data,
            });
            writeln!(out, "{line}")?;
            report.job_results += 1;
        }
        {
            let chunks = chunks
                .chunks(&tenant.tenant_id)
                .await
                .map_err(ExportError::Read)?;
            for chunk in chunks {
                if !chunk.training_opt_in {
                    continue;
                }
                let mut text = Value::String(chunk.text);
                redact_value(&mut text, redactor, &mut report.redactions);
                let line = json!({
                    "tenant_id": tenant.tenant_id,
                    "kind": "knowledge_chunk",
                    "source_id": chunk.source_id,
                    "url": chunk.url,
                    "title": chunk.title,
                    "heading_path": chunk.heading_path,
                    "language": chunk.language,
                    "text": text,
                });
                writeln!(out, "{line}")?;
                report.knowledge_chunks += 1;
            }
        }
    }
    out.flush()?;
    Ok(report)
}

/// Redacts every string of a JSON value in place (one placeholder mapping per value, dropped
/// afterwards: the export can never be restored).
fn redact_value(value: &mut Value, redactor: &Redactor, counts: &mut BTreeMap<String, u64>) {
    let mut pseudonymizer = Pseudonymizer::new();
    walk(value, &mut |s: &mut String| {
        let redacted = pseudonymizer.redact(redactor, s);
        for (kind, n) in &redacted.counts_by_type {
            *counts.entry(kind.to_string()).or_default() += *n as u64;
        }
        *s = redacted.text;
    });
}

fn walk(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| walk(v, f)),
        _ => {}
    }
}
