//! The OpenAI-compatible triage engine: the local engine's answer, refined task by task by a
//! chat model through the privacy gate (classify, extract, summarize, route, reply). Each answer
//! must parse and validate against its schema and the tenant's settings; an invalid one gets one
//! repair attempt, then the local answer stands and the reason is recorded in `fallbacks`.
//! A circuit breaker stops calling a provider that keeps failing, so a dead provider costs one
//! timeout per breaker period, not one per job.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::prompt::{self, RouteSignals, Task, render, split};
use super::{
    LeadJob, LocalEngine, LocalLead, ReplyJob, TriageEngine, TriageError, Triaged, lead_result,
};
use crate::contract::event::Privacy;
use crate::contract::tenant::TenantSettings;
use crate::knowledge::store::{SearchHit, SearchMode};
use crate::privacy::audit::Purpose;
use crate::privacy::gate::{Call, ChatRequest, Gate, GateError, OPENAI, Usage, restore_json};
use crate::privacy::redact::Pseudonymizer;
use crate::triage::grounding;
use crate::triage::reply::Citation;
use crate::triage::text::extract::to_e164;

/// Consecutive provider failures that open the breaker.
const BREAKER_THRESHOLD: u32 = 5;
/// How long an open breaker sends everything to the local engine.
const BREAKER_OPEN: Duration = Duration::from_secs(30);
/// Context window assumed for the configured model, in tokens.
const CONTEXT_TOKENS: usize = 16_384;

/// Opens after [`BREAKER_THRESHOLD`] consecutive failures; after [`BREAKER_OPEN`] one call may
/// try again (a success closes it, a failure opens it for another period).
#[derive(Default)]
pub struct CircuitBreaker {
    failures: AtomicU32,
    open_until_ms: AtomicU64,
}

impl CircuitBreaker {
    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    pub fn is_open(&self) -> bool {
        Self::now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    pub fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
        self.open_until_ms.store(0, Ordering::Relaxed);
    }

    pub fn failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= BREAKER_THRESHOLD {
            self.open_until_ms.store(
                Self::now_ms() + BREAKER_OPEN.as_millis() as u64,
                Ordering::Relaxed,
            );
            tracing::warn!(event = "provider_breaker_open", failures = n);
        }
    }
}

/// One job's conversation with the provider: the placeholder mapping, usage and fallbacks.
struct Session<'a> {
    gate: &'a Gate,
    breaker: &'a CircuitBreaker,
    tenant: &'a TenantSettings,
    job_id: &'a str,
    pseudonymizer: Pseudonymizer,
    usage: Usage,
    calls: u32,
    /// Tasks whose first answer was rejected and a correction asked.
    repairs: Vec<&'static str>,
    fallbacks: Vec<Value>,
}

