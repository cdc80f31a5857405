//! `eval triage --data DIR`: the triage engine on a labelled corpus of leads, the way a tenant
//! would run it. `DIR/tenants/<tenant>.toml` holds each tenant's settings, `DIR/leads/*.jsonl`
//! one labelled lead a line (`{"split", "tenant_id", "created_at", "lead", "labels"}`, see
//! `fixtures/corpus/README.md`). Each lead of the chosen split runs through the tenant's engine
//! (the settings train the tenant's models as in production) and is scored against its labels:
//! category accuracy and macro-F1, spam precision/recall/F1, route accuracy, field exact match
//! (e-mail, phone E.164, name, company), the `needs_human` share and the category accuracy on the
//! rest, per tenant and per language, and a confusion matrix per tenant.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EvalError;
use crate::config::Config;
use crate::contract::job::Lead;
use crate::contract::tenant::{Provider, TenantSettings};
use crate::triage::engine::LeadJob;
use crate::triage::grounding::{Dropped, Evidence, ground_lead};

/// Which part of the corpus runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The development part: the only one to look at while changing the engine
    Dev,
    /// The held-out part: the figures to report
    Test,
    /// Both
    All,
}

impl Split {
    fn takes(self, split: &str) -> bool {
        match self {
            Split::Dev => split == "dev",
            Split::Test => split == "test",
            Split::All => true,
        }
    }
}

/// The engine every tenant of the corpus gets for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// The local engine (the tenants' own settings say so)
    Local,
    /// The OpenAI-compatible engine on the configured server, local answers as fallback
    Openai,
}

/// What runs: which split, through which engine, how many leads.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub split: Split,
    pub engine: EngineChoice,
    /// Only the first N leads of the split (corpus order).
    pub limit: Option<usize>,
}

/// The provider's side of a run, per lead (all zero for the local engine).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderFigures {
    /// Calls to the provider per lead.
    pub calls_per_lead: f64,
    pub prompt_tokens_per_lead: f64,
    pub completion_tokens_per_lead: f64,
    /// Per call (`triage`, `reply`) and per part of an answer that can fall back on its own
    /// (`summary`): share of leads whose first answer was valid and kept.
    pub first_answer_valid: BTreeMap<String, f64>,
    /// Per task: share of leads whose first answer needed a correction.
    pub repair_rate: BTreeMap<String, f64>,
    /// Per task: share of leads where the local answer stood (invalid twice, provider error).
    pub fallback_rate: BTreeMap<String, f64>,
    /// Seconds per lead, median and 95th percentile.
    pub latency_p50: f64,
    pub latency_p95: f64,
}

/// One labelled lead.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Labelled {
    pub(super) split: String,
    pub(super) tenant_id: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(super) created_at: Option<time::OffsetDateTime>,
    pub(super) lead: Lead,
    pub(super) labels: Labels,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Labels {
    pub(super) category: String,
    pub(super) spam: bool,
    pub(super) route: String,
    pub(super) language: String,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) name: Option<String>,
    pub(super) company: Option<String>,
}

/// What the engine answered, as far as it is scored.
#[derive(Debug, Clone, Default)]
struct Answer {
    category: Option<String>,
    /// The local classifier's category (the same as `category` unless a model answered
    /// another one).
    local_category: Option<String>,
    /// The model's category, when a model answered.
    model_category: Option<String>,
    is_spam: bool,
    route: String,
    needs_human: bool,
    language: String,
    fields: BTreeMap<&'static str, Option<String>>,
    /// The values grounding dropped (not found in the lead).
    drops: Vec<GroundingDrop>,
    /// Values of the published result not found in the lead (must be 0).
    survived: usize,
    calls: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    /// The calls asked; calls whose first answer needed a correction; calls or parts of an
    /// answer (`summary`) where the local answer stood.
    asked: Vec<String>,
    repairs: Vec<String>,
    fallbacks: Vec<String>,
    seconds: f64,
}

/// The scored fields.
pub const FIELDS: [&str; 4] = ["email", "phone", "name", "company"];

