//! The OpenAI-compatible triage engine: the local engine's answer, refined by a chat model
//! through the privacy gate in one call per lead (`triage`: category, contact and deal fields,
//! summary and route together) and one per reply. Each answer must parse and validate against
//! its schema and the tenant's settings; an invalid one gets one repair attempt, then the local
//! answer stands and the reason is recorded in `fallbacks`. Each part of a valid answer is then
//! checked on its own: the category against a confident local one and the spam verdict, every
//! extracted value against the lead (grounding), the summary's language and facts, the route
//! against the rules, every sentence of a reply against the passages it cites. Which provider
//! answers (the tenant's chain, circuit breakers, `Retry-After`, the daily token budget) is the
//! gate's business.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::prompt::{self, RouteSignals, Task, render, split};
use super::{
    LeadJob, LocalEngine, LocalLead, ReplyJob, TriageEngine, TriageError, Triaged, lead_result,
    route_lead, wire_name,
};
use crate::contract::event::Privacy;
use crate::contract::tenant::TenantSettings;
use crate::knowledge::store::{SearchHit, SearchMode};
use crate::privacy::audit::Purpose;
use crate::privacy::gate::{Call, ChatRequest, Gate, GateError, Usage, restore_json};
use crate::privacy::redact::Pseudonymizer;
use crate::triage::grounding;
use crate::triage::learn::classify::Prediction;
use crate::triage::reply::Citation;
use crate::triage::text::extract::to_e164;

/// Context window assumed for the configured model, in tokens.
const CONTEXT_TOKENS: usize = 16_384;
/// Longest answers, in tokens.
const TRIAGE_TOKENS: u32 = 450;
const REPLY_TOKENS: u32 = 600;

/// What one provider did for a job.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct ProviderUse {
    calls: u32,
    prompt_tokens: u64,
    completion_tokens: u64,
    models: Vec<String>,
}

/// One job's conversation with the providers: the placeholder mapping, usage and fallbacks.
struct Session<'a> {
    gate: &'a Gate,
    tenant: &'a TenantSettings,
    job_id: &'a str,
    pseudonymizer: Pseudonymizer,
    usage: Usage,
    calls: u32,
    /// The calls asked (`triage`, `reply`), in order.
    asked: Vec<&'static str>,
    /// Calls whose first answer was rejected and a correction asked.
    repairs: Vec<&'static str>,
    fallbacks: Vec<Value>,
    /// Per provider that answered.
    providers: BTreeMap<String, ProviderUse>,
    /// Set when the tenant's daily token budget stopped a call.
    over_budget: Option<String>,
}

