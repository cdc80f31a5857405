//! The one exit to external AI providers. Every embeddings or chat call leaves the process
//! through [`Gate`], which (1) refuses unless the tenant allows external AI, (2) redacts the
//! outgoing text into typed placeholders, (3) sets the provider's storage option from the
//! tenant's training consent (`store: false` unless opted in), and (4) writes a `pending` audit
//! record (no content) before any byte leaves and the outcome after; when the pending record
//! cannot be written, the call is not made.
//!
//! Chat calls go to the tenant's chain of providers (`ai.providers`, the worker's `[openai]` and
//! `[providers.<name>]`): a provider whose circuit is open (five failures in a row) or that asked
//! to wait (`Retry-After`) is skipped, a failure moves to the next one, and a tenant past its
//! daily token budget (`ai.daily_token_budget`, metered here per UTC day) gets no call at all.
//! Every call is metered per tenant and provider on `/metrics`.
//!
//! The provider client lives in the private `client` submodule: no code outside this module can
//! name it (module privacy), so no code can reach a provider without passing these four steps;
//! clippy.toml disallows the client crate's `Client` and config types everywhere else, and CI
//! runs clippy with `-D warnings`.

mod client;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::config::{ChatProvider, OpenAiConfig};
use crate::contract::tenant::{Provider, TenantSettings};
use crate::models::{EmbedError, Embedder};
use crate::privacy::audit::{AuditError, AuditLog, AuditRecord, Outcome, Purpose};
use crate::privacy::redact::{Pseudonymizer, Redactor};
use crate::state::postgres::PgState;

/// The name of the `[openai]` provider in chains, audit records and result `privacy` blocks
/// (it also serves every provider embedding).
pub const OPENAI: &str = "openai";

/// Consecutive failures that open a provider's circuit.
const BREAKER_THRESHOLD: u32 = 5;
/// How long an open circuit keeps a provider out of every chain.
const BREAKER_OPEN: Duration = Duration::from_secs(30);

/// How a provider call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderErrorKind {
    RateLimited,
    Server,
    Timeout,
    Unreachable,
    Auth,
    Client,
    BadResponse,
}

impl ProviderErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderErrorKind::RateLimited => "rate_limited",
            ProviderErrorKind::Server => "server_error",
            ProviderErrorKind::Timeout => "timeout",
            ProviderErrorKind::Unreachable => "unreachable",
            ProviderErrorKind::Auth => "auth",
            ProviderErrorKind::Client => "client_error",
            ProviderErrorKind::BadResponse => "bad_response",
        }
    }

    /// Whether a later attempt can succeed without a change of configuration.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ProviderErrorKind::RateLimited
                | ProviderErrorKind::Server
                | ProviderErrorKind::Timeout
                | ProviderErrorKind::Unreachable
        )
    }
}

/// Why the gate did not return a provider answer, and what the caller does about it.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The tenant's settings (or the worker's config) do not allow this call; nothing was sent.
    /// The caller uses the local engine instead.
    #[error("external AI refused: {0}")]
    Refused(&'static str),
    /// The call could not be audited, so it was not made. Retry the job once fixed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The provider failed after the client's retries. The caller falls back to the local
    /// engine, or retries the job when `kind.is_transient()` and no fallback exists.
    #[error("provider {kind:?}: {message}")]
    Provider {
        kind: ProviderErrorKind,
        message: String,
    },
    /// No provider of the tenant's chain may be called now (each one's circuit is open or it
    /// asked to wait); nothing was sent. The caller uses the local engine.
    #[error("no provider available: {0}")]
    Unavailable(String),
    /// The tenant used its provider tokens for the day; nothing was sent. The caller uses the
    /// local engine and says so in the result.
    #[error("daily token budget used: {used} of {budget} tokens today")]
    OverBudget { used: u64, budget: u64 },
}

/// Who is calling and why; every field ends up in the audit record.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub tenant: &'a TenantSettings,
    pub job_id: &'a str,
    pub purpose: Purpose,
}

/// What a call sent and used, for the result's `privacy` block and metering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Entities replaced before sending, by type.
    pub redactions: BTreeMap<String, u32>,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        for (kind, n) in &other.redactions {
            *self.redactions.entry(kind.clone()).or_default() += n;
        }
    }
}

