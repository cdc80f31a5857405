//! Configuration: the raw layered form (defaults, then the `--config` TOML file, then
//! `JAMBO__SECTION__KEY` environment variables, then CLI flags) and the resolved form the rest of
//! the worker uses, validated at start with errors that name the bad key.
//!
//! Secrets (the AMQP password, API keys) are read only from the environment or from a file named
//! in the config, never from the config file itself, and are never printed: [`Secret`] hides them
//! in `Debug` output and [`redact_url`] strips them from URLs before logging.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::contract::job::Family;

/// Environment variables that carry secrets: read directly, kept out of the layered config.
const SECRET_ENV: [&str; 4] = [
    "AMQP__PASSWORD",
    "OPENAI__API_KEY",
    "STORE__API_KEY",
    "STATE__PASSWORD",
];

/// Why the configuration cannot be used. The message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Invalid(String),
    #[error("config: {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A secret string: shown as `***` in debug output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The configuration as parsed from file and environment, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub data_dir: PathBuf,
    pub tenants_dir: Option<PathBuf>,
    pub log: RawLog,
    pub http: RawHttp,
    pub amqp: RawAmqp,
    pub worker: RawWorker,
    pub openai: RawOpenAi,
    /// More chat providers by name, besides `[openai]` (a tenant's `ai.providers` chain names
    /// them).
    pub providers: BTreeMap<String, RawProvider>,
    pub privacy: RawPrivacy,
    pub knowledge: RawKnowledge,
    pub models: RawModels,
    pub store: RawStore,
    pub state: RawState,
}

/// `[state]`: where the idempotency records, results and tenant settings live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawState {
    /// `embedded` (files under the data dir, one process each) or `postgres` (shared by
    /// replicas).
    pub backend: String,
    /// `postgres://user@host:5432/db`; the password from `JAMBO__STATE__PASSWORD`,
    /// `password_file` or the URL.
    pub url: Option<String>,
    pub password_file: Option<PathBuf>,
    /// The schema of the tables (created when missing).
    pub schema: String,
    /// Connections per replica.
    pub pool_size: usize,
    /// How long a replica's claim on a running job lasts before another may take it over.
    pub claim_lease_secs: u64,
}

