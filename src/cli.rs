//! The command line: global options, the commands of the contract, and the glue that builds the
//! worker from config for each of them.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::config::{CliOverrides, Config, ConfigError};
use crate::error::JobError;
use crate::handlers::Handlers;
use crate::job::Family;
use crate::pipeline::Pipeline;
use crate::queue::stdio::StdioQueue;
use crate::queue::{Discard, Message, Queue};
use crate::store::{JobStore, RedbJobStore};
use crate::tenant::TenantStore;
use crate::worker::{Stopped, Worker};

#[derive(Debug, Parser)]
#[command(
    name = "jambo-worker",
    version,
    about = "The background AI worker of Jambo Contact: knowledge, triage and privacy jobs"
)]
pub struct Cli {
    /// TOML config file (values there are overridden by JAMBO__SECTION__KEY env vars and flags)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the embedded vector store, tenant settings and caches live [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder of <tenant_id>.toml tenant settings [default: <data-dir>/tenants]
    #[arg(long, global = true, value_name = "DIR")]
    pub tenants: Option<PathBuf>,
    /// Machine-readable output on stdout (one JSON document, or JSONL for streams)
    #[arg(long, global = true)]
    pub json: bool,
    /// Log format on stderr
    #[arg(long, global = true, value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Log filter, e.g. `info` or `jambo_worker=debug`
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Consume jobs until SIGTERM/SIGINT (RabbitMQ with --queue, else JSONL on stdin)
    Run(RunArgs),
    /// The main job end to end on embedded defaults: no services, no API key
    Demo,
    /// Index a knowledge source (URL, sitemap, file or folder)
    Ingest(IngestArgs),
    /// Hybrid search of a tenant's knowledge
    Search(SearchArgs),
    /// Process one lead (the lead object, or a whole lead.process job)
    Triage(JobInputArgs),
    /// Suggest a reply for one conversation (the conversation object, or a whole reply.suggest job)
    Suggest(JobInputArgs),
    /// Redact personal data from plain text
    Redact(RedactArgs),
    /// Erase a contact's or a source's data
    Erase(EraseArgs),
    /// Quality metrics on a labelled data set
    Eval(EvalArgs),
    /// JSONL of content that may train models: only opted-in tenants, redacted
    ExportTraining(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file, or - for stdout
    #[arg(long, default_value = "-")]
    pub out: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// RabbitMQ URL (amqp://user:pass@host:5672/vhost); without it jobs are read from stdin
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
    /// Serve /healthz, /readyz and /metrics on this address, e.g. 127.0.0.1:9464
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// http(s):// page or sitemap URL, a file, or a folder of .html .md .txt .pdf
    pub source: String,
    #[arg(long)]
    pub tenant: String,
    /// Source id [default: the URL's host, or the file or folder name]
    #[arg(long)]
    pub source_id: Option<String>,
    #[arg(long)]
    pub max_pages: Option<u32>,
    #[arg(long)]
    pub max_depth: Option<u32>,
    /// incremental skips unchanged pages; full re-embeds everything
    #[arg(long, value_parser = ["incremental", "full"], default_value = "incremental")]
    pub mode: String,
    /// Let the crawl reach loopback and private addresses (off: customer URLs must not reach
    /// internal services)
    #[arg(long)]
    pub allow_private_network: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    pub query: String,
    #[arg(long)]
    pub tenant: String,
    #[arg(long, default_value_t = 5)]
    pub limit: usize,
    /// Only this source
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long, value_parser = ["hybrid", "dense", "bm25"], default_value = "hybrid")]
    pub mode: String,
}

#[derive(Debug, Args)]
pub struct JobInputArgs {
    /// JSON file, or - for stdin
    #[arg(default_value = "-")]
    pub input: String,
    #[arg(long)]
    pub tenant: String,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Text file, or - for stdin
    #[arg(default_value = "-")]
    pub input: String,
    /// Which detectors run
    #[arg(long, value_enum, default_value_t = RedactTier::Default)]
    pub tier: RedactTier,
}

/// Which redaction tiers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedactTier {
    /// Patterns, checksums, context cues and name lists only
    Fast,
    /// The fast tier, plus the model tier (Rampart) where the model files are in the model cache
    Default,
    /// Like default, but the model reads every text whole (no gate): for measuring the gate
    Ungated,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "what")]
