//! `jambo-worker eval`: quality metrics on labelled data sets (the data sets are read from the
//! path given; the product never needs them).

pub mod classify;
pub mod cranfield;
pub mod embed_cache;
pub mod spam;

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
        "classify" => {
            let reports = classify::evaluate(config, data).map_err(eval_error)?;
            Report {
                table: classify::table(&reports),
                json: serde_json::json!({"task": "classify", "runs": reports}),
            }
        }
        "spam" => {
            let reports = spam::evaluate(config, data).map_err(eval_error)?;
            Report {
                table: spam::table(&reports),
                json: serde_json::json!({"task": "spam", "variants": reports}),
            }
        }
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

/// Bad data is bad input (exit code 2); anything else a failure.
fn eval_error(err: EvalError) -> CliError {
    match err {
        EvalError::Data(_) => CliError::Usage(err.to_string()),
        EvalError::Failed(_) => CliError::Failed(err.to_string()),
    }
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