/// A chat request as the caller builds it, before redaction.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// Instructions (our prompt template, rendered).
    pub system: String,
    /// The data: conversation, passages, categories, already delimited by the caller.
    pub user: String,
    /// JSON schema of the expected answer, with its name; `None` for free text.
    pub schema: Option<(String, Value)>,
    pub max_tokens: u32,
    /// The call (`triage`, `reply`): picks the model (`ai.models.<call>`, `models.<call>`).
    pub task: &'static str,
}

/// A chat answer, still pseudonymised: placeholders are restored by the caller with the job's
/// [`Pseudonymizer`] after parsing (restoring inside raw JSON could break its quoting), with
/// [`restore_json`] or [`Pseudonymizer::restore`].
#[derive(Debug, Clone)]
pub struct ChatAnswer {
    pub content: String,
    pub usage: Usage,
    /// The provider of the chain that answered, and its model.
    pub provider: String,
    pub model: String,
}

/// Opens after [`BREAKER_THRESHOLD`] consecutive failures; after [`BREAKER_OPEN`] one call may
/// try again (a success closes it, a failure opens it for another period).
#[derive(Default)]
struct CircuitBreaker {
    failures: AtomicU32,
    open_until_ms: AtomicU64,
}

impl CircuitBreaker {
    fn open_for(&self) -> Option<Duration> {
        let until = self.open_until_ms.load(Ordering::Relaxed);
        let now = client::Cooldown::now_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
        self.open_until_ms.store(0, Ordering::Relaxed);
    }

    fn failure(&self, provider: &str) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= BREAKER_THRESHOLD {
            self.open_until_ms.store(
                client::Cooldown::now_ms() + BREAKER_OPEN.as_millis() as u64,
                Ordering::Relaxed,
            );
            tracing::warn!(event = "provider_breaker_open", provider, failures = n);
        }
    }
}

/// One chat provider of the worker and its health.
struct Slot {
    config: ChatProvider,
    client: client::OpenAi,
    breaker: CircuitBreaker,
}

impl Slot {
    /// The model for this call: the tenant's choice for the call, the provider's for the call,
    /// its default model.
    fn model_for(&self, tenant: &TenantSettings, task: &str) -> Option<String> {
        tenant
            .ai
            .models
            .get(task)
            .or_else(|| self.config.models.get(task))
            .or(self.config.model.as_ref())
            .cloned()
    }
}

/// Provider tokens per tenant for the current UTC day: this process's calls, or the fleet's in
/// the shared database when there is one (then the local map mirrors its last reading).
#[derive(Default)]
struct DailyMeter {
    used: std::sync::Mutex<HashMap<String, (u64, u64)>>,
    shared: std::sync::OnceLock<PgState>,
}

impl DailyMeter {
    fn today() -> u64 {
        client::Cooldown::now_ms() / 86_400_000
    }

    fn used(&self, tenant: &str) -> u64 {
        let today = Self::today();
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.get(tenant)
            .filter(|(day, _)| *day == today)
            .map_or(0, |(_, n)| *n)
    }

    /// Today's tokens of the tenant: the fleet's when the database is shared (read now; on a
    /// failure the last reading stands), else this process's.
    async fn used_now(&self, tenant: &str) -> u64 {
        let Some(state) = self.shared.get() else {
            return self.used(tenant);
        };
        match state.tokens_today(tenant).await {
            Ok(tokens) => {
                let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
                used.insert(tenant.to_owned(), (Self::today(), tokens));
                tokens
            }
            Err(err) => {
                tracing::warn!(event = "usage_read_failed", error = %err);
                self.used(tenant)
            }
        }
    }

    /// Meters one call: in the shared database too when there is one.
    async fn record(&self, tenant: &str, provider: &str, usage: &Usage) {
        self.add(tenant, usage.prompt_tokens + usage.completion_tokens);
        if let Some(state) = self.shared.get()
            && let Err(err) = state
                .add_usage(
                    tenant,
                    provider,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                )
                .await
        {
            tracing::warn!(event = "usage_write_failed", error = %err);
        }
    }

    fn add(&self, tenant: &str, tokens: u64) {
        let today = Self::today();
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let entry = used.entry(tenant.to_owned()).or_insert((today, 0));
        if entry.0 != today {
            *entry = (today, 0);
        }
        entry.1 += tokens;
    }
}

/// The gate in front of the configured providers.
pub struct Gate {
    /// `[openai]` first when it is configured, then `[providers.<name>]` in name order.
    slots: Vec<Slot>,
    config: OpenAiConfig,
    redactor: Arc<Redactor>,
    audit: Arc<AuditLog>,
    tokens: &'static tiktoken_rs::CoreBPE,
    meter: DailyMeter,
}

