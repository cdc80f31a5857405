//! `jambo-worker eval`: quality metrics on labelled data sets (the data sets are read from the
//! path given; the product never needs them).

pub mod classify;
pub mod cranfield;
pub mod embed_cache;
pub mod retrieval;
pub mod rouge;
pub mod spam;
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

use std::time::{Duration, Instant};

use crate::cli::{CliError, EvalArgs, RedactTier};
use crate::config::Config;

/// Runs `eval TASK --data PATH` and prints its table (or JSON).
pub fn run(config: &Config, args: &EvalArgs, json: bool) -> Result<(), CliError> {
    let report = match args.task.as_str() {
        "redact" => redact(config, &args.data, args)?,
        "classify" => {
            let reports = classify::evaluate(config, &args.data).map_err(eval_error)?;
            Report {
                table: classify::table(&reports),
                json: serde_json::json!({"task": "classify", "runs": reports}),
            }
        }
        "spam" => {
            let reports = spam::evaluate(config, &args.data).map_err(eval_error)?;
            Report {
                table: spam::table(&reports),
                json: serde_json::json!({"task": "spam", "variants": reports}),
            }
        }
        "summarize" => summarize_task(&args.data)?,
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

/// `eval retrieval` (async: it runs the indexer and the vector store).
pub async fn run_retrieval(config: &Config, data: &Path, json: bool) -> Result<(), CliError> {
    let (scores, index_secs) =
        retrieval::evaluate(config, data)
            .await
            .map_err(|err| match err {
                EvalError::Data(m) => CliError::Usage(m),
                EvalError::Failed(m) => CliError::Failed(m),
            })?;
    let queries = cranfield::Cranfield::load(data)
        .map(|c| c.queries.len())
        .unwrap_or_default();
    let (table, value) = retrieval::render(&scores, index_secs, queries);
    if json {
        println!("{value}");
    } else {
        println!("{table}");
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

/// PII redaction on Presidio's synthetic evaluation set (`synth_dataset_v2.json`): accuracy, and
/// the throughput of the redaction pass itself (loading and scoring not included).
fn redact(config: &Config, data: &Path, args: &EvalArgs) -> Result<Report, CliError> {
    use crate::privacy::redact::eval::{ExternalPrediction, Sample, external_entities, score};
    let path = if data.is_dir() {
        data.join("synth_dataset_v2.json")
    } else {
        data.to_owned()
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
    let samples: Vec<Sample> = serde_json::from_str(&text)
        .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
    let (predictions, tier, throughput) = match &args.predictions {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|err| CliError::Usage(format!("{}: {err}", file.display())))?;
            let external: Vec<ExternalPrediction> = serde_json::from_str(&text)
                .map_err(|err| CliError::Usage(format!("{}: {err}", file.display())))?;
            if external.len() != samples.len() {
                return Err(CliError::Usage(format!(
                    "{}: {} predictions for {} samples",
                    file.display(),
                    external.len(),
                    samples.len()
                )));
            }
            (external_entities(&samples, &external), "external", None)
        }
        None => {
            let redactor = crate::cli::redactor(config, args.tier);
            let tier = match (args.tier, redactor.has_model()) {
                (RedactTier::Fast, _) | (_, false) => "fast",
                (RedactTier::Default, true) => "default",
                (RedactTier::Ungated, true) => "ungated",
            };
            let mut predictions = Vec::new();
            let cpu_before = cpu_time();
            let started = Instant::now();
            for pass in 0..args.repeat {
                for sample in &samples {
                    let found = redactor.detect(&sample.full_text);
                    if pass == 0 {
                        predictions.push(found);
                    }
                }
            }
            let wall = started.elapsed();
            let cpu = cpu_time().saturating_sub(cpu_before);
            let documents = samples.len() * args.repeat as usize;
            let bytes: usize =
                samples.iter().map(|s| s.full_text.len()).sum::<usize>() * args.repeat as usize;
            let stats = redactor.model_stats();
            let throughput = serde_json::json!({
                "documents": documents,
                "bytes": bytes,
                "wall_seconds": wall.as_secs_f64(),
                "cpu_seconds": cpu.as_secs_f64(),
                "docs_per_cpu_second": documents as f64 / cpu.as_secs_f64().max(1e-9),
                "mb_per_cpu_second": bytes as f64 / 1e6 / cpu.as_secs_f64().max(1e-9),
                "docs_per_second": documents as f64 / wall.as_secs_f64().max(1e-9),
                "mb_per_second": bytes as f64 / 1e6 / wall.as_secs_f64().max(1e-9),
                "model_bytes_read": stats.bytes_tagged,
                "model_windows": stats.windows,
                "model_share_of_bytes": stats.bytes_tagged as f64 / bytes.max(1) as f64,
            });
            (predictions, tier, Some(throughput))
        }
    };
    let report = score(&samples, &predictions);
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
    let mut table = format!("tier: {tier}\n{report}");
    if let Some(t) = &throughput {
        let f = |key: &str| t[key].as_f64().unwrap_or(0.0);
        table.push_str(&format!(
            "throughput: {:.0} docs/s, {:.3} MB/s per CPU-second ({:.2} CPU s, {:.2} wall s); \
             {:.0} docs/s, {:.3} MB/s wall; the model read {:.1}% of the bytes\n",
            f("docs_per_cpu_second"),
            f("mb_per_cpu_second"),
            f("cpu_seconds"),
            f("wall_seconds"),
            f("docs_per_second"),
            f("mb_per_second"),
            100.0 * f("model_share_of_bytes"),
        ));
    }
    let json = serde_json::json!({
        "task": "redact",
        "tier": tier,
        "throughput": throughput,
        "documents": report.documents,
        "any_pii": {"precision": any.precision(), "recall": any.recall(), "f2": any.f2()},
        "per_type": per_type,
    });
    Ok(Report { table, json })
}

/// User plus system CPU time of the whole process so far (every thread, ONNX Runtime's too).
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage struct; RUSAGE_SELF is always valid.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
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