impl Default for RawState {
    fn default() -> Self {
        RawState {
            backend: "embedded".into(),
            url: None,
            password_file: None,
            schema: "public".into(),
            pool_size: 8,
            claim_lease_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawModels {
    /// The model cache shared by every data dir (weights, tokenizers, name lists), filled by
    /// `scripts/fetch-models.sh`. Default: `$JAMBO_MODEL_CACHE`, else
    /// `$XDG_CACHE_HOME/jambo-worker/models`, else `~/.cache/jambo-worker/models`.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter such as `info` or `jambo_worker=debug,lapin=warn`.
    pub level: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHttp {
    /// Address of the ops endpoint (`/healthz`, `/readyz`, `/metrics`); off when unset.
    pub listen: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAmqp {
    /// Broker URL, `amqp://user@host:5672/vhost`. The password belongs in `JAMBO__AMQP__PASSWORD`
    /// or `password_file`, or in the `--queue` URL.
    pub url: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Prepended to every exchange and queue name, so deployments and tests never collide.
    pub prefix: String,
    /// Unacknowledged deliveries per job-family channel.
    pub prefetch: u16,
    /// Attempts before a failing job is dead-lettered (1 = no retry).
    pub max_attempts: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Longest pause between reconnection attempts when the broker is gone.
    pub reconnect_max_ms: u64,
    /// How often queue depths are read for the metrics.
    pub depth_poll_secs: u64,
    /// How long to wait for a publisher confirm before the publish counts as failed.
    pub confirm_timeout_ms: u64,
    /// `classic` or `quorum` for the job queues (quorum: replicated on a cluster, and a message
    /// delivered more than `delivery_limit` times without an ack is dead-lettered).
    pub queue_type: String,
    /// Deliveries of one message a quorum queue allows before it dead-letters it.
    pub delivery_limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWorker {
    pub max_body_bytes: usize,
    /// On SIGTERM, how long in-flight jobs may take before they are requeued.
    pub drain_timeout_secs: u64,
    /// How long a finished job's result is kept to answer redeliveries.
    pub idempotency_window_hours: u64,
    /// Accept the synthetic `test.work` job type (tests and benchmarks only).
    pub test_jobs: bool,
    /// Jobs of one family processed at once, by family name.
    pub concurrency: BTreeMap<String, usize>,
    /// Threads of the async runtime (I/O: queue, HTTP, stores). CPU-heavy work (models) runs on
    /// its own pools, so one thread is enough and avoids cross-thread wake-ups; 0 = one per core.
    pub async_threads: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOpenAi {
    pub base_url: Option<String>,
    /// Chat model.
    pub model: Option<String>,
    pub api_key_file: Option<PathBuf>,
    /// Embeddings model (`/v1/embeddings`).
    pub embedding_model: String,
    /// Requested embedding size (for models that can shorten their vectors); model default if 0.
    pub embedding_dimensions: u32,
    /// Texts per `/v1/embeddings` request.
    pub embedding_batch: usize,
    /// Whole-call timeout. The client does not retry: a failed call goes to the next provider
    /// of the tenant's chain (or the local engine), and a `Retry-After` on a 429 or 503 keeps
    /// this provider out of every chain for that long (at most 10 minutes).
    pub timeout_secs: u64,
    /// A model per call (`triage`, `reply`), else `model`.
    pub models: BTreeMap<String, String>,
}

/// `[providers.<name>]`: one more OpenAI-compatible chat provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawProvider {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// The environment variable that holds its API key.
    pub api_key_env: Option<String>,
    pub api_key_file: Option<PathBuf>,
    /// Whole-call timeout (60 s when 0).
    pub timeout_secs: u64,
    /// A model per call (`triage`, `reply`), else `model`.
    pub models: BTreeMap<String, String>,
}

impl Default for RawOpenAi {
    fn default() -> Self {
        RawOpenAi {
            base_url: None,
            model: None,
            api_key_file: None,
            embedding_model: "text-embedding-3-small".into(),
            embedding_dimensions: 0,
            embedding_batch: 64,
            timeout_secs: 60,
            models: BTreeMap::new(),
        }
    }
}

/// `[knowledge]`: crawling and indexing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawKnowledge {
    /// Let crawls reach loopback, private and link-local addresses (an intranet help center,
    /// tests). Off by default: customer-supplied URLs must not reach internal services.
    pub allow_private_network: bool,
    /// The folder `source.reindex` jobs may read files from (`source.path` must lie inside it).
    /// Unset: jobs may not read local files at all (the `ingest` command may, it is the
    /// operator's own shell).
    pub files_root: Option<PathBuf>,
}

/// `[privacy]`: audit and retention.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPrivacy {
    /// Days stored job results and audit records are kept (0 keeps them forever).
    pub retention_days: u64,
    /// How often the retention sweep runs, in minutes.
    pub retention_sweep_minutes: u64,
}

impl Default for RawPrivacy {
    fn default() -> Self {
        RawPrivacy {
            retention_days: 30,
            retention_sweep_minutes: 60,
        }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            data_dir: PathBuf::from("./data"),
            tenants_dir: None,
            log: RawLog::default(),
            http: RawHttp::default(),
            amqp: RawAmqp::default(),
            worker: RawWorker::default(),
            openai: RawOpenAi::default(),
            providers: BTreeMap::new(),
            privacy: RawPrivacy::default(),
            knowledge: RawKnowledge::default(),
            models: RawModels::default(),
            store: RawStore::default(),
            state: RawState::default(),
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl Default for RawAmqp {
    fn default() -> Self {
        RawAmqp {
            url: None,
            password_file: None,
            prefix: String::new(),
            prefetch: 64,
            max_attempts: 5,
            retry_base_ms: 1_000,
            retry_max_ms: 60_000,
            reconnect_max_ms: 30_000,
            depth_poll_secs: 15,
            confirm_timeout_ms: 30_000,
            queue_type: "classic".into(),
            delivery_limit: 20,
        }
    }
}

impl Default for RawWorker {
    fn default() -> Self {
        let concurrency = [
            ("lead", 32),
            ("reply", 4),
            ("source", 1),
            ("contact", 2),
            ("tenant", 1),
            ("test", 64),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        RawWorker {
            max_body_bytes: 1 << 20,
            drain_timeout_secs: 30,
            idempotency_window_hours: 24 * 7,
            test_jobs: false,
            concurrency,
            async_threads: 1,
        }
    }
}

/// Flags given on the command line; they win over file and environment.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub tenants_dir: Option<PathBuf>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub http_listen: Option<String>,
    pub amqp_url: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub tenants_dir: PathBuf,
    pub log_json: bool,
    pub log_level: String,
    pub http_listen: Option<SocketAddr>,
    pub amqp: AmqpConfig,
    pub worker: WorkerConfig,
    pub openai: OpenAiConfig,
    /// The chat providers besides `openai`, by name (`[providers.<name>]`).
    pub providers: Vec<ChatProvider>,
    pub privacy: PrivacyConfig,
    /// `knowledge.allow_private_network`.
    pub knowledge_allow_private_network: bool,
    /// `knowledge.files_root`.
    pub knowledge_files_root: Option<PathBuf>,
    /// The model cache (see [`RawModels::dir`]).
    pub models_dir: PathBuf,
    pub store: StoreConfig,
    pub state: StateConfig,
}

/// Where the shared state lives.
#[derive(Debug, Clone, Default)]
pub enum StateConfig {
    /// Files under the data dir (the job store) and the tenants folder.
    #[default]
    Embedded,
    Postgres {
        /// The URL as given (log it with [`redact_url`]).
        url: String,
        password: Option<Secret>,
        schema: String,
        pool_size: usize,
        claim_lease: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// The broker URL as given (it may hold a password: log it with [`redact_url`]).
    pub url: Option<String>,
    pub password: Option<Secret>,
    pub prefix: String,
    pub prefetch: u16,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub reconnect_max: Duration,
    pub depth_poll: Duration,
    pub confirm_timeout: Duration,
    /// `Some(delivery limit)` when the job queues are quorum queues.
    pub quorum: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub async_threads: usize,
    pub max_body_bytes: usize,
    pub drain_timeout: Duration,
    pub idempotency_window: Duration,
    pub test_jobs: bool,
    pub concurrency: BTreeMap<Family, usize>,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct OpenAiConfig {
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub embedding_model: String,
    pub embedding_dimensions: Option<u32>,
    pub embedding_batch: usize,
    pub timeout: Duration,
    /// A model per call (`triage`, `reply`), else `model`.
    pub models: BTreeMap<String, String>,
}

/// One more OpenAI-compatible chat provider (`[providers.<name>]`).
#[derive(Debug, Clone, Default)]
pub struct ChatProvider {
    pub name: String,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub timeout: Duration,
    pub models: BTreeMap<String, String>,
}

impl OpenAiConfig {
    /// The `[openai]` section as a chat provider named `openai`.
    pub fn as_chat_provider(&self) -> ChatProvider {
        ChatProvider {
            name: "openai".into(),
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key: self.api_key.clone(),
            timeout: self.timeout,
            models: self.models.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PrivacyConfig {
    /// How long job results and audit records are kept; `None` keeps them.
    pub retention: Option<Duration>,
    pub retention_sweep: Duration,
}

impl Config {
    /// Loads defaults, the config file, the environment and the CLI flags, in that order, and
    /// validates the result.
    pub fn load(cli: &CliOverrides) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Config::load_from(cli, &env)
    }

    /// As [`Config::load`], with the environment given as a list of variables (for tests).
    pub fn load_from(cli: &CliOverrides, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let var = |name: &str| {
            env.iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(path) = &cli.config_file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                path: path.clone(),
                source,
            })?;
            refuse_secrets_in_file(path, &text)?;
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(Serialized::defaults(env_overrides(env)));
        let mut raw: RawConfig = figment
            .extract()
            .map_err(|err| ConfigError::Invalid(figment_message(err)))?;
        cli.apply(&mut raw);
        let password = secret_from(
            var("JAMBO__AMQP__PASSWORD"),
            raw.amqp.password_file.as_deref(),
        )?;
        let api_key = secret_from(
            var("JAMBO__OPENAI__API_KEY").or_else(|| var("OPENAI_API_KEY")),
            raw.openai.api_key_file.as_deref(),
        )?;
        let default_models = var("JAMBO_MODEL_CACHE")
            .map(PathBuf::from)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("jambo-worker/models")))
            .or_else(|| var("HOME").map(|d| PathBuf::from(d).join(".cache/jambo-worker/models")))
            .unwrap_or_else(|| PathBuf::from(".cache/jambo-worker/models"));
        if raw.models.dir.is_none() {
            raw.models.dir = Some(default_models);
        }
        let raw_providers = raw.providers.clone();
        let raw_state = raw.state.clone();
        let mut config = resolve(raw, password, api_key)?;
        config.providers = resolve_providers(&raw_providers, &var)?;
        config.state = resolve_state(&raw_state, var("JAMBO__STATE__PASSWORD"))?;
        config.store.api_key = var("JAMBO__STORE__API_KEY")
            .or_else(|| var("QDRANT_API_KEY"))
            .map(Secret);
        if config.openai.base_url.is_none() {
            config.openai.base_url = var("OPENAI_BASE_URL");
        }
        if config.openai.model.is_none() {
            config.openai.model = var("OPENAI_MODEL");
        }
        Ok(config)
    }
}

/// `JAMBO__SECTION__KEY=value` variables as a nested JSON object. A value is read as a number or
/// a boolean where the default at that key is one, so `JAMBO__AMQP__PREFETCH=8` is a number and
/// `JAMBO__AMQP__PREFIX=123` stays a string.
fn env_overrides(env: &[(String, String)]) -> serde_json::Value {
    use serde_json::Value;
    let defaults = serde_json::to_value(RawConfig::default()).unwrap_or(Value::Null);
    let mut root = Value::Object(serde_json::Map::new());
    for (key, value) in env {
        let Some(name) = key.strip_prefix("JAMBO__") else {
            continue;
        };
        if SECRET_ENV.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        let path: Vec<String> = name.split("__").map(str::to_ascii_lowercase).collect();
        let default = path.iter().try_fold(&defaults, |node, k| node.get(k));
        let typed = match default {
            Some(Value::Bool(_)) => value
                .parse()
                .map(Value::Bool)
                .unwrap_or_else(|_| Value::String(value.clone())),
            Some(Value::Number(_)) | None => value
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(value.clone())),
            Some(_) => Value::String(value.clone()),
        };
        let mut node = &mut root;
        for (i, k) in path.iter().enumerate() {
            let Value::Object(map) = node else { break };
            if i + 1 == path.len() {
                map.insert(k.clone(), typed.clone());
                break;
            }
            node = map
                .entry(k.clone())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
        }
    }
    root
}

impl CliOverrides {
    fn apply(&self, raw: &mut RawConfig) {
        if let Some(dir) = &self.data_dir {
            raw.data_dir = dir.clone();
        }
        if let Some(dir) = &self.tenants_dir {
            raw.tenants_dir = Some(dir.clone());
        }
        if let Some(format) = &self.log_format {
            raw.log.format = format.clone();
        }
        if let Some(level) = &self.log_level {
            raw.log.level = level.clone();
        }
        if let Some(listen) = &self.http_listen {
            raw.http.listen = Some(listen.clone());
        }
        if let Some(url) = &self.amqp_url {
            raw.amqp.url = Some(url.clone());
        }
    }
}

fn figment_message(err: figment::Error) -> String {
    // figment names the key ("for key \"default.amqp.prefetch\""); drop its profile prefix.
    err.to_string().replace("\"default.", "\"")
}

/// The config file is often committed or shared; secrets in it are refused.
fn refuse_secrets_in_file(path: &Path, text: &str) -> Result<(), ConfigError> {
    let value: toml::Table = toml::from_str(text)
        .map_err(|err| ConfigError::Invalid(format!("{}: {err}", path.display())))?;
    let section = |name: &str| value.get(name).and_then(toml::Value::as_table);
    let has = |name: &str, key: &str| section(name).is_some_and(|t| t.contains_key(key));
    if has("amqp", "password") {
        return Err(ConfigError::Invalid(
            "amqp.password: secrets are not read from the config file; set JAMBO__AMQP__PASSWORD or amqp.password_file".into(),
        ));
    }
    if has("openai", "api_key") {
        return Err(ConfigError::Invalid(
            "openai.api_key: secrets are not read from the config file; set JAMBO__OPENAI__API_KEY or openai.api_key_file".into(),
        ));
    }
    if has("state", "password") {
        return Err(ConfigError::Invalid(
            "state.password: secrets are not read from the config file; set JAMBO__STATE__PASSWORD or state.password_file".into(),
        ));
    }
    if has("store", "api_key") {
        return Err(ConfigError::Invalid(
            "store.api_key: secrets are not read from the config file; set JAMBO__STORE__API_KEY or QDRANT_API_KEY".into(),
        ));
    }
    if let Some(url) = section("amqp")
        .and_then(|t| t.get("url"))
        .and_then(toml::Value::as_str)
        && url_password(url).is_some()
    {
        return Err(ConfigError::Invalid(
            "amqp.url: the URL in the config file carries a password; set JAMBO__AMQP__PASSWORD or amqp.password_file".into(),
        ));
    }
    if let Some(url) = section("state")
        .and_then(|t| t.get("url"))
        .and_then(toml::Value::as_str)
        && url_password(url).is_some()
    {
        return Err(ConfigError::Invalid(
            "state.url: the URL in the config file carries a password; set JAMBO__STATE__PASSWORD or state.password_file".into(),
        ));
    }
    Ok(())
}

fn secret_from(value: Option<String>, file: Option<&Path>) -> Result<Option<Secret>, ConfigError> {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        return Ok(Some(Secret(value)));
    }
    let Some(path) = file else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(Secret(text.trim().to_owned())))
}

fn resolve(
    raw: RawConfig,
    password: Option<Secret>,
    api_key: Option<Secret>,
) -> Result<Config, ConfigError> {
    let bad = |key: &str, why: &str| ConfigError::Invalid(format!("{key}: {why}"));
    let log_json = match raw.log.format.as_str() {
        "text" => false,
        "json" => true,
        _ => return Err(bad("log.format", "must be \"text\" or \"json\"")),
    };
    let http_listen = raw
        .http
        .listen
        .as_deref()
        .map(|addr| addr.parse::<SocketAddr>())
        .transpose()
        .map_err(|_| bad("http.listen", "must be an address such as 127.0.0.1:9464"))?;

    let a = &raw.amqp;
    if let Some(url) = &a.url
        && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
    {
        return Err(bad("amqp.url", "must start with amqp:// or amqps://"));
    }
    let prefix_ok = a.prefix.len() <= 64
        && a.prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !prefix_ok {
        return Err(bad(
            "amqp.prefix",
            "must be at most 64 characters of a-z, A-Z, 0-9, '.', '_' and '-'",
        ));
    }
    if a.prefetch == 0 {
        return Err(bad("amqp.prefetch", "must be at least 1"));
    }
    if a.max_attempts == 0 || a.max_attempts > 20 {
        return Err(bad("amqp.max_attempts", "must be between 1 and 20"));
    }
    if a.retry_base_ms == 0 {
        return Err(bad("amqp.retry_base_ms", "must be at least 1"));
    }
    if a.retry_max_ms < a.retry_base_ms {
        return Err(bad(
            "amqp.retry_max_ms",
            "must be at least amqp.retry_base_ms",
        ));
    }
    if a.reconnect_max_ms == 0 || a.depth_poll_secs == 0 || a.confirm_timeout_ms == 0 {
        return Err(bad(
            "amqp",
            "reconnect_max_ms, depth_poll_secs and confirm_timeout_ms must be at least 1",
        ));
    }

    let w = &raw.worker;
    if w.max_body_bytes < 1024 {
        return Err(bad("worker.max_body_bytes", "must be at least 1024"));
    }
    if w.async_threads > 256 {
        return Err(bad("worker.async_threads", "must be at most 256"));
    }
    if w.idempotency_window_hours == 0 {
        return Err(bad("worker.idempotency_window_hours", "must be at least 1"));
    }
    let mut concurrency = BTreeMap::new();
    for family in Family::ALL {
        concurrency.insert(family, 1);
    }
    for (name, limit) in &w.concurrency {
        let family = Family::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| {
                bad(
                    &format!("worker.concurrency.{name}"),
                    "is not a job family (lead, reply, source, contact, tenant, test)",
                )
            })?;
        if *limit == 0 || *limit > 1024 {
            return Err(bad(
                &format!("worker.concurrency.{name}"),
                "must be between 1 and 1024",
            ));
        }
        concurrency.insert(family, *limit);
    }

    let tenants_dir = raw
        .tenants_dir
        .clone()
        .unwrap_or_else(|| raw.data_dir.join("tenants"));
    let retry_base = Duration::from_millis(a.retry_base_ms);
    let retry_max = Duration::from_millis(a.retry_max_ms);
    Ok(Config {
        data_dir: raw.data_dir.clone(),
        tenants_dir,
        log_json,
        log_level: raw.log.level.clone(),
        http_listen,
        amqp: AmqpConfig {
            url: a.url.clone(),
            password,
            prefix: a.prefix.clone(),
            prefetch: a.prefetch,
            max_attempts: a.max_attempts,
            retry_base,
            retry_max,
            reconnect_max: Duration::from_millis(a.reconnect_max_ms),
            depth_poll: Duration::from_secs(a.depth_poll_secs),
            confirm_timeout: Duration::from_millis(a.confirm_timeout_ms),
            quorum: match a.queue_type.as_str() {
                "classic" => None,
                "quorum" if a.delivery_limit >= 1 => Some(a.delivery_limit),
                "quorum" => {
                    return Err(ConfigError::Invalid(
                        "amqp.delivery_limit: must be at least 1".into(),
                    ));
                }
                other => {
                    return Err(ConfigError::Invalid(format!(
                        "amqp.queue_type: {other:?} is not \"classic\" or \"quorum\""
                    )));
                }
            },
        },
        worker: WorkerConfig {
            async_threads: if w.async_threads == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                w.async_threads
            },
            max_body_bytes: w.max_body_bytes,
            drain_timeout: Duration::from_secs(w.drain_timeout_secs),
            idempotency_window: Duration::from_secs(w.idempotency_window_hours * 3600),
            test_jobs: w.test_jobs,
            concurrency,
            max_attempts: a.max_attempts,
            retry_base,
            retry_max,
        },
        openai: OpenAiConfig {
            base_url: raw.openai.base_url.clone(),
            model: raw.openai.model.clone(),
            api_key,
            embedding_model: raw.openai.embedding_model.clone(),
            embedding_dimensions: (raw.openai.embedding_dimensions > 0)
                .then_some(raw.openai.embedding_dimensions),
            embedding_batch: raw.openai.embedding_batch.max(1),
            timeout: Duration::from_secs(raw.openai.timeout_secs.max(1)),
            models: raw.openai.models.clone(),
        },
        providers: Vec::new(),
        knowledge_allow_private_network: raw.knowledge.allow_private_network,
        knowledge_files_root: raw.knowledge.files_root.clone(),
        privacy: PrivacyConfig {
            retention: (raw.privacy.retention_days > 0)
                .then(|| Duration::from_secs(raw.privacy.retention_days * 86_400)),
            retention_sweep: Duration::from_secs(raw.privacy.retention_sweep_minutes.max(1) * 60),
        },
        models_dir: raw.models.dir.clone().unwrap_or_default(),
        store: resolve_store(&raw.store)?,
        state: StateConfig::Embedded,
    })
}

// ---- [store]: the vector store backend -------------------------------------------------------

/// `[store]` as parsed. The Qdrant API key is a secret: only from `JAMBO__STORE__API_KEY` or
/// `QDRANT_API_KEY`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStore {
    /// `edge` (embedded qdrant-edge under `<data_dir>/vectors`) or `qdrant` (a server).
    pub backend: String,
    /// The Qdrant server's gRPC URL, e.g. `http://127.0.0.1:6334` (backend `qdrant` only).
    pub url: Option<String>,
    /// The collection on the Qdrant server.
    pub collection: String,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            backend: "edge".into(),
            url: None,
            collection: "jambo_chunks".into(),
        }
    }
}