impl Gate {
    /// The gate with the `[openai]` provider only.
    pub fn new(config: &OpenAiConfig, redactor: Arc<Redactor>, audit: Arc<AuditLog>) -> Gate {
        Gate::with_providers(config, &[], redactor, audit)
    }

    /// The gate with `[openai]` (when it has a base URL or an API key) and more chat providers.
    pub fn with_providers(
        config: &OpenAiConfig,
        providers: &[ChatProvider],
        redactor: Arc<Redactor>,
        audit: Arc<AuditLog>,
    ) -> Gate {
        let openai = (config.base_url.is_some() || config.api_key.is_some())
            .then(|| config.as_chat_provider());
        let slots = openai
            .into_iter()
            .chain(providers.iter().cloned())
            .map(|config| Slot {
                client: client::OpenAi::new(
                    config.base_url.as_deref(),
                    config.api_key.as_ref(),
                    config.timeout,
                ),
                config,
                breaker: CircuitBreaker::default(),
            })
            .collect();
        Gate {
            slots,
            config: config.clone(),
            redactor,
            audit,
            tokens: tiktoken_rs::cl100k_base_singleton(),
            meter: DailyMeter::default(),
        }
    }

    /// Whether any provider is configured at all.
    pub fn is_configured(&self) -> bool {
        !self.slots.is_empty()
    }

    /// Whether this tenant's content may go to an external provider: `ai.external = true`,
    /// `ai.provider = "openai"` and a provider of its chain configured.
    pub fn allows(&self, tenant: &TenantSettings) -> bool {
        self.refusal(tenant).is_none()
    }