impl<'a> Session<'a> {
    fn new(gate: &'a Gate, tenant: &'a TenantSettings, job_id: &'a str) -> Session<'a> {
        Session {
            gate,
            tenant,
            job_id,
            pseudonymizer: Pseudonymizer::new(),
            usage: Usage::default(),
            calls: 0,
            asked: Vec::new(),
            repairs: Vec::new(),
            fallbacks: Vec::new(),
            providers: BTreeMap::new(),
            over_budget: None,
        }
    }

    /// Asks one call; returns the parsed, validated and restored answer, or records why the
    /// local answer stands.
    async fn ask(
        &mut self,
        task: Task,
        values: &[(&str, &str)],
        max_tokens: u32,
        validate: &(dyn Fn(&Value) -> Result<(), String> + Sync),
    ) -> Option<Value> {
        let (system, user) = split(&render(task, values));
        let mut request = ChatRequest {
            system,
            user,
            schema: Some((format!("jambo_{}", task.name()), task.schema(self.tenant))),
            max_tokens,
            task: task.name(),
        };
        let purpose = match task {
            Task::Triage => Purpose::Triage,
            Task::Reply => Purpose::Reply,
        };
        self.asked.push(task.name());
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
                Err(err) => {
                    let reason = match &err {
                        GateError::Provider { kind, message } => {
                            format!("provider error: {} ({message})", kind.as_str())
                        }
                        GateError::OverBudget { .. } => {
                            self.over_budget = Some(err.to_string());
                            err.to_string()
                        }
                        GateError::Unavailable(_) | GateError::Refused(_) | GateError::Audit(_) => {
                            err.to_string()
                        }
                    };
                    self.fallback(task.name(), &reason);
                    return None;
                }
            };
            self.calls += 1;
            self.usage.add(&answer.usage);
            let used = self.providers.entry(answer.provider.clone()).or_default();
            used.calls += 1;
            used.prompt_tokens += answer.usage.prompt_tokens;
            used.completion_tokens += answer.usage.completion_tokens;
            if !used.models.contains(&answer.model) {
                used.models.push(answer.model.clone());
            }
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
                self.fallback(
                    task.name(),
                    &format!("invalid answer after one repair: {problem}"),
                );
            }
        }
        None
    }

    /// Records that the local answer stands for `part` (a call, or a part of the triage
    /// answer: `category`, `summary`, `reply`).
    fn fallback(&mut self, part: &str, reason: &str) {
        metrics::counter!("jambo_provider_fallbacks_total",
            "tenant" => self.tenant.tenant_id.clone(), "task" => part.to_owned())
        .increment(1);
        self.fallbacks
            .push(json!({"task": part, "reason": reason, "used": "local"}));
    }

    /// The `usage` block of a result: every call of this job, per provider too.
    fn usage_json(&self) -> Value {
        let mut usage = json!({
            "calls": self.calls,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "asked": self.asked,
            "repairs": self.repairs,
            "fallbacks": self.fallbacks.iter().filter(|f| f["used"] == "local").count(),
            "providers": self.providers,
        });
        if let Some(budget) = self.tenant.ai.daily_token_budget {
            usage["daily_token_budget"] = json!({
                "budget": budget,
                "used_today": self.gate.tokens_used_today(self.tenant),
            });
        }
        if let Some(reason) = &self.over_budget {
            usage["over_budget"] = json!(reason);
        }
        usage
    }

    /// The providers that answered, for the privacy block (`None` when none did).
    fn provider_names(&self) -> Option<String> {
        (!self.providers.is_empty())
            .then(|| self.providers.keys().cloned().collect::<Vec<_>>().join(","))
    }

    /// The lead's one triage call: the provider's category, fields, summary and destination,
    /// each checked before it replaces the local answer.
    async fn triage(
        &mut self,
        job: &LeadJob<'_>,
        local: &LocalLead,
        lead: &LeadText,
        evidence: &grounding::Evidence,
        result: &mut Value,
    ) {
        let tenant = job.tenant;
        let names: Vec<&str> = tenant.categories.iter().map(|c| c.name.as_str()).collect();
        let allowed = tenant.destinations();
        let validate = |v: &Value| -> Result<(), String> {
            match (&v["category"], names.is_empty()) {
                (Value::Null, true) => {}
                (Value::String(label), false) if names.contains(&label.as_str()) => {}
                (Value::String(label), false) => {
                    return Err(format!(
                        "category {label:?} is not one of the tenant's categories"
                    ));
                }
                (_, false) => return Err("category is missing".into()),
                (_, true) => return Err("category must be null: there are no categories".into()),
            }
            v["confidence"].as_f64().ok_or("confidence is missing")?;
            let d = v["destination"].as_str().ok_or("destination is missing")?;
            if !allowed.contains(&d) {
                return Err(format!("destination {d:?} does not exist"));
            }
            v["summary"].as_str().ok_or("summary is missing")?;
            v["needs_human"].as_bool().ok_or("needs_human is missing")?;
            Ok(())
        };
        let categories = prompt::categories(tenant);
        let destinations = prompt::destinations(tenant);
        let rules = prompt::routing_rules(tenant);
        let channel = wire_name(job.lead.channel).unwrap_or_default();
        let signals = prompt::signals(&RouteSignals {
            language: &lead.language,
            spam: local.spam.is_spam,
            sentiment: &result["sentiment"],
            urgency: &result["urgency"],
            channel: &channel,
        });
        let fields = prompt::form_fields(job.lead.fields.as_ref());
        let Some(v) = self
            .ask(
                Task::Triage,
                &[
                    ("categories", &categories),
                    ("destinations", &destinations),
                    ("rules", &rules),
                    ("signals", &signals),
                    ("fields", &fields),
                    ("message", &lead.message),
                    ("language", &lead.language),
                ],
                TRIAGE_TOKENS,
                &validate,
            )
            .await
        else {
            return;
        };
        // category: the model's, checked against a confident local answer and the spam
        // verdict, then re-routed by the rules when the label that stands is not the local one
        let confidence = v["confidence"].as_f64().unwrap_or(-1.0);
        match v["category"].as_str() {
            // a probability outside 0..1 is no probability: the category part is not used (the
            // rest of the answer does not need a second call for it)
            Some(_) if !(0.0..=1.0).contains(&confidence) => {
                self.fallback("category", "the confidence is outside 0..1");
            }
            Some(label) => {
                result["category"]["label"] = json!(label);
                result["category"]["confidence"] = json!((confidence * 100.0).round() / 100.0);
            }
            None => {}
        }
        grounding::cross_check_category(
            result,
            local
                .category
                .as_ref()
                .map(|p| (p.label.as_str(), p.confidence)),
            local.spam.is_spam,
            local.spam.score,
        );
        if let Some(label) = result["category"]["label"].as_str()
            && local.category.as_ref().map(|p| p.label.as_str()) != Some(label)
        {
            let model = Prediction {
                label: label.to_owned(),
                confidence: result["category"]["confidence"].as_f64().unwrap_or(0.0) as f32,
                runner_up: None,
                needs_human: None,
            };
            // the cross-check's reasons for a human carry over to the new route
            let reasons = result["route"]["reasons"].clone();
            let needs_human = result["route"]["needs_human"] == json!(true);
            result["route"] = json!(route_lead(job, &local.text, Some(&model), &local.spam));
            if needs_human {
                result["route"]["needs_human"] = json!(true);
                if let (Some(to), Some(from)) = (
                    result["route"]["reasons"].as_array_mut(),
                    reasons.as_array(),
                ) {
                    for reason in from {
                        if !to.contains(reason) {
                            to.push(reason.clone());
                        }
                    }
                }
            }
        }
        merge_extraction(&mut result["extracted"], &v);
        // grounded now, so the reply never greets an invented name (the engines ground the
        // whole result again at the end)
        grounding::ground_lead(result, evidence);
        let summary = v["summary"].as_str().unwrap_or("").trim();
        let checked = if summary.is_empty() {
            Err("the summary is empty".to_owned())
        } else {
            grounding::check_summary(summary, &lead.language, evidence)
        };
        match checked {
            Ok(()) => result["summary"] = json!(summary),
            Err(reason) => self.fallback("summary", &reason),
        }
        reconcile_route(&mut result["route"], &v);
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
            provider: self.provider_names(),
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
            answer["budget_amount"].as_f64().filter(|a| *a > 0.0),
            answer["budget_currency"]
                .as_str()
                .filter(|c| c.trim().len() == 3),
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
    tokens: &'static tiktoken_rs::CoreBPE,
}