impl<'a> Session<'a> {
    fn new(
        gate: &'a Gate,
        breaker: &'a CircuitBreaker,
        tenant: &'a TenantSettings,
        job_id: &'a str,
    ) -> Session<'a> {
        Session {
            gate,
            breaker,
            tenant,
            job_id,
            pseudonymizer: Pseudonymizer::new(),
            usage: Usage::default(),
            calls: 0,
            repairs: Vec::new(),
            fallbacks: Vec::new(),
        }
    }

    /// Asks one task; returns the parsed, validated and restored answer, or records why the
    /// local answer stands.
    async fn ask(
        &mut self,
        task: Task,
        values: &[(&str, &str)],
        max_tokens: u32,
        validate: &(dyn Fn(&Value) -> Result<(), String> + Sync),
    ) -> Option<Value> {
        if self.breaker.is_open() {
            self.fallback(task, "provider circuit breaker is open");
            return None;
        }
        let (system, user) = split(&render(task, values));
        let mut request = ChatRequest {
            system,
            user,
            schema: Some((format!("jambo_{}", task.name()), task.schema())),
            max_tokens,
        };
        let purpose = match task {
            Task::Classify => Purpose::Classify,
            Task::Extract => Purpose::Extract,
            Task::Summarize => Purpose::Summarize,
            Task::Route => Purpose::Route,
            Task::Reply => Purpose::Reply,
        };
        for attempt in 0..2 {
            let call = Call {
                tenant: self.tenant,
                job_id: self.job_id,
                purpose,
            };
            let answer = match self
                .gate
                .chat(call, &mut self.pseudonymizer, &request)
                .await
            {
                Ok(answer) => answer,
                Err(GateError::Provider { kind, .. }) => {
                    self.breaker.failure();
                    self.fallback(task, &format!("provider error: {}", kind.as_str()));
                    return None;
                }
                Err(err) => {
                    self.fallback(task, &err.to_string());
                    return None;
                }
            };
            self.breaker.success();
            self.calls += 1;
            self.usage.add(&answer.usage);
            let problem = match serde_json::from_str::<Value>(&answer.content) {
                Err(err) => format!("not JSON ({err})"),
                Ok(mut value) => match validate(&value) {
                    Ok(()) => {
                        let unknown = restore_json(&mut value, &self.pseudonymizer);
                        if unknown > 0 {
                            self.fallbacks.push(json!({
                                "task": task.name(),
                                "reason": format!("{unknown} unknown placeholder(s) replaced by neutral words"),
                            }));
                        }
                        return Some(value);
                    }
                    Err(problem) => problem,
                },
            };
            if attempt == 0 {
                self.repairs.push(task.name());
                request.user.push_str(&format!(
                    "\n\n# Correction\n\nYour previous answer was rejected: {}. Answer again with one JSON object that matches the schema and the rules.\n",
                    super::prompt::defuse(&problem)
                ));
            } else {
                self.fallback(task, &format!("invalid answer after one repair: {problem}"));
            }
        }
        None
    }

    fn fallback(&mut self, task: Task, reason: &str) {
        self.fallbacks
            .push(json!({"task": task.name(), "reason": reason, "used": "local"}));
    }

    /// The `usage` block of a result: the tokens of every call of this job.
    fn usage_json(&self) -> Value {
        json!({
            "calls": self.calls,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "repairs": self.repairs,
        })
    }

    /// Classify: the provider's category and confidence replace the local classifier's, when
    /// the tenant has categories and the answer names one of them.
    async fn classify(&mut self, tenant: &TenantSettings, lead: &LeadText, result: &mut Value) {
        let names: Vec<&str> = tenant.categories.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            return;
        }
        let validate = |v: &Value| -> Result<(), String> {
            let label = v["category"].as_str().ok_or("category is missing")?;
            if !names.contains(&label) {
                return Err(format!(
                    "category {label:?} is not one of the tenant's categories"
                ));
            }
            let c = v["confidence"].as_f64().ok_or("confidence is missing")?;
            if !(0.0..=1.0).contains(&c) {
                return Err("confidence is outside 0..1".into());
            }
            Ok(())
        };
        let categories = prompt::categories(tenant);
        if let Some(v) = self
            .ask(
                Task::Classify,
                &[("categories", &categories), ("message", &lead.message)],
                200,
                &validate,
            )
            .await
        {
            result["category"]["label"] = v["category"].clone();
            result["category"]["confidence"] = v["confidence"].clone();
        }
    }

    /// Extract: the provider's fields fill what the local extraction did not find (see
    /// [`merge_extraction`]).
    async fn extract(
        &mut self,
        fields: Option<&Map<String, Value>>,
        lead: &LeadText,
        extracted: &mut Value,
    ) {
        let validate = |v: &Value| -> Result<(), String> {
            if let Some(email) = v["email"].as_str()
                && !email.contains('@')
                && !email.starts_with("<EMAIL_")
            {
                return Err("email is not an address".into());
            }
            if let Some(amount) = v["budget_amount"].as_f64()
                && amount < 0.0
            {
                return Err("budget_amount is negative".into());
            }
            Ok(())
        };
        let fields = prompt::form_fields(fields);
        if let Some(v) = self
            .ask(
                Task::Extract,
                &[("fields", &fields), ("message", &lead.message)],
                300,
                &validate,
            )
            .await
        {
            merge_extraction(extracted, &v);
        }
    }

    /// Summarise: the provider's one-line summary replaces the local one unless it is empty,
    /// longer than 240 characters, or not grounded (`grounding::check_summary`: another
    /// language, or an e-mail, number or month the lead does not name).
    async fn summarise(
        &mut self,
        lead: &LeadText,
        evidence: &grounding::Evidence,
        result: &mut Value,
    ) {
        let validate = |v: &Value| -> Result<(), String> {
            let s = v["summary"].as_str().ok_or("summary is missing")?;
            if s.trim().is_empty() || s.chars().count() > 240 {
                return Err("summary is empty or longer than 240 characters".into());
            }
            grounding::check_summary(s, &lead.language, evidence)
        };
        if let Some(v) = self
            .ask(
                Task::Summarize,
                &[("message", &lead.message), ("language", &lead.language)],
                120,
                &validate,
            )
            .await
        {
            result["summary"] = v["summary"].clone();
        }
    }

    /// Route: the model applies the tenant's rules to the signals so far; its answer must be a
    /// configured destination, and the route is then reconciled with the rule engine's (see
    /// [`reconcile_route`]).
    async fn route(
        &mut self,
        tenant: &TenantSettings,
        lead: &LeadText,
        is_spam: bool,
        result: &mut Value,
    ) {
        let destinations = prompt::destinations(tenant);
        let rules = prompt::routing_rules(tenant);
        let signals = prompt::signals(&RouteSignals {
            category: &result["category"]["label"],
            language: &lead.language,
            spam: is_spam,
            sentiment: &result["sentiment"],
            urgency: &result["urgency"],
        });
        let allowed = tenant.destinations();
        let validate = |v: &Value| -> Result<(), String> {
            let d = v["destination"].as_str().ok_or("destination is missing")?;
            if !allowed.contains(&d) {
                return Err(format!("destination {d:?} does not exist"));
            }
            Ok(())
        };
        if let Some(v) = self
            .ask(
                Task::Route,
                &[
                    ("destinations", &destinations),
                    ("rules", &rules),
                    ("signals", &signals),
                    ("message", &lead.message),
                ],
                150,
                &validate,
            )
            .await
        {
            reconcile_route(&mut result["route"], &v);
        }
    }

    /// Assembles a lead's result: which engine answered, the fallbacks and the usage, and the
    /// privacy block.
    fn finish_lead(self, mut result: Value, pii_types: Vec<String>) -> Triaged {
        result["engine"] = json!(if self.calls > 0 { "openai" } else { "local" });
        result["fallbacks"] = json!(self.fallbacks);
        result["usage"] = self.usage_json();
        let privacy = self.privacy(pii_types);
        Triaged { result, privacy }
    }

    fn privacy(&self, pii_types: Vec<String>) -> Privacy {
        Privacy {
            redactions: self.usage.redactions.clone(),
            external_ai: self.calls > 0,
            provider: (self.calls > 0).then(|| OPENAI.to_owned()),
            training_opt_in: self.tenant.ai.training_opt_in,
            pii_types,
        }
    }
}