    fn refusal(&self, tenant: &TenantSettings) -> Option<&'static str> {
        if !tenant.ai.external {
            Some("tenant setting ai.external is false")
        } else if tenant.ai.provider != Provider::Openai {
            Some("tenant setting ai.provider is not \"openai\"")
        } else if self.chain(tenant).is_empty() {
            Some("no provider of the tenant's ai.providers chain is configured")
        } else {
            None
        }
    }

    /// The tenant's chain: the providers its `ai.providers` names, in its order (unknown names
    /// are skipped), or every configured provider.
    fn chain(&self, tenant: &TenantSettings) -> Vec<&Slot> {
        if tenant.ai.providers.is_empty() {
            return self.slots.iter().collect();
        }
        tenant
            .ai
            .providers
            .iter()
            .filter_map(|name| self.slots.iter().find(|s| &s.config.name == name))
            .collect()
    }

    /// Whether some provider can chat (it has a model, for every call or for one).
    pub fn can_chat(&self) -> bool {
        self.slots
            .iter()
            .any(|s| s.config.model.is_some() || !s.config.models.is_empty())
    }

    /// Tokens this tenant used today (this process's count, or its last reading of the fleet's).
    pub fn tokens_used_today(&self, tenant: &TenantSettings) -> u64 {
        self.meter.used(&tenant.tenant_id)
    }

    /// Meters usage in the shared database from now on: calls and tokens per tenant, day and
    /// provider, and the daily token budget checked against the fleet's sum.
    pub fn share_usage(&self, state: PgState) {
        let _ = self.meter.shared.set(state);
    }

    /// The embeddings model name.
    pub fn embedding_model(&self) -> &str {
        &self.config.embedding_model
    }

    /// Embeds texts with the `[openai]` provider (one embeddings model per collection: the
    /// tenant's chain does not apply). Each text is redacted first (placeholders are consistent
    /// across the call); vectors come back in input order.
    pub async fn embed(
        &self,
        call: Call<'_>,
        texts: &[String],
    ) -> Result<(Vec<Vec<f32>>, Usage), GateError> {
        let model = self.config.embedding_model.clone();
        let slot = self.admit(call, &model).await?;
        let provider = &slot.client;
        let redactor = self.redactor.clone();
        let texts = texts.to_vec();
        let (redacted, redactions) = crate::cpu::run(move || {
            let mut pseudonymizer = Pseudonymizer::new();
            let mut redactions = BTreeMap::new();
            let redacted: Vec<String> = texts
                .iter()
                .map(|t| {
                    let r = pseudonymizer.redact(&redactor, t);
                    count_into(&mut redactions, &r.counts_by_type);
                    r.text
                })
                .collect();
            (redacted, redactions)
        })
        .await;
        let mut usage = Usage {
            redactions,
            ..Usage::default()
        };
        let call_id = self.pending(call, OPENAI, &model, &usage).await?;
        let mut vectors = Vec::with_capacity(redacted.len());
        for batch in redacted.chunks(self.config.embedding_batch.max(1)) {
            match provider
                .embed(&model, self.config.embedding_dimensions, batch)
                .await
            {
                Ok((v, u)) => {
                    vectors.extend(v);
                    usage.prompt_tokens += u.prompt_tokens;
                }
                Err(err) => {
                    self.record(call, &call_id, OPENAI, &model, &usage, Some(err.kind))
                        .await?;
                    return Err(GateError::Provider {
                        kind: err.kind,
                        message: err.message,
                    });
                }
            }
        }
        self.record(call, &call_id, OPENAI, &model, &usage, None)
            .await?;
        Ok((vectors, usage))
    }

    /// One chat completion from the first provider of the tenant's chain that answers.
    /// `system` and `user` are redacted with the job's pseudonymizer (so placeholders in the
    /// answer can be restored with it); `store` is set from the tenant's training consent.
    /// Providers whose circuit is open or that asked to wait are skipped; a failed call moves
    /// to the next provider; a tenant past its daily token budget gets no call.
    pub async fn chat(
        &self,
        call: Call<'_>,
        pseudonymizer: &mut Pseudonymizer,
        request: &ChatRequest,
    ) -> Result<ChatAnswer, GateError> {
        if let Some(reason) = self.refusal(call.tenant) {
            self.refuse(call, "", "").await?;
            return Err(GateError::Refused(reason));
        }
        if let Some(budget) = call.tenant.ai.daily_token_budget {
            let used = self.meter.used_now(&call.tenant.tenant_id).await;
            if used >= budget {
                self.refuse(call, "", "").await?;
                metrics::counter!("jambo_provider_over_budget_total",
                    "tenant" => call.tenant.tenant_id.clone())
                .increment(1);
                return Err(GateError::OverBudget { used, budget });
            }
        }
        let mut usage = Usage::default();
        // Redaction (the model tier too) is CPU work: the job's pseudonymizer goes to the
        // blocking pool and comes back with the new placeholders in it.
        let redactor = self.redactor.clone();
        let (system_in, user_in) = (request.system.clone(), request.user.clone());
        let mut taken = std::mem::take(pseudonymizer);
        let (taken, system, user) = crate::cpu::run(move || {
            let system = taken.redact(&redactor, &system_in);
            let user = taken.redact(&redactor, &user_in);
            (taken, system, user)
        })
        .await;
        *pseudonymizer = taken;
        count_into(&mut usage.redactions, &system.counts_by_type);
        count_into(&mut usage.redactions, &user.counts_by_type);
        let local_prompt_tokens = self.count(&system.text) + self.count(&user.text);
        let mut skipped: Vec<String> = Vec::new();
        let mut failed: Option<(ProviderErrorKind, String)> = None;
        for slot in self.chain(call.tenant) {
            let name = slot.config.name.as_str();
            let Some(model) = slot.model_for(call.tenant, request.task) else {
                skipped.push(format!("{name}: no model for {}", request.task));
                continue;
            };
            if let Some(wait) = slot.client.cooldown.remaining() {
                skipped.push(format!(
                    "{name}: asked to wait {}s (Retry-After)",
                    wait.as_secs().max(1)
                ));
                continue;
            }
            if let Some(open) = slot.breaker.open_for() {
                skipped.push(format!(
                    "{name}: circuit open for {}s",
                    open.as_secs().max(1)
                ));
                continue;
            }
            let mut body = json!({
                "model": model,
                "messages": [
                    {"role": "system", "content": system.text},
                    {"role": "user", "content": user.text},
                ],
                "max_completion_tokens": request.max_tokens,
                "temperature": 0.0,
                "store": call.tenant.ai.training_opt_in,
            });
            if let Some((schema_name, schema)) = &request.schema {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": schema, "strict": true},
                });
            }
            let mut attempt = Usage {
                prompt_tokens: local_prompt_tokens,
                completion_tokens: 0,
                redactions: usage.redactions.clone(),
            };
            let call_id = self.pending(call, name, &model, &attempt).await?;
            match slot.client.chat(body).await {
                Ok((content, reported)) => {
                    match reported {
                        Some(u) => {
                            attempt.prompt_tokens = u.prompt_tokens;
                            attempt.completion_tokens = u.completion_tokens;
                        }
                        None => attempt.completion_tokens = self.count(&content),
                    }
                    slot.breaker.success();
                    self.meter
                        .record(&call.tenant.tenant_id, name, &attempt)
                        .await;
                    self.record(call, &call_id, name, &model, &attempt, None)
                        .await?;
                    return Ok(ChatAnswer {
                        content,
                        usage: attempt,
                        provider: name.to_owned(),
                        model,
                    });
                }
                Err(err) => {
                    slot.breaker.failure(name);
                    self.record(call, &call_id, name, &model, &attempt, Some(err.kind))
                        .await?;
                    skipped.push(format!("{name}: {}", err.kind.as_str()));
                    failed = Some((err.kind, err.message));
                }
            }
        }
        Err(match failed {
            Some((kind, message)) => GateError::Provider {
                kind,
                message: format!("{message} (chain: {})", skipped.join("; ")),
            },
            None => GateError::Unavailable(skipped.join("; ")),
        })
    }

    /// Writes the `pending` record of a call about to be made (no content) and returns its call
    /// id. When it cannot be written the call is not made: nothing leaves unaudited.
    async fn pending(
        &self,
        call: Call<'_>,
        provider: &str,
        model: &str,
        usage: &Usage,
    ) -> Result<String, GateError> {
        let call_id = format!("{:016x}", rand::random::<u64>());
        self.audit
            .append(&AuditRecord {
                call_id: call_id.clone(),
                outcome: Outcome::Pending,
                ..self.base_record(call, provider, model, usage)
            })
            .await?;
        Ok(call_id)
    }

    /// A refusal is audited too (so a review sees attempts, not only calls).
    async fn refuse(&self, call: Call<'_>, provider: &str, model: &str) -> Result<(), GateError> {
        self.audit
            .append(&AuditRecord {
                outcome: Outcome::Refused,
                ..self.base_record(call, provider, model, &Usage::default())
            })
            .await?;
        Ok(())
    }

    /// Checks the tenant for an embeddings call, which only `[openai]` serves.
    async fn admit(&self, call: Call<'_>, model: &str) -> Result<&Slot, GateError> {
        let openai = self.slots.iter().find(|s| s.config.name == OPENAI);
        match (self.refusal(call.tenant), openai) {
            (None, Some(slot)) => Ok(slot),
            (reason, _) => {
                self.refuse(call, OPENAI, model).await?;
                Err(GateError::Refused(reason.unwrap_or(
                    "no [openai] provider is configured for embeddings",
                )))
            }
        }
    }

    async fn record(
        &self,
        call: Call<'_>,
        call_id: &str,
        provider: &str,
        model: &str,
        usage: &Usage,
        error: Option<ProviderErrorKind>,
    ) -> Result<(), AuditError> {
        let mut record = self.base_record(call, provider, model, usage);
        record.call_id = call_id.to_owned();
        if let Some(kind) = error {
            record.outcome = Outcome::Failed;
            record.error_kind = Some(kind.as_str().to_owned());
        }
        let tenant = call.tenant.tenant_id.clone();
        metrics::counter!("jambo_provider_calls_total",
            "tenant" => tenant.clone(), "provider" => provider.to_owned(),
            "outcome" => error.map_or("ok", ProviderErrorKind::as_str))
        .increment(1);
        metrics::counter!("jambo_provider_tokens_total",
            "tenant" => tenant.clone(), "provider" => provider.to_owned(), "direction" => "prompt")
        .increment(usage.prompt_tokens);
        metrics::counter!("jambo_provider_tokens_total",
            "tenant" => tenant, "provider" => provider.to_owned(), "direction" => "completion")
        .increment(usage.completion_tokens);
        self.audit.append(&record).await
    }

    fn base_record(
        &self,
        call: Call<'_>,
        provider: &str,
        model: &str,
        usage: &Usage,
    ) -> AuditRecord {
        AuditRecord {
            time: AuditLog::now(),
            call_id: String::new(),
            tenant_id: call.tenant.tenant_id.clone(),
            job_id: call.job_id.to_owned(),
            purpose: call.purpose,
            provider: provider.to_owned(),
            model: model.to_owned(),
            outcome: Outcome::Ok,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            redactions: usage.redactions.clone(),
            provider_may_store: call.tenant.ai.training_opt_in,
            error_kind: None,
        }
    }

    fn count(&self, text: &str) -> u64 {
        self.tokens.encode_ordinary(text).len() as u64
    }
}