/// Which vector store backend the worker uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreBackend {
    #[default]
    Edge,
    Qdrant,
}

/// The validated `[store]` section.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    pub backend: StoreBackend,
    pub url: Option<String>,
    pub collection: String,
    pub api_key: Option<Secret>,
}

/// `[state]`: the embedded default, or PostgreSQL with a URL.
fn resolve_state(raw: &RawState, password: Option<String>) -> Result<StateConfig, ConfigError> {
    match raw.backend.as_str() {
        "embedded" => Ok(StateConfig::Embedded),
        "postgres" => {
            let url = raw
                .url
                .clone()
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| {
                    ConfigError::Invalid(
                        "state.url: must be set for backend \"postgres\" (postgres://user@host:5432/db)"
                            .into(),
                    )
                })?;
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::Invalid(format!(
                    "state.url: {} is not a postgres:// URL",
                    redact_url(&url)
                )));
            }
            if raw.pool_size == 0 {
                return Err(ConfigError::Invalid(
                    "state.pool_size: must be at least 1".into(),
                ));
            }
            Ok(StateConfig::Postgres {
                url,
                password: secret_from(password, raw.password_file.as_deref())?,
                schema: raw.schema.clone(),
                pool_size: raw.pool_size,
                claim_lease: Duration::from_secs(raw.claim_lease_secs.max(1)),
            })
        }
        other => Err(ConfigError::Invalid(format!(
            "state.backend: {other:?} is not \"embedded\" or \"postgres\""
        ))),
    }
}