/// Fills the fields of the local `extracted` object that are `null` from the provider's answer,
/// at confidence 0.6 with source `model`: form fields and the contact record always win (they are
/// what the customer typed into fields), a phone counts only in E.164, a budget only with its
/// currency.
fn merge_extraction(extracted: &mut Value, answer: &Value) {
    for key in ["name", "email", "phone", "company", "website", "timeline"] {
        if extracted[key].is_null()
            && let Some(s) = answer[key].as_str().filter(|s| !s.trim().is_empty())
        {
            let value = if key == "phone" {
                match to_e164(s, None) {
                    Some(e164) => e164,
                    None => continue,
                }
            } else {
                s.to_owned()
            };
            extracted[key] = json!(value);
            extracted["confidence"][key] = json!(0.6);
            extracted["source"][key] = json!("model");
        }
    }
    if extracted["budget"].is_null()
        && let (Some(amount), Some(currency)) = (
            answer["budget_amount"].as_f64(),
            answer["budget_currency"].as_str(),
        )
    {
        extracted["budget"] = json!({"amount": amount, "currency": currency.to_uppercase()});
        extracted["confidence"]["budget"] = json!(0.6);
        extracted["source"]["budget"] = json!("model");
    }
}

/// The rule engine's route with the provider's answer: the rules' destination stands; a model
/// that suggests another one, or says it is unsure, makes the route ask a human (with the
/// disagreement as a reason).
fn reconcile_route(route: &mut Value, answer: &Value) {
    let model = answer["destination"].as_str().unwrap_or_default();
    let rules_say = route["destination"].clone();
    if rules_say.as_str() != Some(model) {
        route["needs_human"] = json!(true);
        if let Some(reasons) = route["reasons"].as_array_mut() {
            reasons.push(json!(format!(
                "the model suggests {model:?}, the routing rules say {rules_say}"
            )));
        }
    }
    if answer["needs_human"] == json!(true) {
        route["needs_human"] = json!(true);
    }
}

/// A lead as every prompt shows it.
struct LeadText {
    /// The subject, empty without one.
    subject: String,
    /// The subject and the cleaned body ([`prompt::message`]), cut to the data budget.
    message: String,
    /// The language the local engine detected.
    language: String,
}

/// What a reply is drafted for: the customer's question, the conversation it came from, the
/// sender's name when known and the language to answer in.
struct ReplyAsk<'a> {
    question: &'a str,
    conversation: &'a str,
    name: Option<&'a str>,
    language: &'a str,
}

/// The OpenAI-compatible engine.
pub struct OpenAiEngine {
    local: Arc<LocalEngine>,
    gate: Arc<Gate>,
    breaker: CircuitBreaker,
    tokens: &'static tiktoken_rs::CoreBPE,
}

