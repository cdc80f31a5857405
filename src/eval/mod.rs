//! `jambo-worker eval`: quality metrics on labelled data sets (the data sets are read from the
//! path given; the product never needs them).
//!
//! Owns: reading the data sets, running the product's own parts on them (built by `app`, as in
//! production) and scoring. Must not know: the command line (`cli` maps [`EvalError`]).

pub(crate) mod bitext;
pub mod classify;
pub(crate) mod cranfield;
pub(crate) mod embed_cache;
pub(crate) mod retrieval;
pub(crate) mod rouge;
pub(crate) mod spam;
pub(crate) mod summarize;
pub mod triage;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data set is missing or not in the expected format (bad input: exit code 2).
    #[error("eval data: {0}")]
    Data(String),
    /// A file or option given to the command is unusable (bad input: exit code 2).
    #[error("{0}")]
    Input(String),
    /// The system under evaluation failed.
    #[error("eval: {0}")]
    Failed(String),
}

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::privacy::redact::RedactTier;

/// The evaluation tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Task {
    /// Banking77 accuracy of the tenant category classifier
    Classify,
    /// SMS spam F1 of the spam detector
    Spam,
    /// Cranfield nDCG@10 and Recall@100 of BM25, dense and hybrid search
    Retrieval,
    /// Redaction accuracy on Presidio's synthetic set
    Redact,
    /// ROUGE of the triage summary on DialogSum
    Summarize,
    /// The triage engine on a labelled corpus of leads (tenants/ and leads/)
    Triage,
}

/// Options of the tasks that have some.
#[derive(Debug, Clone)]
pub struct Options {
    /// `eval redact`: which tiers run.
    pub tier: RedactTier,
    /// `eval redact`: passes over the set for the throughput figures (accuracy is scored on the
    /// first).
    pub repeat: u32,
    /// `eval redact`: another system's predictions to score instead of running the redactor.
    pub predictions: Option<PathBuf>,
    /// `eval triage`: which part of the corpus runs.
    pub split: triage::Split,
    /// `eval triage`: the engine every tenant gets.
    pub engine: triage::EngineChoice,
    /// `eval triage`: only the first N leads of the split.
    pub limit: Option<usize>,
}

/// Runs `eval TASK --data PATH` and prints its table (or JSON).
pub async fn run(
    config: &Config,
    task: Task,
    data: &Path,
    options: &Options,
    json: bool,
) -> Result<(), EvalError> {
    let report = match task {
        Task::Redact => redact(config, data, options)?,
        Task::Classify => {
            let reports = classify::evaluate(config, data)?;
            Report {
                table: classify::table(&reports),
                json: serde_json::json!({"task": "classify", "runs": reports}),
            }
        }
        Task::Spam => {
            let reports = spam::evaluate(config, data)?;
            Report {
                table: spam::table(&reports),
                json: serde_json::json!({"task": "spam", "variants": reports}),
            }
        }
        Task::Summarize => summarize_task(data)?,
        Task::Retrieval => retrieval_task(config, data).await?,
        Task::Triage => {
            let report = triage::evaluate(
                config,
                data,
                &triage::Run {
                    split: options.split,
                    engine: options.engine,
                    limit: options.limit,
                },
            )
            .await?;
            Report {
                table: triage::table(&report),
                json: serde_json::json!({"task": "triage", "report": report}),
            }
        }
    };
    if json {
        println!("{}", report.json);
    } else {
        println!("{}", report.table);
    }
    Ok(())
}

/// `eval retrieval`: Cranfield through the product's own indexing and search.
async fn retrieval_task(config: &Config, data: &Path) -> Result<Report, EvalError> {
    let (scores, index_secs) = retrieval::evaluate(config, data).await?;
    let queries = cranfield::Cranfield::load(data)
        .map(|c| c.queries.len())
        .unwrap_or_default();
    let (table, json) = retrieval::render(&scores, index_secs, queries);
    Ok(Report { table, json })
}

/// What an evaluation prints.
struct Report {
    table: String,
    json: serde_json::Value,
}

/// PII redaction on Presidio's synthetic evaluation set (`synth_dataset_v2.json`): accuracy, and
/// the throughput of the redaction pass itself (loading and scoring not included).
fn redact(config: &Config, data: &Path, args: &Options) -> Result<Report, EvalError> {
    use crate::privacy::redact::eval::{ExternalPrediction, Sample, external_entities, score};
    let path = if data.is_dir() {
        data.join("synth_dataset_v2.json")
    } else {
        data.to_owned()
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| EvalError::Input(format!("{}: {err}", path.display())))?;
    let samples: Vec<Sample> = serde_json::from_str(&text)
        .map_err(|err| EvalError::Input(format!("{}: {err}", path.display())))?;
    let (predictions, tier, throughput) = match &args.predictions {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|err| EvalError::Input(format!("{}: {err}", file.display())))?;
            let external: Vec<ExternalPrediction> = serde_json::from_str(&text)
                .map_err(|err| EvalError::Input(format!("{}: {err}", file.display())))?;
            if external.len() != samples.len() {
                return Err(EvalError::Input(format!(
                    "{}: {} predictions for {} samples",
                    file.display(),
                    external.len(),
                    samples.len()
                )));
            }
            (external_entities(&samples, &external), "external", None)
        }
        None => {
            let redactor =
                crate::privacy::redact::Redactor::for_tier(&config.models_dir, args.tier);
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
fn summarize_task(data: &Path) -> Result<Report, EvalError> {
    let dialogues = summarize::load(data).map_err(EvalError::Input)?;
    if dialogues.is_empty() {
        return Err(EvalError::Input(format!(
            "{}: no dialogues",
            data.display()
        )));
    }
    let report = summarize::evaluate(&dialogues);
    let mut json = serde_json::to_value(&report)
        .map_err(|err| EvalError::Failed(format!("summarize: {err}")))?;
    json["task"] = serde_json::json!("summarize");
    Ok(Report {
        table: report.to_string(),
        json,
    })
}