/// `[providers.<name>]`: each with a base URL and a model, its key from the environment
/// variable it names or its key file; `openai` is the `[openai]` section's name.
fn resolve_providers(
    raw: &BTreeMap<String, RawProvider>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ChatProvider>, ConfigError> {
    let mut out = Vec::new();
    for (name, p) in raw {
        let key = |k: &str| format!("providers.{name}.{k}");
        if name == "openai" {
            return Err(ConfigError::Invalid(format!(
                "{}: `openai` is the [openai] section; give this provider another name",
                key("base_url")
            )));
        }
        if crate::contract::tenant::validate_tenant_id(name).is_err() {
            return Err(ConfigError::Invalid(format!(
                "providers.{name}: a name of letters, digits, `-` and `_`"
            )));
        }
        if p.base_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(ConfigError::Invalid(format!(
                "{}: must be set",
                key("base_url")
            )));
        }
        if p.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            return Err(ConfigError::Invalid(format!(
                "{}: must be set",
                key("model")
            )));
        }
        for task in p.models.keys() {
            if !crate::contract::tenant::MODEL_TASKS.contains(&task.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "{}: not a call of the engine (one of {})",
                    key(&format!("models.{task}")),
                    crate::contract::tenant::MODEL_TASKS.join(", ")
                )));
            }
        }
        let from_env = match &p.api_key_env {
            Some(env) => Some(var(env).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "{}: the environment variable {env} is not set",
                    key("api_key_env")
                ))
            })?),
            None => None,
        };
        let api_key = secret_from(from_env, p.api_key_file.as_deref())?;
        out.push(ChatProvider {
            name: name.clone(),
            base_url: p.base_url.clone(),
            model: p.model.clone(),
            api_key,
            timeout: Duration::from_secs(if p.timeout_secs == 0 {
                60
            } else {
                p.timeout_secs
            }),
            models: p.models.clone(),
        });
    }
    Ok(out)
}