impl OpenAiEngine {
    pub fn new(local: Arc<LocalEngine>, gate: Arc<Gate>) -> OpenAiEngine {
        OpenAiEngine {
            local,
            gate,
            breaker: CircuitBreaker::default(),
            tokens: tiktoken_rs::cl100k_base_singleton(),
        }
    }

    fn count(&self, text: &str) -> usize {
        self.tokens.encode_ordinary(text).len()
    }

    /// `text` cut to at most `budget` tokens (at a character boundary, with a marker).
    fn trim(&self, text: &str, budget: usize) -> String {
        if self.count(text) <= budget {
            return text.to_owned();
        }
        let mut end = text.len().min(budget * 4);
        while end > 0 && (!text.is_char_boundary(end) || self.count(&text[..end]) > budget) {
            end = text[..end]
                .char_indices()
                .map(|(i, _)| i)
                .rev()
                .nth(end / 10 + 1)
                .unwrap_or(0);
        }
        format!("{} […]", &text[..end])
    }

    /// Numbered passages within `budget` tokens, best first.
    fn passages(&self, hits: &[SearchHit], budget: usize) -> (String, usize) {
        let mut out = String::new();
        let mut used = 0;
        let mut n = 0;
        for (i, hit) in hits.iter().enumerate() {
            let block = prompt::passage(i + 1, hit);
            let cost = self.count(&block);
            if used + cost > budget {
                break;
            }
            used += cost;
            out.push_str(&block);
            n = i + 1;
        }
        (out, n)
    }

    /// Budget for inserted data: the context minus the answer and the prompt's own text.
    fn data_budget(&self, task: Task, max_tokens: u32) -> usize {
        CONTEXT_TOKENS
            .saturating_sub(max_tokens as usize)
            .saturating_sub(self.count(task.template()))
            .saturating_sub(256)
    }

    /// The local engine's analysis of the lead, without a reply (the provider drafts that).
    async fn analyse_locally(&self, job: &LeadJob<'_>) -> Result<LocalLead, TriageError> {
        self.local
            .analyse(&LeadJob {
                suggest_reply: false,
                ..*job
            })
            .await
    }

    /// The lead as the prompts show it: the message cut to half the extract prompt's data
    /// budget.
    fn lead_text(&self, job: &LeadJob<'_>, local: &LocalLead) -> LeadText {
        let subject = job.lead.subject.as_deref().unwrap_or("");
        let message = self.trim(
            &prompt::message(subject, &local.text.cleaned.body),
            self.data_budget(Task::Extract, 300) / 2,
        );
        LeadText {
            subject: subject.to_owned(),
            message,
            language: local.text.language.code.clone(),
        }
    }

    /// Reply: the `reply` object of the result, the provider's draft from the tenant's knowledge
    /// (the lead's message is the conversation), else the local engine's composed reply.
    async fn reply_to_lead(
        &self,
        session: &mut Session<'_>,
        job: &LeadJob<'_>,
        lead: &LeadText,
        body: &str,
        name: Option<&str>,
    ) -> Result<Value, TriageError> {
        let question = format!("{}\n{body}", lead.subject);
        let ask = ReplyAsk {
            question: &question,
            conversation: &lead.message,
            name,
            language: &lead.language,
        };
        match self.reply(session, job.tenant, job.job_id, ask).await? {
            Some((answer, citations)) => Ok(json!({
                "text": answer["text"], "citations": citations, "language": lead.language,
                "needs_human": answer["needs_human"], "reasons": [answer["reason"]],
            })),
            None => {
                let reply = self
                    .local
                    .reply_to(job.tenant, job.job_id, &question, name, &lead.language)
                    .await?;
                Ok(super::reply_json(&reply))
            }
        }
    }