impl OpenAiEngine {
    pub fn new(local: Arc<LocalEngine>, gate: Arc<Gate>) -> OpenAiEngine {
        OpenAiEngine {
            local,
            gate,
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

    /// Numbered passages within `budget` tokens, best first: the block and each shown
    /// passage's text as the prompt shows it.
    fn passages(&self, hits: &[SearchHit], budget: usize) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut shown = Vec::new();
        let mut used = 0;
        for (i, hit) in hits.iter().enumerate() {
            let block = prompt::passage(i + 1, hit);
            let cost = self.count(&block);
            if used + cost > budget {
                break;
            }
            used += cost;
            out.push_str(&block);
            shown.push(block);
        }
        (out, shown)
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

    /// The lead as the prompts show it: the message cut to half the triage prompt's data
    /// budget.
    fn lead_text(&self, job: &LeadJob<'_>, local: &LocalLead) -> LeadText {
        let subject = job.lead.subject.as_deref().unwrap_or("");
        let message = self.trim(
            &prompt::message(subject, &local.text.cleaned.body),
            self.data_budget(Task::Triage, TRIAGE_TOKENS) / 2,
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
            Some(reply) => Ok(json!({
                "text": reply.text, "citations": reply.citations, "language": lead.language,
                "needs_human": reply.needs_human, "reasons": reply.reasons,
                "grounding": {"removed": reply.removed},
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
    /// budget, then [`grounding::check_reply`] on the answer (every sentence that states a fact
    /// cites a shown passage and names nothing its passages do not). `None` when the provider's
    /// answer is not usable (the session records why).
    async fn reply(
        &self,
        session: &mut Session<'_>,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        ask: ReplyAsk<'_>,
    ) -> Result<Option<ModelReply>, TriageError> {
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
        let budget = self.data_budget(Task::Reply, REPLY_TOKENS);
        let conversation = self.trim(conversation, budget / 3);
        let (passages, shown) =
            self.passages(&hits, budget.saturating_sub(self.count(&conversation)));
        let validate = |v: &Value| -> Result<(), String> {
            let text = v["text"].as_str().ok_or("text is missing")?;
            if text.trim().is_empty() {
                return Err("text is empty".into());
            }
            let cites =
                v["citations"].as_array().is_some_and(|c| !c.is_empty()) || text.contains('[');
            if v["needs_human"] == json!(false) && !cites {
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
                REPLY_TOKENS,
                &validate,
            )
            .await
        else {
            return Ok(None);
        };
        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
        let checked = grounding::check_reply(
            answer["text"].as_str().unwrap_or_default(),
            &shown,
            &conversation,
        );
        let needs_human = answer["needs_human"] == json!(true);
        if checked.text.trim().is_empty() || (checked.cited.is_empty() && !needs_human) {
            session.fallback(
                "reply",
                &format!(
                    "no sentence of the reply is supported by a cited passage ({})",
                    checked.removed.join("; ")
                ),
            );
            return Ok(None);
        }
        let citations: Vec<Citation> = checked
            .cited
            .iter()
            .filter_map(|n| hits.get(n - 1))
            .map(|h| Citation {
                url: h.payload.url.clone(),
                title: h.payload.title.clone(),
                chunk_id: h.chunk_id.clone(),
            })
            .collect();
        let mut reasons: Vec<Value> = answer["reason"]
            .as_str()
            .filter(|r| !r.trim().is_empty())
            .map(|r| json!(r))
            .into_iter()
            .collect();
        if !checked.removed.is_empty() {
            reasons.push(json!(format!(
                "{} part(s) of the draft removed: not supported by a cited passage",
                checked.removed.len()
            )));
        }
        Ok(Some(ModelReply {
            text: checked.text,
            citations,
            needs_human,
            reasons,
            removed: checked.removed,
        }))
    }
}

/// A provider's reply after the citation check.
struct ModelReply {
    text: String,
    citations: Vec<Citation>,
    needs_human: bool,
    reasons: Vec<Value>,
    removed: Vec<String>,
}

#[async_trait]
impl TriageEngine for OpenAiEngine {
    fn name(&self) -> &'static str {
        "openai"
    }

    /// The local analysis, refined by the provider's one triage call (and a reply call); each
    /// part keeps the local answer when the provider's is unusable.
    async fn process_lead(&self, job: &LeadJob<'_>) -> Result<Triaged, TriageError> {
        let local = self.analyse_locally(job).await?;
        let lead = self.lead_text(job, &local);
        let mut result = lead_result(&local);
        let mut session = Session::new(&self.gate, job.tenant, job.job_id);
        let evidence = grounding::Evidence::of(job.lead, job.received_at);
        session
            .triage(job, &local, &lead, &evidence, &mut result)
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
        let mut session = Session::new(&self.gate, job.tenant, job.job_id);
        let pii: Vec<String> = Vec::new();
        let reply = self
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
            .await?;
        let Some(reply) = reply else {
            let local = self.local.suggest_reply(job).await?;
            let mut result = local.result;
            result["fallbacks"] = json!(session.fallbacks);
            result["usage"] = session.usage_json();
            return Ok(Triaged {
                result,
                privacy: Privacy {
                    external_ai: session.calls > 0,
                    provider: session.provider_names(),
                    redactions: session.usage.redactions.clone(),
                    ..local.privacy
                },
            });
        };
        let result = json!({
            "reply": {"text": reply.text, "citations": reply.citations},
            "language": question.language,
            "needs_human": reply.needs_human,
            "reasons": reply.reasons,
            "grounding": {"removed": reply.removed},
            "engine": "openai",
            "fallbacks": session.fallbacks,
            "usage": session.usage_json(),
        });
        Ok(Triaged {
            result,
            privacy: session.privacy(pii),
        })
    }
}
