//! The triage engines behind one trait: [`LocalEngine`] (deterministic, in-process, the default)
//! and the OpenAI-compatible engine (`provider`), which refines the local answer and falls
//! back to it. Both produce the contract's `lead.processed` and `reply.suggested` results.

pub mod prompt;
pub mod provider;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::contract::event::Privacy;
use crate::contract::job::{Conversation, Lead, Role};
use crate::contract::tenant::TenantSettings;
use crate::knowledge::service::{Knowledge, KnowledgeError};
use crate::models::{EmbedError, Embedder, LocalMiniLm};
use crate::privacy::redact::Redactor;
use crate::triage::grounding;
use crate::triage::learn::classify::{CategoryConfig, CategoryModel, Example, Prediction};
use crate::triage::learn::spam::{SpamConfig, SpamDetector, SpamExample, SpamInput, SpamVerdict};
use crate::triage::reply::{Reply, compose};
use crate::triage::route::{RouteDecision, Signals, route};
use crate::triage::text::{TextAnalysis, analyze_lead};

/// Why triage failed, and how the job treats it.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The local model could not run (missing files, inference failure): retry once fixed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Knowledge search failed (store locked or down): retryable per the inner error.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// The input cannot be triaged at all (e.g. a conversation without a customer message).
    #[error("{0}")]
    Invalid(String),
}

impl TriageError {
    pub fn is_retryable(&self) -> bool {
        match self {
            TriageError::Embed(err) => err.is_retryable(),
            TriageError::Knowledge(err) => err.is_retryable(),
            TriageError::Invalid(_) => false,
        }
    }
}

/// A lead to process.
pub struct LeadJob<'a> {
    pub job_id: &'a str,
    /// When the job was created (its envelope's `created_at`): relative dates in the lead
    /// ("tomorrow") are read against it.
    pub received_at: Option<time::OffsetDateTime>,
    pub tenant: &'a Arc<TenantSettings>,
    pub lead: &'a Lead,
    pub suggest_reply: bool,
}

/// A conversation to answer.
pub struct ReplyJob<'a> {
    pub job_id: &'a str,
    pub tenant: &'a Arc<TenantSettings>,
    pub conversation: &'a Conversation,
}

/// A result and its privacy block.
#[derive(Debug, Clone)]
pub struct Triaged {
    pub result: Value,
    pub privacy: Privacy,
}