    /// Drafts a reply grounded in the tenant's knowledge: the best passages within the data
    /// budget, an answer whose citations name shown passages (and that cites one unless it asks
    /// a human), the cited passages as citations. `None` when the provider's answer is not
    /// usable (the session records why).
    async fn reply(
        &self,
        session: &mut Session<'_>,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        ask: ReplyAsk<'_>,
    ) -> Result<Option<(Value, Vec<Citation>)>, TriageError> {
        let ReplyAsk {
            question,
            conversation,
            name,
            language,
        } = ask;
        let knowledge = self.local.knowledge();
        let (hits, _) = knowledge
            .search(tenant, job_id, question, None, 5, SearchMode::Hybrid)
            .await?;
        let budget = self.data_budget(Task::Reply, 600);
        let conversation = self.trim(conversation, budget / 3);
        let (passages, shown) =
            self.passages(&hits, budget.saturating_sub(self.count(&conversation)));
        let validate = |v: &Value| -> Result<(), String> {
            let text = v["text"].as_str().ok_or("text is missing")?;
            if text.trim().is_empty() {
                return Err("text is empty".into());
            }
            let citations = v["citations"].as_array().ok_or("citations is missing")?;
            for c in citations {
                match c.as_u64() {
                    Some(n) if n >= 1 && (n as usize) <= shown => {}
                    _ => return Err(format!("citation {c} names no passage")),
                }
            }
            if v["needs_human"] == json!(false) && citations.is_empty() {
                return Err("a reply without needs_human must cite a passage".into());
            }
            Ok(())
        };
        let Some(answer) = session
            .ask(
                Task::Reply,
                &[
                    ("passages", &passages),
                    ("conversation", &conversation),
                    ("language", language),
                    ("name", name.unwrap_or("unknown")),
                ],
                600,
                &validate,
            )
            .await
        else {
            return Ok(None);
        };
        let citations: Vec<Citation> = answer["citations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .filter_map(|n| (n as usize).checked_sub(1).and_then(|i| hits.get(i)))
            .map(|h| Citation {
                url: h.payload.url.clone(),
                title: h.payload.title.clone(),
                chunk_id: h.chunk_id.clone(),
            })
            .collect();
        Ok(Some((answer, citations)))
    }
}

#[async_trait]
impl TriageEngine for OpenAiEngine {
    fn name(&self) -> &'static str {
        "openai"
    }

    /// The local analysis, refined by the provider step by step; each step keeps the local
    /// answer when the provider's is unusable.
    async fn process_lead(&self, job: &LeadJob<'_>) -> Result<Triaged, TriageError> {
        let local = self.analyse_locally(job).await?;
        let lead = self.lead_text(job, &local);
        let mut result = lead_result(&local);
        let mut session = Session::new(&self.gate, &self.breaker, job.tenant, job.job_id);
        session.classify(job.tenant, &lead, &mut result).await;
        grounding::cross_check_category(
            &mut result,
            local
                .category
                .as_ref()
                .map(|p| (p.label.as_str(), p.confidence)),
            local.spam.is_spam,
            local.spam.score,
        );
        session
            .extract(job.lead.fields.as_ref(), &lead, &mut result["extracted"])
            .await;
        // grounded now, so the reply never greets an invented name (the engines ground the
        // whole result again at the end)
        let evidence = grounding::Evidence::of(job.lead, job.received_at);
        grounding::ground_lead(&mut result, &evidence);
        session.summarise(&lead, &evidence, &mut result).await;
        session
            .route(job.tenant, &lead, local.spam.is_spam, &mut result)
            .await;
        if job.suggest_reply && !local.spam.is_spam {
            let name = result["extracted"]["name"].as_str().map(str::to_owned);
            result["reply"] = self
                .reply_to_lead(
                    &mut session,
                    job,
                    &lead,
                    &local.text.cleaned.body,
                    name.as_deref(),
                )
                .await?;
        }
        Ok(session.finish_lead(result, local.pii_types))
    }

    async fn suggest_reply(&self, job: &ReplyJob<'_>) -> Result<Triaged, TriageError> {
        let question = job.question()?;
        let conversation = prompt::conversation(job.conversation);
        let mut session = Session::new(&self.gate, &self.breaker, job.tenant, job.job_id);
        let pii: Vec<String> = Vec::new();
        let result = match self
            .reply(
                &mut session,
                job.tenant,
                job.job_id,
                ReplyAsk {
                    question: &question.text,
                    conversation: &conversation,
                    name: question.name.as_deref(),
                    language: &question.language,
                },
            )
            .await?
        {
            Some((answer, citations)) => json!({
                "reply": {"text": answer["text"], "citations": citations},
                "language": question.language,
                "needs_human": answer["needs_human"],
                "reasons": [answer["reason"]],
                "engine": "openai",
            }),
            None => {
                let local = self.local.suggest_reply(job).await?;
                let mut result = local.result;
                result["fallbacks"] = json!(session.fallbacks);
                return Ok(Triaged {
                    result,
                    privacy: Privacy {
                        external_ai: session.calls > 0,
                        provider: (session.calls > 0).then(|| OPENAI.to_owned()),
                        redactions: session.usage.redactions.clone(),
                        ..local.privacy
                    },
                });
            }
        };
        let mut result = result;
        result["fallbacks"] = json!(session.fallbacks);
        result["usage"] = session.usage_json();
        Ok(Triaged {
            result,
            privacy: session.privacy(pii),
        })
    }
}