pub struct EraseArgs {
    #[arg(long)]
    pub tenant: String,
    #[arg(long, group = "what")]
    pub contact: Option<String>,
    #[arg(long, group = "what")]
    pub source: Option<String>,
    #[arg(long, group = "what")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[arg(value_parser = ["classify", "spam", "retrieval", "redact", "summarize"])]
    pub task: String,
    #[arg(long)]
    pub data: PathBuf,
    /// eval redact: which redaction tiers run
    #[arg(long, value_enum, default_value_t = RedactTier::Default)]
    pub tier: RedactTier,
    /// eval redact: run the redaction pass this many times for the throughput figures (accuracy
    /// is scored on the first pass)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// eval redact: score another system's predictions (JSON, see `privacy::redact::eval::
    /// ExternalPrediction`) instead of running the redactor
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,
}

/// How a command failed; `main` maps it to the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage or bad input: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid: exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything else: exit code 1.
    #[error("{0}")]
    Failed(String),
}

fn command_error(err: crate::knowledge::commands::CommandError) -> CliError {
    match err {
        crate::knowledge::commands::CommandError::Usage(m) => CliError::Usage(m),
        crate::knowledge::commands::CommandError::Failed(m) => CliError::Failed(m),
    }
}

fn failed(err: impl std::fmt::Display) -> CliError {
    CliError::Failed(err.to_string())
}

/// Runs a parsed command line.
/// Loads and validates the configuration for a parsed command line, and starts logging.
pub fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let http = match &cli.command {
        Command::Run(args) => args.http.clone(),
        _ => None,
    };
    let amqp_url = match &cli.command {
        Command::Run(args) => args.queue.clone(),
        _ => None,
    };
    let overrides = CliOverrides {
        config_file: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        tenants_dir: cli.tenants.clone(),
        log_format: cli.log_format.clone(),
        log_level: cli.log_level.clone(),
        http_listen: http,
        amqp_url,
    };
    let mut config = Config::load(&overrides)?;
    if matches!(cli.command, Command::Demo) && cli.log_level.is_none() {
        // The demo prints its results; its logs would only repeat them.
        config.log_level = "error".into();
    }
    crate::ops::init_logging(config.log_json, &config.log_level);
    Ok(config)
}

/// Runs a parsed command line with its configuration.
pub async fn run(cli: Cli, config: Config) -> Result<(), CliError> {
    match cli.command {
        Command::Run(_) => run_worker(config).await,
        Command::Demo => crate::demo::run(config, cli.json).await,
        Command::Triage(args) => run_one(&config, "lead.process", "lead", &args, cli.json).await,
        Command::Suggest(args) => {
            run_one(&config, "reply.suggest", "conversation", &args, cli.json).await
        }
        Command::Erase(args) => {
            let (job_type, payload) = match (&args.contact, &args.source) {
                (Some(contact), _) => ("contact.erase", json!({"contact_id": contact})),
                (None, Some(source)) => ("source.delete", json!({"source_id": source})),
                (None, None) => ("tenant.erase", json!({})),
            };
            let job = job_json(job_type, &args.tenant, payload);
            print_outcome(execute_once(&config, job).await?, cli.json)
        }
        Command::Ingest(args) => {
            use crate::knowledge::index::IndexMode;
            let request = crate::knowledge::commands::IngestRequest {
                source: args.source,
                source_id: args.source_id,
                tenant: args.tenant,
                max_pages: args.max_pages.map(|n| n as usize),
                max_depth: args.max_depth.map(|n| n as usize),
                mode: if args.mode == "full" {
                    IndexMode::Full
                } else {
                    IndexMode::Incremental
                },
                allow_private_network: args.allow_private_network,
            };
            crate::knowledge::commands::ingest(&config, request, cli.json)
                .await
                .map(|_| ())
                .map_err(command_error)
        }
        Command::Search(args) => {
            use crate::knowledge::store::SearchMode;
            let mode = match args.mode.as_str() {
                "dense" => SearchMode::Dense,
                "bm25" => SearchMode::Bm25,
                _ => SearchMode::Hybrid,
            };
            crate::knowledge::commands::search(
                &config,
                &args.tenant,
                &args.query,
                args.limit,
                args.source.as_deref(),
                mode,
                cli.json,
            )
            .await
            .map_err(command_error)
        }
        Command::Redact(args) => redact(&config, &args, cli.json),
        Command::ExportTraining(args) => export_training(&config, &args.out).await,
        Command::Eval(args) if args.task == "retrieval" => {
            crate::eval::run_retrieval(&config, &args.data, cli.json).await
        }
        Command::Eval(args) => crate::eval::run(&config, &args, cli.json),
    }
}