/// Counts of one group of leads (all, a tenant, a language).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub leads: usize,
    pub category_accuracy: f64,
    /// The local classifier's category accuracy on the same leads (equal to
    /// `category_accuracy` for the local engine).
    pub local_category_accuracy: f64,
    /// The model's own category accuracy on the leads (whether or not its label stood).
    pub model_category_accuracy: f64,
    pub category_macro_f1: f64,
    pub spam_precision: f64,
    pub spam_recall: f64,
    pub spam_f1: f64,
    pub route_accuracy: f64,
    pub language_accuracy: f64,
    /// Share of leads the engine sent to a human.
    pub needs_human_share: f64,
    /// Category accuracy on the leads it did not send to a human.
    pub accuracy_when_confident: f64,
    /// Exact match per field over every lead (no value expected and none given counts as a
    /// match; a value given where none is expected is a mismatch).
    pub field_exact: BTreeMap<String, f64>,
    /// Values given that the labels do not have (invented or wrong), per field.
    pub field_wrong: BTreeMap<String, usize>,
    /// Values the engine extracted that grounding dropped because the lead does not contain
    /// them, per field (every extracted field, not only the scored ones).
    pub grounding_dropped: BTreeMap<String, usize>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct TriageReport {
    pub split: Split,
    pub overall: Scores,
    pub by_tenant: BTreeMap<String, Scores>,
    pub by_language: BTreeMap<String, Scores>,
    /// tenant -> gold category -> predicted category -> count
    pub confusion: BTreeMap<String, BTreeMap<String, BTreeMap<String, usize>>>,
    pub seconds: f64,
    pub engine: EngineChoice,
    pub provider: ProviderFigures,
    /// Every value grounding dropped: lead id, field, where it came from and why.
    pub grounding_drops: Vec<GroundingDrop>,
    /// Extracted values of the published results that the lead does not contain (grounding
    /// run again on each result; must be 0).
    pub invented_values_published: usize,
}

/// One value grounding dropped.
#[derive(Debug, Clone, Serialize)]
pub struct GroundingDrop {
    pub lead: String,
    /// The value as JSON (the corpus is fixtures: no customer's data).
    pub value: String,
    pub field: String,
    pub source: String,
    pub reason: String,
}

