//! `jambo-worker eval`: quality metrics on labelled data sets (the data sets are read from the
//! path given; the product never needs them).

pub mod cranfield;
pub mod rouge;
pub mod summarize;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data set is missing or not in the expected format (bad input: exit code 2).
    #[error("eval data: {0}")]
    Data(String),
    /// The system under evaluation failed.
    #[error("eval: {0}")]
    Failed(String),
}

use std::path::Path;

use crate::cli::CliError;
use crate::config::Config;

/// Runs `eval TASK --data PATH` and prints its table (or JSON).
pub fn run(config: &Config, task: &str, data: &Path, json: bool) -> Result<(), CliError> {
    let report = match task {
        "redact" => redact(config, data)?,
        "summarize" => summarize_task(data)?,
        other => {
            return Err(CliError::Failed(format!(
                "eval {other} is not implemented yet"
            )));
        }
    };
    if json {
        println!("{}", report.json);
    } else {
        println!("{}", report.table);
    }
    Ok(())
}

/// What an evaluation prints.
struct Report {
    table: String,
    json: serde_json::Value,
}

/// PII redaction on Presidio's synthetic evaluation set (`synth_dataset_v2.json`).
fn redact(config: &Config, data: &Path) -> Result<Report, CliError> {
    use crate::privacy::redact::eval::{Sample, evaluate};
    let path = if data.is_dir() {
        data.join("synth_dataset_v2.json")
    } else {
        data.to_owned()
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
    let samples: Vec<Sample> = serde_json::from_str(&text)
        .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
    let report = evaluate(&crate::cli::redactor(config), &samples);
    let per_type: serde_json::Map<String, serde_json::Value> = report
        .per_type
        .iter()
        .map(|(kind, c)| {
            let scores =
                serde_json::json!({"precision": c.precision(), "recall": c.recall(), "f2": c.f2()});
            (kind.to_string(), scores)
        })
        .collect();
    let any = &report.any_pii_tokens;
    let json = serde_json::json!({
        "task": "redact",
        "documents": report.documents,
        "any_pii": {"precision": any.precision(), "recall": any.recall(), "f2": any.f2()},
        "per_type": per_type,
    });
    Ok(Report {
        table: report.to_string(),
        json,
    })
}

/// Triage summaries on DialogSum, next to the lead-2 baseline.
fn summarize_task(data: &Path) -> Result<Report, CliError> {
    let dialogues = summarize::load(data).map_err(CliError::Usage)?;
    if dialogues.is_empty() {
        return Err(CliError::Usage(format!("{}: no dialogues", data.display())));
    }
    let report = summarize::evaluate(&dialogues);
    let mut json = serde_json::to_value(&report)
        .map_err(|err| CliError::Failed(format!("eval summarize: {err}")))?;
    json["task"] = serde_json::json!("summarize");
    Ok(Report {
        table: report.to_string(),
        json,
    })
}