fn count_into<K: std::fmt::Display>(into: &mut BTreeMap<String, u32>, counts: &BTreeMap<K, usize>) {
    for (kind, n) in counts {
        *into.entry(kind.to_string()).or_default() += u32::try_from(*n).unwrap_or(u32::MAX);
    }
}

/// Restores placeholders in every string of a parsed provider answer; returns how many
/// placeholder-shaped strings were not ours (replaced by a neutral word, never kept as-is).
pub fn restore_json(value: &mut Value, pseudonymizer: &Pseudonymizer) -> usize {
    match value {
        Value::String(s) => {
            let restored = pseudonymizer.restore(s);
            *s = restored.text;
            restored.unknown.len()
        }
        Value::Array(items) => items
            .iter_mut()
            .map(|v| restore_json(v, pseudonymizer))
            .sum(),
        Value::Object(map) => map
            .values_mut()
            .map(|v| restore_json(v, pseudonymizer))
            .sum(),
        _ => 0,
    }
}

/// The provider's embeddings as an [`Embedder`] for one tenant and job: every batch passes the
/// gate (refused, redacted and audited like any call).
pub struct GatedEmbedder {
    gate: Arc<Gate>,
    tenant: Arc<TenantSettings>,
    job_id: String,
    purpose: Purpose,
    model_id: String,
    dimension: usize,
    usage: std::sync::Mutex<Usage>,
}