/// A triage engine.
#[async_trait]
pub trait TriageEngine: Send + Sync {
    fn name(&self) -> &'static str;
    async fn process_lead(&self, job: &LeadJob<'_>) -> Result<Triaged, TriageError>;
    async fn suggest_reply(&self, job: &ReplyJob<'_>) -> Result<Triaged, TriageError>;
}

/// Everything the local engine concluded about a lead (the OpenAI engine starts from it).
#[derive(Debug, Clone)]
pub struct LocalLead {
    pub text: TextAnalysis,
    pub category: Option<Prediction>,
    pub spam: SpamVerdict,
    pub route: RouteDecision,
    pub reply: Option<Reply>,
    pub pii_types: Vec<String>,
}

/// A tenant's trained models.
struct TenantModels {
    category: Option<Arc<CategoryModel>>,
    spam: Arc<SpamDetector>,
}

/// The models of one tenant's settings, trained once by whichever job asks first (the others
/// wait for it without holding a thread).
struct ModelSlot {
    /// The settings fingerprint the models are (being) trained from.
    fingerprint: String,
    models: OnceCell<Arc<TenantModels>>,
}

/// The local engine: text analysis, a category classifier and a spam detector trained from the
/// tenant's settings on the local embeddings, rule routing, and replies composed from retrieved
/// passages.
pub struct LocalEngine {
    knowledge: Arc<Knowledge>,
    /// PII tags of leads and questions (the fast tier with name lists).
    redactor: Arc<Redactor>,
    /// E-mail and phone detection for field extraction.
    contacts: Arc<Redactor>,
    /// One slot per tenant; the lock is held only to look a slot up or replace it.
    models: std::sync::Mutex<HashMap<String, Arc<ModelSlot>>>,
    config: CategoryConfig,
}

impl LocalEngine {
    pub fn new(
        knowledge: Arc<Knowledge>,
        redactor: Arc<Redactor>,
        contacts: Arc<Redactor>,
    ) -> LocalEngine {
        LocalEngine {
            knowledge,
            redactor,
            contacts,
            models: std::sync::Mutex::new(HashMap::new()),
            config: CategoryConfig::default(),
        }
    }

    pub fn knowledge(&self) -> &Arc<Knowledge> {
        &self.knowledge
    }

    /// The tenant's models, trained on first use and again when its settings change.
    async fn models(
        &self,
        tenant: &TenantSettings,
        embedder: &LocalMiniLm,
    ) -> Result<Arc<TenantModels>, TriageError> {
        let fingerprint =
            CategoryModel::fingerprint(&tenant.categories, embedder.model_id(), &self.config);
        let slot = {
            let mut slots = self.models.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get(&tenant.tenant_id) {
                Some(slot) if slot.fingerprint == fingerprint => slot.clone(),
                Some(_) | None => {
                    let slot = Arc::new(ModelSlot {
                        fingerprint,
                        models: OnceCell::new(),
                    });
                    slots.insert(tenant.tenant_id.clone(), slot.clone());
                    slot
                }
            }
        };
        slot.models
            .get_or_try_init(|| self.train(tenant, embedder))
            .await
            .cloned()
    }

    /// Trains a tenant's category model and spam detector from its settings: the examples are
    /// embedded, then the training runs off the async threads.
    async fn train(
        &self,
        tenant: &TenantSettings,
        embedder: &LocalMiniLm,
    ) -> Result<Arc<TenantModels>, TriageError> {
        let mut texts: Vec<String> = Vec::new();
        let mut labels: Vec<(usize, String, bool)> = Vec::new(); // (text index, label, is description)
        for category in &tenant.categories {
            for example in &category.examples {
                labels.push((texts.len(), category.name.clone(), false));
                texts.push(example.clone());
            }
            if category.examples.is_empty() && !category.description.trim().is_empty() {
                labels.push((texts.len(), category.name.clone(), true));
                texts.push(format!("{}: {}", category.name, category.description));
            }
        }
        let vectors = embedder.embed(&texts).await?;
        let config = self.config;
        let tenant_id = tenant.tenant_id.clone();
        let models = crate::cpu::run(move || {
            let examples: Vec<Example<'_>> = labels
                .iter()
                .filter(|(_, _, d)| !d)
                .map(|(i, label, _)| Example {
                    label,
                    text: &texts[*i],
                    embedding: &vectors[*i],
                })
                .collect();
            let descriptions: Vec<Example<'_>> = labels
                .iter()
                .filter(|(_, _, d)| *d)
                .map(|(i, label, _)| Example {
                    label,
                    text: &texts[*i],
                    embedding: &vectors[*i],
                })
                .collect();
            let category = match CategoryModel::train(&examples, &descriptions, &config) {
                Ok(model) => Some(Arc::new(model)),
                Err(err) => {
                    tracing::warn!(event = "category_model_unavailable", tenant_id = %tenant_id, error = %err);
                    None
                }
            };
            // The tenant's own spam examples: a category named "spam" (others count as not spam).
            let spam_examples: Vec<SpamExample<'_>> = labels
                .iter()
                .filter(|(_, _, d)| !d)
                .map(|(i, label, _)| SpamExample {
                    text: &texts[*i],
                    is_spam: label.eq_ignore_ascii_case("spam"),
                    embedding: Some(vectors[*i].as_slice()),
                })
                .collect();
            let has_spam = spam_examples.iter().any(|e| e.is_spam);
            let spam = if has_spam {
                SpamDetector::train(&spam_examples, SpamConfig::default())
            } else {
                SpamDetector::new(SpamConfig::default())
            };
            TenantModels {
                category,
                spam: Arc::new(spam),
            }
        })
        .await;
        Ok(Arc::new(models))
    }

    /// Runs every local step on a lead.
    pub async fn analyse(&self, job: &LeadJob<'_>) -> Result<LocalLead, TriageError> {
        let lead = job.lead;
        // The text engine and the PII scan are CPU work: off the async threads.
        let (text, pii_types) = {
            let owned = lead.clone();
            let redactor = self.redactor.clone();
            let contacts = self.contacts.clone();
            crate::cpu::run(move || {
                let text = analyze_lead(&owned, &contacts);
                let subject = owned.subject.as_deref().unwrap_or("").trim();
                let pii_types = pii_types(&redactor, &format!("{subject}\n{}", owned.body));
                (text, pii_types)
            })
            .await
        };
        let embedder = self.knowledge.local_embedder().await?;
        let subject = lead.subject.as_deref().unwrap_or("").trim();
        let classify_text = if subject.is_empty() {
            text.cleaned.body.clone()
        } else {
            format!("{subject}\n{}", text.cleaned.body)
        };
        let embedding = embedder
            .embed(std::slice::from_ref(&classify_text))
            .await?
            .pop()
            .unwrap_or_default();
        let models = self.models(job.tenant, &embedder).await?;
        let fields: Vec<(String, String)> = lead
            .fields
            .iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect();
        let email = text.extracted.email.as_ref().map(|f| f.value.clone());
        let (category, spam) = {
            let models = models.clone();
            let classify_text = classify_text.clone();
            crate::cpu::run(move || {
                let category = models
                    .category
                    .as_ref()
                    .map(|m| m.predict(&classify_text, &embedding));
                let field_refs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let spam = models.spam.check(&SpamInput {
                    text: &classify_text,
                    email: email.as_deref(),
                    fields: &field_refs,
                    embedding: Some(embedding.as_slice()),
                });
                (category, spam)
            })
            .await
        };
        let route = route_lead(job, &text, category.as_ref(), &spam);
        let reply = if job.suggest_reply && !spam.is_spam {
            let name = text.extracted.name.as_ref().map(|f| f.value.clone());
            Some(
                self.reply_to(
                    job.tenant,
                    job.job_id,
                    &classify_text,
                    name.as_deref(),
                    &text.language.code,
                )
                .await?,
            )
        } else {
            None
        };
        Ok(LocalLead {
            text,
            category,
            spam,
            route,
            reply,
            pii_types,
        })
    }

    /// Searches the tenant's knowledge and composes a reply from it.
    pub async fn reply_to(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        question: &str,
        name: Option<&str>,
        language: &str,
    ) -> Result<Reply, TriageError> {
        let (hits, best_dense) = self
            .knowledge
            .search_with_relevance(tenant, job_id, question, 5)
            .await?;
        Ok(compose(question, &hits, best_dense, name, language))
    }
}

/// The rules' route for a lead with this category (the local classifier's, or the provider's
/// answer) and spam verdict.
pub(crate) fn route_lead(
    job: &LeadJob<'_>,
    text: &TextAnalysis,
    category: Option<&Prediction>,
    spam: &SpamVerdict,
) -> RouteDecision {
    let lead = job.lead;
    let subject = lead.subject.as_deref().unwrap_or("").trim();
    let sentiment = wire_name(text.sentiment.label).unwrap_or_else(|| "neutral".into());
    let urgency = wire_name(text.urgency.level).unwrap_or_else(|| "normal".into());
    let channel = wire_name(lead.channel).unwrap_or_default();
    let keyword_text = format!("{subject}\n{}", text.cleaned.body);
    route(
        job.tenant,
        &Signals {
            category: category.map(|p| p.label.as_str()),
            category_confidence: category.map_or(0.0, |p| p.confidence),
            category_needs_human: category.and_then(|p| p.needs_human.clone()).or_else(|| {
                job.tenant
                    .categories
                    .is_empty()
                    .then(|| "the tenant has no categories configured".to_owned())
            }),
            language: &text.language.code,
            sentiment: &sentiment,
            urgency: &urgency,
            is_spam: spam.is_spam,
            spam_score: spam.score,
            channel: &channel,
            text: &keyword_text,
            extracted: present_fields(text),
            budget: text.extracted.budget.as_ref().map(|b| b.value.amount),
            fields: lead.fields.as_ref(),
        },
    )
}

/// Names of the extracted fields that have a value.
fn present_fields(text: &TextAnalysis) -> Vec<&'static str> {
    let e = &text.extracted;
    let mut out = Vec::new();
    for (name, present) in [
        ("name", e.name.is_some()),
        ("email", e.email.is_some()),
        ("phone", e.phone.is_some()),
        ("company", e.company.is_some()),
        ("website", e.website.is_some()),
        ("budget", e.budget.is_some()),
        ("timeline", e.timeline.is_some()),
    ] {
        if present {
            out.push(name);
        }
    }
    out
}

/// The `lead.processed` result of a local analysis.
pub fn lead_result(local: &LocalLead) -> Value {
    let category = match &local.category {
        Some(p) => json!({
            "label": p.label,
            "confidence": round2(p.confidence),
            "runner_up": p.runner_up.as_ref().map(|r| json!({"label": r.label, "confidence": round2(r.confidence)})),
        }),
        None => json!({"label": null, "confidence": 0.0, "runner_up": null}),
    };
    let mut result = json!({
        "language": local.text.language.code,
        "language_confidence": round2(local.text.language.confidence),
        "category": category,
        "spam": {"is_spam": local.spam.is_spam, "score": round2(local.spam.score), "reasons": local.spam.reasons},
        "sentiment": local.text.sentiment.label,
        "sentiment_score": local.text.sentiment.score,
        "urgency": local.text.urgency.level,
        "urgency_reasons": local.text.urgency.reasons,
        "summary": local.text.summary,
        "extracted": local.text.extracted,
        "route": local.route,
        "engine": "local",
    });
    if let Some(reply) = &local.reply {
        result["reply"] = reply_json(reply);
    }
    result
}

pub fn reply_json(reply: &Reply) -> Value {
    json!({
        "text": reply.text,
        "citations": reply.citations,
        "language": reply.language,
        "needs_human": reply.needs_human,
        "reasons": reply.reasons,
    })
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

/// The privacy block of a job that sent nothing out.
pub fn local_privacy(tenant: &TenantSettings, pii_types: Vec<String>) -> Privacy {
    Privacy {
        training_opt_in: tenant.ai.training_opt_in,
        pii_types,
        ..Privacy::default()
    }
}

/// What a reply request asks.
pub struct Question {
    /// The last customer turn(s) as written.
    pub raw: String,
    /// The same, cleaned (quotes, signatures and markup removed).
    pub text: String,
    /// Its language code.
    pub language: String,
    /// The customer's name, when the contact has one.
    pub name: Option<String>,
}

impl ReplyJob<'_> {
    /// The question to answer; an error when the conversation has no customer message.
    pub fn question(&self) -> Result<Question, TriageError> {
        let raw = customer_question(self.conversation).ok_or_else(|| {
            TriageError::Invalid("the conversation has no customer message".into())
        })?;
        let text = crate::triage::text::clean::clean(&raw).body;
        let language = crate::text::language::detect(&text).code;
        let name = self
            .conversation
            .contact
            .as_ref()
            .and_then(|c| c.name.clone());
        Ok(Question {
            raw,
            text,
            language,
            name,
        })
    }
}

/// The wire name of a serde enum value (`"negative"`, `"form"`).
pub(super) fn wire_name(value: impl serde::Serialize) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// The last customer turn(s) of a conversation: the question to answer.
pub fn customer_question(conversation: &Conversation) -> Option<String> {
    let mut turns: Vec<&str> = Vec::new();
    for message in conversation.messages.iter().rev() {
        match message.role {
            Role::Customer => turns.push(message.text.as_str()),
            Role::Agent if !turns.is_empty() => break,
            Role::Agent => {}
        }
    }
    if turns.is_empty() {
        return None;
    }
    turns.reverse();
    Some(turns.join("\n"))
}

#[async_trait]
impl TriageEngine for LocalEngine {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn process_lead(&self, job: &LeadJob<'_>) -> Result<Triaged, TriageError> {
        let local = self.analyse(job).await?;
        Ok(Triaged {
            result: lead_result(&local),
            privacy: local_privacy(job.tenant, local.pii_types.clone()),
        })
    }