/// Reads the corpus, runs the chosen split through each tenant's engine and scores it.
pub async fn evaluate(config: &Config, data: &Path, run: &Run) -> Result<TriageReport, EvalError> {
    let split = run.split;
    // the Bitext support requests, or a corpus folder of tenants and leads
    let bitext = super::bitext::csv_of(data);
    let (mut tenants, all_leads) = match &bitext {
        Some(csv) => super::bitext::read(csv)?,
        None => (
            read_tenants(&data.join("tenants"))?,
            read_leads(&data.join("leads"))?,
        ),
    };
    if run.engine == EngineChoice::Openai
        && (config.openai.base_url.is_none() || config.openai.model.is_none())
        && config.providers.is_empty()
    {
        return Err(EvalError::Input(
            "--engine openai needs an OpenAI-compatible server: set OPENAI_BASE_URL and OPENAI_MODEL (scripts/model-server.sh start prints them)".into(),
        ));
    }
    for settings in tenants.values_mut() {
        let mut changed = (**settings).clone();
        changed.ai.external = run.engine == EngineChoice::Openai;
        changed.ai.provider = match run.engine {
            EngineChoice::Openai => Provider::Openai,
            EngineChoice::Local => Provider::Local,
        };
        *settings = Arc::new(changed);
    }
    let leads: Vec<Labelled> = all_leads
        .into_iter()
        .filter(|l| split.takes(&l.split))
        .take(run.limit.unwrap_or(usize::MAX))
        .collect();
    if leads.is_empty() {
        return Err(EvalError::Data(format!(
            "{}: no leads in the {split:?} split",
            data.display()
        )));
    }
    for lead in &leads {
        if !tenants.contains_key(&lead.tenant_id) {
            return Err(EvalError::Data(format!(
                "lead {}: no settings for tenant {:?}",
                lead.lead.id, lead.tenant_id
            )));
        }
    }
    let privacy = crate::app::Privacy::build(config);
    let knowledge =
        crate::app::knowledge(config, &privacy).map_err(|e| EvalError::Failed(e.to_string()))?;
    let engines = crate::app::engines(&privacy, knowledge);
    let started = std::time::Instant::now();
    let answers: Vec<Result<Answer, EvalError>> = futures::stream::iter(leads.iter())
        .map(|labelled| {
            let tenant = tenants[&labelled.tenant_id].clone();
            let engines = &engines;
            async move {
                let lead_started = std::time::Instant::now();
                let (triaged, drops) = engines
                    .process_lead_with_drops(&LeadJob {
                        job_id: &labelled.lead.id,
                        received_at: labelled.created_at,
                        tenant: &tenant,
                        lead: &labelled.lead,
                        suggest_reply: false,
                    })
                    .await
                    .map_err(|e| EvalError::Failed(format!("lead {}: {e}", labelled.lead.id)))?;
                let mut answer = answer_of(&triaged.result, &labelled.lead.id, &drops);
                // an independent look at what was published: grounding the final result again
                // must find nothing to drop
                let mut published = triaged.result.clone();
                let evidence = Evidence::of(&labelled.lead, labelled.created_at);
                answer.survived = ground_lead(&mut published, &evidence).len();
                answer.seconds = lead_started.elapsed().as_secs_f64();
                Ok(answer)
            }
        })
        .buffered(match run.engine {
            EngineChoice::Local => 16,
            EngineChoice::Openai => 2,
        })
        .collect()
        .await;
    let answers: Vec<Answer> = answers.into_iter().collect::<Result<_, _>>()?;
    let seconds = started.elapsed().as_secs_f64();
    let pairs: Vec<(&Labelled, &Answer)> = leads.iter().zip(&answers).collect();
    let mut by_tenant: BTreeMap<String, Vec<(&Labelled, &Answer)>> = BTreeMap::new();
    let mut by_language: BTreeMap<String, Vec<(&Labelled, &Answer)>> = BTreeMap::new();
    let mut confusion: BTreeMap<String, BTreeMap<String, BTreeMap<String, usize>>> =
        BTreeMap::new();
    for &(labelled, answer) in &pairs {
        by_tenant
            .entry(labelled.tenant_id.clone())
            .or_default()
            .push((labelled, answer));
        by_language
            .entry(labelled.labels.language.clone())
            .or_default()
            .push((labelled, answer));
        *confusion
            .entry(labelled.tenant_id.clone())
            .or_default()
            .entry(labelled.labels.category.clone())
            .or_default()
            .entry(answer.category.clone().unwrap_or_else(|| "(none)".into()))
            .or_default() += 1;
    }
    Ok(TriageReport {
        split,
        overall: score(&pairs),
        by_tenant: by_tenant
            .iter()
            .map(|(k, v)| (k.clone(), score(v)))
            .collect(),
        by_language: by_language
            .iter()
            .map(|(k, v)| (k.clone(), score(v)))
            .collect(),
        confusion,
        seconds,
        engine: run.engine,
        provider: provider_figures(&answers),
        grounding_drops: answers.iter().flat_map(|a| a.drops.clone()).collect(),
        invented_values_published: answers.iter().map(|a| a.survived).sum(),
    })
}

fn provider_figures(answers: &[Answer]) -> ProviderFigures {
    let n = answers.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Answer) -> f64| answers.iter().map(f).sum::<f64>() / n;
    let mut first_answer_valid = BTreeMap::new();
    let mut repair_rate = BTreeMap::new();
    let mut fallback_rate = BTreeMap::new();
    // every call asked, and every part of an answer that fell back on its own
    let mut tasks: Vec<String> = answers
        .iter()
        .flat_map(|a| a.asked.iter().chain(&a.fallbacks).chain(&a.repairs))
        .cloned()
        .collect();
    tasks.sort();
    tasks.dedup();
    for task in &tasks {
        let task = task.as_str();
        let share =
            |f: &dyn Fn(&Answer) -> bool| answers.iter().filter(|a| f(a)).count() as f64 / n;
        let repaired = share(&|a| a.repairs.iter().any(|t| t == task));
        let fell_back = share(&|a| a.fallbacks.iter().any(|t| t == task));
        repair_rate.insert(task.to_owned(), repaired);
        fallback_rate.insert(task.to_owned(), fell_back);
        first_answer_valid.insert(
            task.to_owned(),
            share(&|a| {
                a.calls > 0
                    && !a.repairs.iter().any(|t| t == task)
                    && !a.fallbacks.iter().any(|t| t == task)
            }),
        );
    }
    let mut latencies: Vec<f64> = answers.iter().map(|a| a.seconds).collect();
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    ProviderFigures {
        calls_per_lead: mean(&|a| a.calls as f64),
        prompt_tokens_per_lead: mean(&|a| a.prompt_tokens as f64),
        completion_tokens_per_lead: mean(&|a| a.completion_tokens as f64),
        first_answer_valid,
        repair_rate,
        fallback_rate,
        latency_p50: quantile(0.5),
        latency_p95: quantile(0.95),
    }
}