impl GatedEmbedder {
    /// Fails when the tenant may not use the provider, or the vector size of the configured
    /// model is unknown (set `openai.embedding_dimensions`).
    pub fn new(
        gate: Arc<Gate>,
        tenant: Arc<TenantSettings>,
        job_id: &str,
        purpose: Purpose,
    ) -> Result<GatedEmbedder, GateError> {
        if let Some(reason) = gate.refusal(&tenant) {
            return Err(GateError::Refused(reason));
        }
        let dimension = openai_embedding_dimension(&gate.config).ok_or(GateError::Refused(
            "unknown vector size of openai.embedding_model: set openai.embedding_dimensions",
        ))?;
        Ok(GatedEmbedder {
            model_id: openai_embedding_model_id(&gate.config),
            gate,
            tenant,
            job_id: job_id.to_owned(),
            purpose,
            dimension,
            usage: std::sync::Mutex::new(Usage::default()),
        })
    }

    /// Everything this embedder sent so far.
    pub fn usage(&self) -> Usage {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }
}

/// The model id vectors of the configured provider model carry (vectors of different ids never
/// share a collection).
pub fn openai_embedding_model_id(config: &OpenAiConfig) -> String {
    match config.embedding_dimensions {
        Some(d) => format!("openai-{}-{d}", config.embedding_model),
        None => format!("openai-{}", config.embedding_model),
    }
}

/// The vector size of the configured embeddings model.
pub fn openai_embedding_dimension(config: &OpenAiConfig) -> Option<usize> {
    if let Some(d) = config.embedding_dimensions {
        return Some(d as usize);
    }
    match config.embedding_model.as_str() {
        "text-embedding-3-small" | "text-embedding-ada-002" => Some(1536),
        "text-embedding-3-large" => Some(3072),
        _ => None,
    }
}

#[async_trait]
impl Embedder for GatedEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn batch_size(&self) -> usize {
        self.gate.config.embedding_batch
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let call = Call {
            tenant: &self.tenant,
            job_id: &self.job_id,
            purpose: self.purpose,
        };
        let (vectors, usage) = self
            .gate
            .embed(call, texts)
            .await
            .map_err(|err| match err {
                GateError::Provider { kind, message } => EmbedError::Provider {
                    retryable: kind.is_transient(),
                    message,
                },
                GateError::Audit(err) => EmbedError::Provider {
                    retryable: true,
                    message: err.to_string(),
                },
                refused @ (GateError::Refused(_)
                | GateError::Unavailable(_)
                | GateError::OverBudget { .. }) => EmbedError::Provider {
                    retryable: false,
                    message: refused.to_string(),
                },
            })?;
        if let Some(bad) = vectors.iter().find(|v| v.len() != self.dimension) {
            return Err(EmbedError::Provider {
                retryable: false,
                message: format!(
                    "provider returned vectors of {} values, expected {}",
                    bad.len(),
                    self.dimension
                ),
            });
        }
        if let Ok(mut total) = self.usage.lock() {
            total.add(&usage);
        }
        Ok(vectors)
    }
}