    async fn suggest_reply(&self, job: &ReplyJob<'_>) -> Result<Triaged, TriageError> {
        let question = job.question()?;
        let reply = self
            .reply_to(
                job.tenant,
                job.job_id,
                &question.text,
                question.name.as_deref(),
                &question.language,
            )
            .await?;
        let redactor = self.redactor.clone();
        let raw = question.raw.clone();
        let pii = crate::cpu::run(move || pii_types(&redactor, &raw)).await;
        Ok(Triaged {
            result: json!({
                "reply": {"text": reply.text, "citations": reply.citations},
                "language": reply.language,
                "needs_human": reply.needs_human,
                "reasons": reply.reasons,
                "engine": "local",
            }),
            privacy: local_privacy(job.tenant, pii),
        })
    }
}

/// Entity types of personal data in `text`, sorted, once each (tags, never values).
fn pii_types(redactor: &Redactor, text: &str) -> Vec<String> {
    let mut types: Vec<String> = redactor
        .detect(text)
        .iter()
        .map(|e| e.kind.name().to_owned())
        .collect();
    types.sort();
    types.dedup();
    types
}

/// The engines of one worker, and the rule that picks one per tenant: the OpenAI-compatible
/// engine when the tenant allows external AI and a chat model is configured, else the local one.
#[derive(Clone)]
pub struct Engines {
    local: Arc<LocalEngine>,
    provider: Option<Arc<provider::OpenAiEngine>>,
    gate: Arc<crate::privacy::gate::Gate>,
}

impl Engines {
    /// The local engine, and the provider engine on top of it when a chat model is configured.
    pub fn new(local: Arc<LocalEngine>, gate: Arc<crate::privacy::gate::Gate>) -> Engines {
        let provider = gate
            .can_chat()
            .then(|| Arc::new(provider::OpenAiEngine::new(local.clone(), gate.clone())));
        Engines {
            local,
            provider,
            gate,
        }
    }

