//! `export-training`: every opted-in tenant's stored results and chunks, redacted, as JSONL.

use super::CliError;
use crate::config::Config;
use crate::privacy::redact::{RedactTier, Redactor};

pub async fn run(config: &Config, out: &str) -> Result<(), CliError> {
    // the fleet's tenants and results when the config names the shared state
    let stores = crate::app::stores(config).await?;
    let settings = crate::app::all_tenants(&stores.tenants).await?;
    let jobs = stores.jobs;
    let privacy = crate::app::Privacy::build(config);
    let knowledge = crate::app::knowledge(config, &privacy)?;
    let chunks = crate::app::chunk_source(&knowledge).await?;
    // Everything here leaves the process: the default tier, the model too.
    let redactor = Redactor::for_tier(&config.models_dir, RedactTier::Default);
    let mut writer: Box<dyn std::io::Write> = if out == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(out).map_err(|err| CliError::Usage(format!("{out}: {err}")))?,
        ))
    };
    let report = crate::privacy::export::export_training(
        &settings,
        jobs.as_ref(),
        chunks.as_ref(),
        &redactor,
        writer.as_mut(),
    )
    .await
    .map_err(CliError::failed)?;
    drop(writer);
    eprintln!(
        "export-training: {} job results and {} knowledge chunks from {} tenants (skipped, not opted in: {}); redacted {:?}",
        report.job_results,
        report.knowledge_chunks,
        report.tenants_exported.len(),
        report.tenants_skipped.len(),
        report.redactions
    );
    Ok(())
}