/// The redactor of this configuration: name lists from the model cache when present, and the
/// model tier (unless `tier` is `Fast`) when its files are there.
pub fn redactor(config: &Config, tier: RedactTier) -> crate::privacy::redact::Redactor {
    use crate::knowledge::embed::ModelCache;
    use crate::privacy::redact::{ModelTierConfig, Redactor, RedactorConfig};
    let model = match tier {
        RedactTier::Fast => None,
        RedactTier::Default | RedactTier::Ungated => {
            ModelTierConfig::from_cache(&ModelCache::new(&config.models_dir)).map(|m| {
                ModelTierConfig {
                    gate: tier == RedactTier::Default,
                    ..m
                }
            })
        }
    };
    Redactor::new(RedactorConfig {
        name_lists_dir: Some(config.models_dir.join("names")),
        model,
        ..RedactorConfig::default()
    })
}

/// `export-training`: every opted-in tenant's stored results and chunks, redacted, as JSONL.
async fn export_training(config: &Config, out: &str) -> Result<(), CliError> {
    let tenants = TenantStore::open(&config.tenants_dir).map_err(failed)?;
    let settings: Vec<_> = tenants
        .list()
        .map_err(failed)?
        .iter()
        .filter_map(|id| tenants.get(id).ok().flatten())
        .collect();
    let jobs = RedbJobStore::open(
        &config.data_dir.join("jobs.redb"),
        config.worker.idempotency_window,
    )
    .map_err(failed)?;
    let knowledge = crate::knowledge::commands::knowledge_for(config).map_err(command_error)?;
    let stores = knowledge.all_stores().await.map_err(failed)?;
    let redactor = redactor(config, RedactTier::Default);
    let mut writer: Box<dyn std::io::Write> = if out == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(out).map_err(|err| CliError::Usage(format!("{out}: {err}")))?,
        ))
    };
    let report = crate::privacy::export::export_training(
        &settings,
        &jobs,
        &stores,
        &redactor,
        writer.as_mut(),
    )
    .await
    .map_err(failed)?;
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

/// `redact`: placeholders in the text, entities with byte offsets into the input.
fn redact(config: &Config, args: &RedactArgs, json_out: bool) -> Result<(), CliError> {
    use crate::privacy::redact::Pseudonymizer;
    let bytes = read_input(&args.input)?;
    let redacted = Pseudonymizer::new().redact_bytes(&redactor(config, args.tier), &bytes);
    if json_out {
        let out = json!({"text": redacted.text, "entities": redacted.entities});
        println!("{out}");
    } else {
        println!("{}", redacted.text);
        let counts: Vec<String> = redacted
            .counts_by_type
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        eprintln!(
            "redacted: {}",
            if counts.is_empty() {
                "nothing".into()
            } else {
                counts.join(", ")
            }
        );
    }
    Ok(())
}

/// The job families this configuration consumes.
pub fn families(config: &Config) -> Vec<Family> {
    Family::ALL
        .into_iter()
        .filter(|f| *f != Family::Test || config.worker.test_jobs)
        .collect()
}

/// Opens the stores under the data dir and builds the pipeline.
pub fn build_pipeline(config: &Config) -> Result<Arc<Pipeline>, CliError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|err| failed(format!("data dir {}: {err}", config.data_dir.display())))?;
    let tenants = Arc::new(TenantStore::open(&config.tenants_dir).map_err(failed)?);
    // Results are kept for the idempotency window, never longer than the retention period.
    let window = match config.privacy.retention {
        Some(retention) => config.worker.idempotency_window.min(retention),
        None => config.worker.idempotency_window,
    };
    let store: Arc<dyn JobStore> =
        Arc::new(RedbJobStore::open(&config.data_dir.join("jobs.redb"), window).map_err(failed)?);
    let services = Arc::new(crate::handlers::Services::new(config, store.clone()));
    spawn_expiry(store.clone(), services.clone());
    let handlers = Handlers::new(tenants.clone(), services);
    Ok(Arc::new(Pipeline::new(
        config.worker.clone(),
        tenants,
        store,
        handlers,
    )))
}

/// The retention sweep: removes job results older than the idempotency window (capped by
/// `privacy.retention_days`) and audit day files older than the retention period.
fn spawn_expiry(store: Arc<dyn JobStore>, services: Arc<crate::handlers::Services>) {
    let config = services.config().privacy.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(config.retention_sweep);
        loop {
            every.tick().await;
            match store.expire().await {
                Ok(removed) => tracing::info!(event = "job_store_expired", removed),
                Err(err) => tracing::warn!(event = "job_store_expiry_failed", error = %err),
            }
            if let Some(retention) = config.retention {
                match services.audit().expire(retention) {
                    Ok(removed) => tracing::info!(event = "audit_expired", day_files = removed),
                    Err(err) => tracing::warn!(event = "audit_expiry_failed", error = %err),
                }
            }
        }
    });
}