fn read_tenants(dir: &Path) -> Result<BTreeMap<String, Arc<TenantSettings>>, EvalError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| EvalError::Data(format!("{}: {err}", dir.display())))?;
    let mut tenants = BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|err| EvalError::Data(format!("{}: {err}", path.display())))?;
        let settings: TenantSettings = toml::from_str(&text)
            .map_err(|err| EvalError::Data(format!("{}: {err}", path.display())))?;
        settings
            .validate()
            .map_err(|err| EvalError::Data(format!("{}: {err}", path.display())))?;
        tenants.insert(settings.tenant_id.clone(), Arc::new(settings));
    }
    Ok(tenants)
}

fn read_leads(dir: &Path) -> Result<Vec<Labelled>, EvalError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|err| EvalError::Data(format!("{}: {err}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut leads = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|err| EvalError::Data(format!("{}: {err}", path.display())))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let lead: Labelled = serde_json::from_str(line).map_err(|err| {
                EvalError::Data(format!("{} line {}: {err}", path.display(), i + 1))
            })?;
            leads.push(lead);
        }
    }
    Ok(leads)
}

/// The scored parts of a `lead.processed` result.
fn answer_of(result: &Value, lead_id: &str, final_drops: &[Dropped]) -> Answer {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let extracted = &result["extracted"];
    Answer {
        category: text(&result["category"]["label"]),
        // the local label is beside the model's when the model's stands, else it is the label
        local_category: text(&result["category"]["local"]["label"])
            .or_else(|| text(&result["category"]["label"])),
        model_category: text(&result["category"]["model"]["label"]).or_else(|| {
            let model_answered = result["engine"] == "openai"
                && !result["fallbacks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|f| f["task"] == "triage" && f["used"] == "local");
            model_answered
                .then(|| text(&result["category"]["label"]))
                .flatten()
        }),
        is_spam: result["spam"]["is_spam"].as_bool().unwrap_or(false),
        route: text(&result["route"]["destination"]).unwrap_or_default(),
        needs_human: result["route"]["needs_human"].as_bool().unwrap_or(false),
        language: text(&result["language"]).unwrap_or_default(),
        fields: FIELDS.iter().map(|f| (*f, text(&extracted[*f]))).collect(),
        // every drop the result records (the provider grounds early too); the value is known
        // for the drops of the final pass
        drops: result["grounding"]["dropped"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| {
                let field = text(&d["field"])?;
                let value = final_drops
                    .iter()
                    .find(|f| f.field == field)
                    .map(|f| f.value.to_string())
                    .unwrap_or_default();
                Some(GroundingDrop {
                    lead: lead_id.to_owned(),
                    value,
                    field,
                    source: text(&d["source"]).unwrap_or_default(),
                    reason: text(&d["reason"]).unwrap_or_default(),
                })
            })
            .collect(),
        survived: 0,
        calls: result["usage"]["calls"].as_u64().unwrap_or(0),
        prompt_tokens: result["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: result["usage"]["completion_tokens"].as_u64().unwrap_or(0),
        asked: result["usage"]["asked"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(text)
            .collect(),
        repairs: result["usage"]["repairs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(text)
            .collect(),
        fallbacks: result["fallbacks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["used"] == "local")
            .filter_map(|f| text(&f["task"]))
            .collect(),
        seconds: 0.0,
    }
}

fn gold_field<'a>(labels: &'a Labels, field: &str) -> Option<&'a str> {
    match field {
        "email" => labels.email.as_deref(),
        "phone" => labels.phone.as_deref(),
        "name" => labels.name.as_deref(),
        "company" => labels.company.as_deref(),
        _ => None,
    }
}

/// Values compare after trimming, case-insensitively (e-mail addresses and names are written
/// in any case; phone numbers are E.164 on both sides).
fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

fn score(pairs: &[(&Labelled, &Answer)]) -> Scores {
    let n = pairs.len();
    let category_right = pairs
        .iter()
        .filter(|(l, a)| a.category.as_deref() == Some(l.labels.category.as_str()))
        .count();
    // Macro-F1 over every (tenant, category) that occurs in the gold labels.
    let mut classes: BTreeMap<(String, String), (usize, usize, usize)> = BTreeMap::new(); // tp, fp, fn
    for (l, a) in pairs {
        let gold = (l.tenant_id.clone(), l.labels.category.clone());
        classes.entry(gold.clone()).or_default();
        match &a.category {
            Some(p) if *p == l.labels.category => classes.entry(gold).or_default().0 += 1,
            Some(p) => {
                classes.entry(gold).or_default().2 += 1;
                classes
                    .entry((l.tenant_id.clone(), p.clone()))
                    .or_default()
                    .1 += 1;
            }
            None => classes.entry(gold).or_default().2 += 1,
        }
    }
    let gold_classes: Vec<_> = classes
        .iter()
        .filter(|(class, _)| {
            pairs
                .iter()
                .any(|(l, _)| l.tenant_id == class.0 && l.labels.category == class.1)
        })
        .map(|(_, counts)| *counts)
        .collect();
    let macro_f1 = if gold_classes.is_empty() {
        0.0
    } else {
        gold_classes
            .iter()
            .map(|&(tp, fp, fn_)| super::classify::f1(tp, fp, fn_))
            .sum::<f64>()
            / gold_classes.len() as f64
    };
    let tp = pairs
        .iter()
        .filter(|(l, a)| l.labels.spam && a.is_spam)
        .count();
    let fp = pairs
        .iter()
        .filter(|(l, a)| !l.labels.spam && a.is_spam)
        .count();
    let fn_ = pairs
        .iter()
        .filter(|(l, a)| l.labels.spam && !a.is_spam)
        .count();
    let spam_precision = ratio(tp, tp + fp);
    let spam_recall = ratio(tp, tp + fn_);
    let confident: Vec<_> = pairs.iter().filter(|(_, a)| !a.needs_human).collect();
    let confident_right = confident
        .iter()
        .filter(|(l, a)| a.category.as_deref() == Some(l.labels.category.as_str()))
        .count();
    let mut field_exact = BTreeMap::new();
    let mut field_wrong = BTreeMap::new();
    for field in FIELDS {
        let mut right = 0;
        let mut wrong = 0;
        for (l, a) in pairs {
            let gold = gold_field(&l.labels, field);
            let given = a.fields.get(field).cloned().flatten();
            match (gold, given.as_deref()) {
                (None, None) => right += 1,
                (Some(g), Some(p)) if same(g, p) => right += 1,
                (_, Some(_)) => wrong += 1,
                (Some(_), None) => {}
            }
        }
        field_exact.insert(field.to_owned(), ratio(right, n));
        field_wrong.insert(field.to_owned(), wrong);
    }
    let mut grounding_dropped = BTreeMap::new();
    for (_, a) in pairs {
        for drop in &a.drops {
            *grounding_dropped.entry(drop.field.clone()).or_insert(0) += 1;
        }
    }
    Scores {
        leads: n,
        category_accuracy: ratio(category_right, n),
        model_category_accuracy: ratio(
            pairs
                .iter()
                .filter(|(l, a)| a.model_category.as_deref() == Some(l.labels.category.as_str()))
                .count(),
            n,
        ),
        local_category_accuracy: ratio(
            pairs
                .iter()
                .filter(|(l, a)| a.local_category.as_deref() == Some(l.labels.category.as_str()))
                .count(),
            n,
        ),
        category_macro_f1: macro_f1,
        spam_precision,
        spam_recall,
        spam_f1: super::classify::f1(tp, fp, fn_),
        route_accuracy: ratio(
            pairs
                .iter()
                .filter(|(l, a)| a.route == l.labels.route)
                .count(),
            n,
        ),
        language_accuracy: ratio(
            pairs
                .iter()
                .filter(|(l, a)| a.language == l.labels.language)
                .count(),
            n,
        ),
        needs_human_share: ratio(n - confident.len(), n),
        accuracy_when_confident: ratio(confident_right, confident.len()),
        field_exact,
        field_wrong,
        grounding_dropped,
    }
}

/// The report as a table.
pub fn table(report: &TriageReport) -> String {
    let mut out = format!(
        "triage on the {:?} split: {} leads in {:.1}s\n\n",
        report.split, report.overall.leads, report.seconds
    );
    out.push_str("| group | leads | category | macro-F1 | spam P | spam R | spam F1 | route | language | needs_human | acc. rest | email | phone | name | company |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let mut row = |name: &str, s: &Scores| {
        let f = |k: &str| s.field_exact.get(k).copied().unwrap_or(0.0);
        out.push_str(&format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            s.leads,
            s.category_accuracy,
            s.category_macro_f1,
            s.spam_precision,
            s.spam_recall,
            s.spam_f1,
            s.route_accuracy,
            s.language_accuracy,
            s.needs_human_share,
            s.accuracy_when_confident,
            f("email"),
            f("phone"),
            f("name"),
            f("company"),
        ));
    };
    row("all", &report.overall);
    for (tenant, s) in &report.by_tenant {
        row(&format!("tenant {tenant}"), s);
    }
    for (language, s) in &report.by_language {
        row(&format!("language {language}"), s);
    }
    if report.engine == EngineChoice::Openai {
        let p = &report.provider;
        out.push_str(&format!(
            "\nprovider: {:.1} calls, {:.0} prompt and {:.0} completion tokens per lead; latency p50 {:.1}s, p95 {:.1}s\ncategory accuracy of the results {:.3}; the model's own answers {:.3}, the local classifier's {:.3}\n",
            p.calls_per_lead, p.prompt_tokens_per_lead, p.completion_tokens_per_lead, p.latency_p50, p.latency_p95,
            report.overall.category_accuracy, report.overall.model_category_accuracy, report.overall.local_category_accuracy
        ));
        out.push_str(
            "| task | first answer valid | repaired | local answer stood |\n|---|---|---|---|\n",
        );
        for (task, valid) in &p.first_answer_valid {
            out.push_str(&format!(
                "| {task} | {valid:.3} | {:.3} | {:.3} |\n",
                p.repair_rate.get(task).copied().unwrap_or(0.0),
                p.fallback_rate.get(task).copied().unwrap_or(0.0)
            ));
        }
    }
    for drop in &report.grounding_drops {
        out.push_str(&format!(
            "dropped: lead {} {} {} (from {}): {}\n",
            drop.lead, drop.field, drop.value, drop.source, drop.reason
        ));
    }
    let dropped = &report.overall.grounding_dropped;
    out.push_str(&format!(
        "\nextracted values not found in the lead (dropped by grounding): {}{}\n",
        dropped.values().sum::<usize>(),
        if dropped.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                dropped
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ));
    out.push_str(&format!(
        "extracted values not in the lead that reached a result: {}\n",
        report.invented_values_published
    ));
    for (tenant, matrix) in &report.confusion {
        out.push_str(&format!(
            "\nconfusion, {tenant} (rows gold, columns predicted):\n"
        ));
        let mut columns: Vec<&String> = matrix.values().flat_map(|r| r.keys()).collect();
        columns.sort();
        columns.dedup();
        out.push_str(&format!(
            "| gold \\ predicted | {} |\n",
            columns
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        out.push_str(&format!("|---|{}\n", "---|".repeat(columns.len())));
        for (gold, predicted) in matrix {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| predicted.get(*c).copied().unwrap_or(0).to_string())
                .collect();
            out.push_str(&format!("| {gold} | {} |\n", cells.join(" | ")));
        }
    }
    out
}