fn resolve_store(raw: &RawStore) -> Result<StoreConfig, ConfigError> {
    let bad = |key: &str, why: &str| ConfigError::Invalid(format!("{key}: {why}"));
    let backend = match raw.backend.as_str() {
        "edge" => StoreBackend::Edge,
        "qdrant" => StoreBackend::Qdrant,
        _ => return Err(bad("store.backend", "must be \"edge\" or \"qdrant\"")),
    };
    if let Some(url) = &raw.url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(bad("store.url", "must start with http:// or https://"));
    }
    if backend == StoreBackend::Qdrant && raw.url.is_none() {
        return Err(bad(
            "store.url",
            "is required when store.backend = \"qdrant\"",
        ));
    }
    let collection_ok = !raw.collection.is_empty()
        && raw.collection.len() <= 255
        && raw
            .collection
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !collection_ok {
        return Err(bad(
            "store.collection",
            "must be 1 to 255 characters of a-z, A-Z, 0-9, '.', '_' and '-'",
        ));
    }
    Ok(StoreConfig {
        backend,
        url: raw.url.clone(),
        collection: raw.collection.clone(),
        api_key: None,
    })
}

/// The password in a URL's userinfo, if any.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password)
}

/// The URL with any password replaced by `***`, safe to log.
pub fn redact_url(url: &str) -> String {
    match url_password(url) {
        Some(password) if !password.is_empty() => {
            url.replacen(&format!(":{password}@"), ":***@", 1)
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let mut cli = CliOverrides::default();
        if let Some(text) = file {
            let path = dir.path().join("jambo.toml");
            std::fs::write(&path, text).unwrap();
            cli.config_file = Some(path);
        }
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_from(&cli, &env)
    }

    #[test]
    fn defaults_are_valid() {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.worker.max_body_bytes, 1 << 20);
        assert_eq!(config.worker.concurrency[&Family::Lead], 32);
    }

    #[test]
    fn file_values_apply_and_bad_keys_are_named() {
        let config = load(Some("[amqp]\nprefix = \"t1.\"\nprefetch = 5\n"), &[]).unwrap();
        assert_eq!(config.amqp.prefix, "t1.");
        assert_eq!(config.amqp.prefetch, 5);

        let err = load(Some("[amqp]\nprefech = 5\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("prefech"), "{err}");
        let err = load(Some("[amqp]\nprefetch = \"many\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("amqp.prefetch"), "{err}");
        let err = load(Some("[worker.concurrency]\nleads = 2\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.concurrency.leads"), "{err}");
        let err = load(Some("[log]\nformat = \"xml\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("log.format"), "{err}");
    }

    #[test]
    fn secrets_come_only_from_env_or_file() {
        let err = load(Some("[amqp]\nurl = \"amqp://u:p@h/%2f\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("amqp.url") && !err.contains(":p@"), "{err}");
        let err = load(Some("[openai]\napi_key = \"sk-x\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("openai.api_key") && !err.contains("sk-x"),
            "{err}"
        );
        let config = load(
            None,
            &[
                ("JAMBO__AMQP__PASSWORD", "s3cret"),
                ("OPENAI_API_KEY", "sk-1"),
            ],
        )
        .unwrap();
        let env = load(
            None,
            &[
                ("JAMBO__AMQP__PREFETCH", "7"),
                ("JAMBO__AMQP__PREFIX", "123"),
                ("JAMBO__WORKER__TEST_JOBS", "true"),
            ],
        )
        .unwrap();
        assert_eq!(
            (
                env.amqp.prefetch,
                env.amqp.prefix.as_str(),
                env.worker.test_jobs
            ),
            (7, "123", true)
        );
        let err = load(None, &[("JAMBO__AMQP__PREFETCH", "lots")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("amqp.prefetch"), "{err}");
        assert_eq!(config.amqp.password.as_ref().unwrap().expose(), "s3cret");
        assert_eq!(format!("{:?}", config.amqp.password), "Some(***)");
        assert_eq!(config.openai.api_key.unwrap().expose(), "sk-1");
    }

    #[test]
    fn store_section_defaults_validates_and_takes_the_key_from_env_only() {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.store.backend, StoreBackend::Edge);
        assert_eq!(config.store.collection, "jambo_chunks");
        assert!(config.store.api_key.is_none());
        let config = load(
            Some("[store]\nbackend = \"qdrant\"\nurl = \"http://q:6334\"\n"),
            &[("QDRANT_API_KEY", "qk-1")],
        )
        .unwrap();
        assert_eq!(config.store.backend, StoreBackend::Qdrant);
        assert_eq!(config.store.url.as_deref(), Some("http://q:6334"));
        assert_eq!(config.store.api_key.as_ref().unwrap().expose(), "qk-1");
        let config = load(
            None,
            &[
                ("JAMBO__STORE__API_KEY", "qk-2"),
                ("QDRANT_API_KEY", "qk-1"),
                ("JAMBO__STORE__COLLECTION", "c2"),
            ],
        )
        .unwrap();
        assert_eq!(config.store.api_key.unwrap().expose(), "qk-2");
        assert_eq!(config.store.collection, "c2");
        for (file, key) in [
            ("[store]\nbackend = \"pg\"\n", "store.backend"),
            ("[store]\nbackend = \"qdrant\"\n", "store.url"),
            ("[store]\nurl = \"q:6334\"\n", "store.url"),
            ("[store]\ncollection = \"a b\"\n", "store.collection"),
            ("[store]\napi_key = \"qk-x\"\n", "store.api_key"),
        ] {
            let err = load(Some(file), &[]).unwrap_err().to_string();
            assert!(err.contains(key) && !err.contains("qk-x"), "{file}: {err}");
        }
    }

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }
}
