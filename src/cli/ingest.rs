//! `ingest`: a knowledge source indexed from the operator's shell, with a progress bar and a
//! summary (or the `source.indexed` event with `--json`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::{CliError, IngestArgs};
use crate::config::Config;
use crate::contract::event::Event;
use crate::contract::tenant::{TenantSettings, validate_tenant_id};
use crate::knowledge::index::SourceSpec;

/// The tenant's settings (the fleet's, with the shared state), or defaults (local AI only) for
/// a tenant not configured.
pub(super) async fn tenant_or_default(
    config: &Config,
    tenant_id: &str,
) -> Result<Arc<TenantSettings>, CliError> {
    validate_tenant_id(tenant_id).map_err(|msg| CliError::Usage(format!("--tenant: {msg}")))?;
    crate::app::tenant_store(config)
        .await?
        .lookup_or_default(tenant_id)
        .await
        .map_err(CliError::failed)
}

/// A source id from the source itself: the host of a URL, the file or folder name of a path.
fn default_source_id(source: &str) -> String {
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
pub async fn run(config: &Config, request: IngestArgs, json_out: bool) -> Result<(), CliError> {
    let tenant = tenant_or_default(config, &request.tenant).await?;
    let is_url = request.source.starts_with("http://") || request.source.starts_with("https://");
    let spec = SourceSpec {
        id: request
            .source_id
            .clone()
            .unwrap_or_else(|| default_source_id(&request.source)),
        url: is_url.then(|| request.source.clone()),
        path: (!is_url).then(|| PathBuf::from(&request.source)),
        max_pages: request.max_pages.map(|n| n as usize),
        max_depth: request.max_depth.map(|n| n as usize),
    };
    if !is_url && request.source.contains("://") {
        return Err(CliError::Usage(format!(
            "unsupported source {:?}: give an http(s):// URL, a file or a folder",
            request.source
        )));
    }
    let privacy = crate::app::Privacy::build(config);
    let knowledge = crate::app::knowledge(config, &privacy)?;
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
    Ok(())
}
