//! The command line: the clap types of the global options and of each command of the contract,
//! the error every command returns, and the dispatch. Each command lives in its own file and
//! asks the composition root (`app`) for what it needs; nothing here builds a part itself.

pub mod demo;
mod erase;
mod eval;
mod export;
mod ingest;
mod one_shot;
mod redact;
mod run;
mod search;
mod triage;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::app::AppError;
use crate::config::{CliOverrides, Config, ConfigError};
use crate::contract::error::JobError;
use crate::contract::job::ReindexMode;
use crate::eval::{EvalError, Task};
use crate::knowledge::index::IndexError;
use crate::knowledge::service::KnowledgeError;
use crate::knowledge::store::SearchMode;
use crate::privacy::redact::RedactTier;

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
    #[arg(long, value_enum, default_value_t = ReindexMode::Incremental)]
    pub mode: ReindexMode,
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
    #[arg(long, value_enum, default_value_t = SearchMode::Hybrid)]
    pub mode: SearchMode,
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
    #[arg(value_enum)]
    pub task: Task,
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
    /// eval triage: which part of the corpus runs (report the test part; develop on dev)
    #[arg(long, value_enum, default_value_t = crate::eval::triage::Split::Test)]
    pub split: crate::eval::triage::Split,
    /// eval triage: the engine every tenant gets (`openai` needs an OpenAI-compatible server:
    /// `OPENAI_BASE_URL`, `OPENAI_MODEL`)
    #[arg(long, value_enum, default_value_t = crate::eval::triage::EngineChoice::Local)]
    pub engine: crate::eval::triage::EngineChoice,
    /// eval triage: only the first N leads of the split (in corpus order), for slow engines
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
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
    /// The worker's own setup cannot be made ready (model files, services): exit code 2, nothing
    /// consumed.
    #[error("setup: {0}")]
    Setup(String),
    /// Anything else: exit code 1.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    fn failed(err: impl std::fmt::Display) -> CliError {
        CliError::Failed(err.to_string())
    }
}

/// A job run once from the command line: bad input is bad usage, anything else a failure.
impl From<JobError> for CliError {
    fn from(error: JobError) -> CliError {
        let message = error.to_string();
        match error {
            JobError::TooLarge { .. }
            | JobError::InvalidUtf8 { .. }
            | JobError::InvalidJson(_)
            | JobError::Invalid(_)
            | JobError::UnsupportedVersion(_)
            | JobError::UnknownType(_)
            | JobError::UnknownTenant(_) => CliError::Usage(message),
            JobError::NotImplemented(_)
            | JobError::Transient(_)
            | JobError::Storage(_)
            | JobError::Rejected(_)
            | JobError::Busy
            | JobError::RetriesExhausted { .. } => CliError::Failed(message),
        }
    }
}

/// The worker could not be built: a build without RabbitMQ asked for it is bad usage, anything
/// else a failure.
impl From<AppError> for CliError {
    fn from(error: AppError) -> CliError {
        let message = error.to_string();
        match error {
            AppError::Unsupported(_) => CliError::Usage(message),
            // the worker's own setup (stores, state database, queue) is unusable: it says so
            // at start and consumes nothing (exit 2)
            AppError::Storage(_) | AppError::Knowledge(_) | AppError::Queue(_) => {
                CliError::Setup(message)
            }
        }
    }
}

/// Bad data or a bad option is bad input; a failure of the system under evaluation is not.
impl From<EvalError> for CliError {
    fn from(error: EvalError) -> CliError {
        let message = error.to_string();
        match error {
            EvalError::Data(_) | EvalError::Input(_) => CliError::Usage(message),
            EvalError::Failed(_) => CliError::Failed(message),
        }
    }
}

/// A source the indexer refused is bad input; any other knowledge failure is not.
impl From<KnowledgeError> for CliError {
    fn from(error: KnowledgeError) -> CliError {
        let message = error.to_string();
        match error {
            KnowledgeError::Index(IndexError::InvalidSource(_)) => CliError::Usage(message),
            KnowledgeError::Index(
                IndexError::Crawl(_) | IndexError::Embed(_) | IndexError::Store(_),
            )
            | KnowledgeError::Embed(_)
            | KnowledgeError::Store(_)
            | KnowledgeError::Chunker(_) => CliError::Failed(message),
        }
    }
}

/// Loads and validates the configuration for a parsed command line, and starts logging.
pub fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let (http_listen, amqp_url) = match &cli.command {
        Command::Run(args) => (args.http.clone(), args.queue.clone()),
        Command::Demo
        | Command::Ingest(_)
        | Command::Search(_)
        | Command::Triage(_)
        | Command::Suggest(_)
        | Command::Redact(_)
        | Command::Erase(_)
        | Command::Eval(_)
        | Command::ExportTraining(_) => (None, None),
    };
    let overrides = CliOverrides {
        config_file: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        tenants_dir: cli.tenants.clone(),
        log_format: cli.log_format.clone(),
        log_level: cli.log_level.clone(),
        http_listen,
        amqp_url,
    };
    let mut config = Config::load(&overrides)?;
    if matches!(cli.command, Command::Demo) && cli.log_level.is_none() {
        // The demo prints its results; its logs would only repeat them.
        config.log_level = "error".into();
    }
    crate::runtime::ops::init_logging(config.log_json, &config.log_level);
    Ok(config)
}

/// Runs a parsed command line with its configuration.
pub async fn run(cli: Cli, config: Config) -> Result<(), CliError> {
    let json = cli.json;
    // the commands that run the local models fetch them first when they are missing, so the
    // README's first command works on a fresh machine and no job is dead-lettered for it
    let needs_models = match &cli.command {
        Command::Run(_)
        | Command::Demo
        | Command::Triage(_)
        | Command::Suggest(_)
        | Command::Ingest(_)
        | Command::Search(_) => true,
        Command::Redact(_) | Command::Erase(_) | Command::ExportTraining(_) | Command::Eval(_) => {
            false
        }
    };
    if needs_models {
        let cache = crate::models::ModelCache::new(config.models_dir.clone());
        tokio::task::spawn_blocking(move || crate::models::setup::ensure(&cache))
            .await
            .map_err(CliError::failed)?
            .map_err(|err| CliError::Setup(err.to_string()))?;
    }
    match cli.command {
        Command::Run(_) => run::run(config).await,
        Command::Demo => demo::run(config, json).await,
        Command::Triage(args) => triage::lead(&config, &args, json).await,
        Command::Suggest(args) => triage::reply(&config, &args, json).await,
        Command::Erase(args) => erase::run(&config, &args, json).await,
        Command::Ingest(args) => ingest::run(&config, args, json).await,
        Command::Search(args) => search::run(&config, &args, json).await,
        Command::Redact(args) => redact::run(&config, &args, json),
        Command::ExportTraining(args) => export::run(&config, &args.out).await,
        Command::Eval(args) => eval::run(&config, &args, json).await,
    }
}