    /// The engine for this tenant (private: every lead goes through [`Engines::process_lead`],
    /// so none escapes grounding).
    fn for_tenant(&self, tenant: &TenantSettings) -> Arc<dyn TriageEngine> {
        match &self.provider {
            Some(provider) if self.gate.allows(tenant) => provider.clone(),
            Some(_) | None => self.local.clone(),
        }
    }

    /// A lead through its tenant's engine, grounded: every extracted value the lead does not
    /// contain is dropped, with the reason in the result's `grounding` block.
    pub async fn process_lead(&self, job: &LeadJob<'_>) -> Result<Triaged, TriageError> {
        Ok(self.process_lead_with_drops(job).await?.0)
    }

    /// [`Engines::process_lead`], and the values grounding dropped at the end (with the values:
    /// for the evaluation's report on fixtures; results never carry them).
    pub async fn process_lead_with_drops(
        &self,
        job: &LeadJob<'_>,
    ) -> Result<(Triaged, Vec<grounding::Dropped>), TriageError> {
        let engine = self.for_tenant(job.tenant);
        let mut triaged = engine.process_lead(job).await?;
        let evidence = grounding::Evidence::of(job.lead, job.received_at);
        let dropped = grounding::ground_lead(&mut triaged.result, &evidence);
        // the providers that answered (the privacy block names them), else the engine
        let answered_by = triaged
            .privacy
            .provider
            .clone()
            .unwrap_or_else(|| engine.name().to_owned());
        for drop in &dropped {
            metrics::counter!(
                "jambo_grounding_dropped_total",
                "tenant" => job.tenant.tenant_id.clone(),
                "provider" => answered_by.clone(),
                "engine" => engine.name(),
                "field" => drop.field.clone(),
                "source" => drop.source.clone(),
            )
            .increment(1);
        }
        if triaged.result["usage"].is_object() {
            let early = triaged.result["grounding"]["dropped"]
                .as_array()
                .map_or(0, Vec::len);
            triaged.result["usage"]["grounding_dropped"] = json!(early.max(dropped.len()));
        }
        Ok((triaged, dropped))
    }

    /// A conversation through its tenant's engine.
    pub async fn suggest_reply(&self, job: &ReplyJob<'_>) -> Result<Triaged, TriageError> {
        self.for_tenant(job.tenant).suggest_reply(job).await
    }
}