async fn run_worker(config: Config) -> Result<(), CliError> {
    let metrics = crate::ops::init_metrics();
    let pipeline = build_pipeline(&config)?;
    let queue: Arc<dyn Queue> = match &config.amqp.url {
        Some(_) => connect_amqp(&config).await?,
        None => Arc::new(StdioQueue::stdio(
            config.data_dir.clone(),
            config.worker.max_body_bytes,
        )),
    };
    let stop = tokio_util::sync::CancellationToken::new();
    if let Some(addr) = config.http_listen {
        let queue = queue.clone();
        let stop = stop.clone();
        let listener =
            crate::ops::serve(addr, metrics, queue, async move { stop.cancelled().await });
        tokio::spawn(async move {
            if let Err(err) = listener.await {
                tracing::error!(event = "ops_http_failed", error = %err);
            }
        });
    }
    tracing::info!(event = "worker_started", families = ?families(&config), data_dir = %config.data_dir.display());
    let worker = Worker::new(
        queue,
        pipeline,
        &config.worker.concurrency,
        config.worker.drain_timeout,
    );
    let stopped = worker.run(shutdown_signal()).await;
    stop.cancel();
    tracing::info!(event = "worker_stopped", outcome = ?stopped);
    match stopped {
        Stopped::InputEnded | Stopped::Drained | Stopped::Requeued(_) => Ok(()),
    }
}

#[cfg(feature = "amqp")]
async fn connect_amqp(config: &Config) -> Result<Arc<dyn Queue>, CliError> {
    let queue = crate::queue::amqp::AmqpQueue::connect(&config.amqp, families(config))
        .await
        .map_err(failed)?;
    let queue = Arc::new(queue);
    let poller = Arc::downgrade(&queue);
    let every = config.amqp.depth_poll;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            let Some(queue) = poller.upgrade() else {
                return;
            };
            for (name, depth) in queue.depths().await {
                metrics::gauge!("jambo_queue_depth", "queue" => name).set(f64::from(depth));
            }
        }
    });
    Ok(queue)
}

#[cfg(not(feature = "amqp"))]
async fn connect_amqp(_config: &Config) -> Result<Arc<dyn Queue>, CliError> {
    Err(CliError::Usage(
        "this build has no RabbitMQ support (feature `amqp`)".into(),
    ))
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn job_json(job_type: &str, tenant: &str, payload: Value) -> Value {
    json!({
        "v": 1,
        "id": format!("cli-{:016x}", rand::random::<u64>()),
        "type": job_type,
        "tenant_id": tenant,
        "payload": payload,
    })
}

fn read_input(input: &str) -> Result<Vec<u8>, CliError> {
    if input == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map_err(failed)?;
        Ok(bytes)
    } else {
        std::fs::read(input).map_err(|err| CliError::Usage(format!("{input}: {err}")))
    }
}

/// `triage` and `suggest`: accept the inner object or a whole job, run it once.
async fn run_one(
    config: &Config,
    job_type: &str,
    key: &str,
    args: &JobInputArgs,
    json_out: bool,
) -> Result<(), CliError> {
    let bytes = read_input(&args.input)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|err| CliError::Usage(format!("{}: invalid JSON: {err}", args.input)))?;
    let job = if value.get("type").is_some() && value.get("payload").is_some() {
        value
    } else {
        job_json(job_type, &args.tenant, json!({ key: value }))
    };
    print_outcome(execute_once(config, job).await?, json_out)
}

async fn execute_once(config: &Config, job: Value) -> Result<crate::pipeline::Executed, CliError> {
    let pipeline = build_pipeline(config)?;
    let message = Message::new(serde_json::to_vec(&job).map_err(failed)?);
    pipeline
        .execute(&message, &Discard)
        .await
        .map_err(|failure| {
            let error = failure.error;
            let bad_input = matches!(
                error,
                JobError::TooLarge { .. }
                    | JobError::InvalidUtf8 { .. }
                    | JobError::InvalidJson(_)
                    | JobError::Invalid(_)
                    | JobError::UnsupportedVersion(_)
                    | JobError::UnknownType(_)
                    | JobError::UnknownTenant(_)
            );
            if bad_input {
                CliError::Usage(error.to_string())
            } else {
                CliError::Failed(error.to_string())
            }
        })
}

fn print_outcome(executed: crate::pipeline::Executed, json_out: bool) -> Result<(), CliError> {
    let text = if json_out {
        serde_json::to_string(&executed.event)
    } else {
        serde_json::to_string_pretty(&executed.event)
    }
    .map_err(failed)?;
    println!("{text}");
    Ok(())
}
