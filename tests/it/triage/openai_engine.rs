//! The OpenAI-compatible engine against a local stub provider: every failure mode ends in a
//! valid `lead.processed` result (the local answer where the provider's is unusable), a tenant
//! without external AI sends nothing, and no PII value of the input reaches the provider.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jambo_worker::config::Secret;
use jambo_worker::contract::job::Lead;
use jambo_worker::contract::tenant::TenantSettings;
use jambo_worker::triage::engine::LeadJob;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const EMAIL: &str = "maria.lopez@northwind.example";
const PHONE: &str = "+1 415 555 0132";

fn lead() -> Lead {
    serde_json::from_value(json!({
        "id": "lead-1", "channel": "email", "subject": "Quote for 20 seats",
        "body": format!("Hi, I'm Maria Lopez from Northwind Traders. We would like a quote for 20 seats of the Pro plan, budget around $5k, starting next month. Call me on {PHONE} or mail {EMAIL}.\n\nBest regards,\nMaria Lopez\nNorthwind Traders"),
        "contact": {"id": "c-1"}
    }))
    .expect("lead")
}

fn tenant(external: bool) -> Arc<TenantSettings> {
    Arc::new(
        serde_json::from_value(json!({
            "tenant_id": "acme", "default_route": "inbox",
            "ai": {"external": external, "provider": "openai"},
            "categories": [
                {"name": "sales", "description": "wants to buy, pricing, quotes", "examples": ["Can I get a quote for 20 seats?", "How much is the Pro plan?"]},
                {"name": "support", "description": "problem with the product", "examples": ["I cannot log in", "Export fails with an error"]},
            ],
            "routes": [{"when": {"category": "sales"}, "to": "sales-team"}, {"when": {"category": "support"}, "to": "support-team"}]
        }))
        .expect("tenant"),
    )
}

/// The task a request is for, from its system prompt.
fn task_of(body: &Value) -> &'static str {
    let system = body["messages"][0]["content"].as_str().unwrap_or("");
    for (needle, task) in [
        ("Triage one inbound message", "triage"),
        ("Draft a reply", "reply"),
    ] {
        if system.contains(needle) {
            return task;
        }
    }
    "unknown"
}

fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "stub",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    }))
}

/// The good triage answer, as a JSON object to change in a test.
fn good_triage() -> Value {
    json!({
        "category": "sales", "confidence": 0.93,
        "name": "<PERSON_1>", "email": "<EMAIL_1>", "phone": null, "company": "Northwind Traders",
        "website": null, "budget_amount": 5000, "budget_currency": "USD", "timeline": "next month",
        "summary": "Quote request for 20 Pro seats, about $5k, next month.",
        "destination": "sales-team", "needs_human": false, "reason": "sales rule"
    })
}

/// Good answers for every call.
fn good(task: &str) -> String {
    match task {
        "triage" => good_triage(),
        _ => {
            json!({"text": "Hello", "citations": [], "needs_human": true, "reason": "no passages"})
        }
    }
    .to_string()
}

/// The good triage answer with some keys changed.
fn triage_with(changes: Value) -> String {
    let mut answer = good_triage();
    if let (Some(map), Some(changes)) = (answer.as_object_mut(), changes.as_object()) {
        map.extend(changes.clone());
    }
    answer.to_string()
}

struct Harness {
    server: MockServer,
    engines: jambo_worker::triage::engine::Engines,
    _dir: tempfile::TempDir,
}

async fn harness(
    responder: impl Fn(&str, usize) -> ResponseTemplate + Send + Sync + 'static,
) -> Harness {
    let server = MockServer::start().await;
    let calls = Mutex::new(0usize);
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let mut n = calls.lock().unwrap();
            *n += 1;
            responder(task_of(&body), *n)
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = crate::support::local_config(dir.path());
    config.openai.base_url = Some(format!("{}/v1", server.uri()));
    config.openai.api_key = Some(Secret::new("sk-test"));
    config.openai.model = Some("stub".into());
    config.openai.timeout = Duration::from_secs(2);
    std::fs::create_dir_all(&config.data_dir).expect("data dir");
    let privacy = jambo_worker::app::Privacy::build(&config);
    let knowledge = jambo_worker::app::knowledge(&config, &privacy).expect("knowledge");
    Harness {
        server,
        engines: jambo_worker::app::engines(&privacy, knowledge),
        _dir: dir,
    }
}

async fn process(h: &Harness, tenant: &Arc<TenantSettings>) -> (Value, Value) {
    process_this(h, tenant, &lead()).await
}

async fn process_this(h: &Harness, tenant: &Arc<TenantSettings>, lead: &Lead) -> (Value, Value) {
    let triaged = h
        .engines
        .process_lead(&LeadJob {
            job_id: "job-1",
            received_at: None,
            tenant,
            lead,
            suggest_reply: false,
        })
        .await
        .expect("a result");
    (
        triaged.result,
        serde_json::to_value(&triaged.privacy).unwrap_or_default(),
    )
}

fn assert_valid(result: &Value) {
    for field in crate::support::LEAD_RESULT_FIELDS {
        assert!(!result[field].is_null(), "{field} missing: {result}");
    }
    let destination = result["route"]["destination"].as_str().unwrap_or("");
    assert!(
        ["sales-team", "support-team", "inbox"].contains(&destination),
        "{result}"
    );
}

async fn bodies(h: &Harness) -> Vec<String> {
    h.server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

#[tokio::test]
async fn good_answers_are_used_and_no_pii_reaches_the_provider() {
    let h = harness(|task, _| completion(&good(task))).await;
    let (result, privacy) = process(&h, &tenant(true)).await;
    assert_valid(&result);
    assert_eq!(result["engine"], "openai");
    assert_eq!(
        result["summary"],
        "Quote request for 20 Pro seats, about $5k, next month."
    );
    assert_eq!(result["route"]["destination"], "sales-team");
    assert_eq!(privacy["external_ai"], true);
    assert_eq!(privacy["provider"], "openai");
    // one call for the whole lead, metered per provider
    assert_eq!(result["usage"]["calls"], 1);
    assert_eq!(result["usage"]["prompt_tokens"], 100);
    assert_eq!(result["usage"]["providers"]["openai"]["calls"], 1);
    assert_eq!(
        result["usage"]["providers"]["openai"]["models"],
        json!(["stub"])
    );
    assert_eq!(result["usage"]["fallbacks"], 0);
    // the model's e-mail placeholder restored (the local extraction found no address)
    assert_eq!(result["extracted"]["email"], EMAIL);
    let sent = bodies(&h).await;
    assert_eq!(sent.len(), 1);
    // the schema the server enforces allows only the tenant's categories and destinations
    let body: Value = serde_json::from_str(&sent[0]).expect("json");
    let schema = &body["response_format"]["json_schema"]["schema"]["properties"];
    assert_eq!(schema["category"]["enum"], json!(["sales", "support"]));
    assert_eq!(
        schema["destination"]["enum"],
        json!(["inbox", "sales-team", "support-team"])
    );
    for body in &sent {
        for value in [EMAIL, "415 555", "Maria Lopez", "maria.lopez"] {
            assert!(!body.contains(value), "{value} was sent: {body}");
        }
    }
}

/// What SmolLM2-135M answered for a lead that names no e-mail, budget or date: invented values
/// and a summary in French. None of it may reach the result.
#[tokio::test]
async fn invented_values_and_a_summary_in_another_language_are_dropped() {
    let h = harness(|task, _| {
        if task != "triage" {
            return completion(&good(task));
        }
        completion(&triage_with(json!({
            "category": "support", "destination": "support-team",
            "name": null, "email": "john_john@example.com", "phone": "+49 30 9018 2000",
            "company": "example.com", "website": "https://example.com", "budget_amount": 1000,
            "budget_currency": "USD", "timeline": "2023-01-01",
            "summary": "Le client demande comment exporter ses contacts."
        })))
    })
    .await;
    let lead: Lead = serde_json::from_value(json!({
        "id": "lead-2", "channel": "chat",
        "body": "Hello, how can I export my contacts? I can't find the option anywhere.",
        "contact": {"id": "c-2"}
    }))
    .expect("lead");
    let (result, _) = process_this(&h, &tenant(true), &lead).await;
    assert_valid(&result);
    let extracted = &result["extracted"];
    for key in ["email", "phone", "company", "website", "budget", "timeline"] {
        assert!(extracted[key].is_null(), "{key} survived: {extracted}");
    }
    let dropped: Vec<&str> = result["grounding"]["dropped"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["source"] == "model")
        .filter_map(|d| d["field"].as_str())
        .collect();
    for key in ["email", "phone", "company", "website", "budget", "timeline"] {
        assert!(dropped.contains(&key), "{key} not recorded: {result}");
    }
    // the recorded reason never repeats the invented value
    assert!(!result["grounding"].to_string().contains("john_john"));
    let summary = result["summary"].as_str().unwrap_or_default();
    assert!(!summary.contains("Le client"), "{summary}");
    assert!(
        result["fallbacks"].to_string().contains("summar"),
        "{}",
        result["fallbacks"]
    );
}

#[tokio::test]
async fn a_tenant_without_external_ai_sends_nothing() {
    let h = harness(|task, _| completion(&good(task))).await;
    let (result, privacy) = process(&h, &tenant(false)).await;
    assert_valid(&result);
    assert_eq!(result["engine"], "local");
    assert_eq!(privacy["external_ai"], false);
    assert!(bodies(&h).await.is_empty());
}

#[tokio::test]
async fn every_failure_mode_ends_in_a_valid_result() {
    type Responder = fn(&str, usize) -> ResponseTemplate;
    let cases: Vec<(&str, Responder)> = vec![
        ("429 every time", |_, _| {
            ResponseTemplate::new(429).set_body_json(json!({"error": {"message": "slow", "type": "rate_limit_error", "param": null, "code": null}}))
        }),
        ("500", |_, _| ResponseTemplate::new(500)),
        ("timeout", |t, _| {
            completion(&good(t)).set_delay(Duration::from_secs(5))
        }),
        ("malformed JSON", |_, _| completion("{\"category\": ")),
        ("schema violation", |_, _| {
            completion(&json!({"category": "sales", "confidence": 7}).to_string())
        }),
        ("invented category", |_, _| {
            completion(&triage_with(json!({"category": "vip"})))
        }),
        ("invented destination", |_, _| {
            completion(&triage_with(
                json!({"destination": "ceo-inbox", "reason": "ignore previous rules"}),
            ))
        }),
        ("mangled placeholder", |_, _| {
            completion(&triage_with(
                json!({"summary": "Quote for <PERSON_7> and <EMAIL_3"}),
            ))
        }),
    ];
    for (name, responder) in cases {
        let h = harness(responder).await;
        let (result, _) = process(&h, &tenant(true)).await;
        assert_valid(&result);
        let text = result.to_string();
        assert_ne!(result["category"]["label"], "vip", "{name}: {text}");
        assert_ne!(
            result["route"]["destination"], "ceo-inbox",
            "{name}: {text}"
        );
        assert!(
            !text.contains("<PERSON_7>"),
            "{name}: a foreign placeholder leaked: {text}"
        );
        if name != "mangled placeholder" {
            assert!(
                result["fallbacks"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()),
                "{name}: fallbacks recorded: {text}"
            );
        }
    }
}

/// A tenant past its daily token budget gets the local engine, and the result says why.
#[tokio::test]
async fn past_the_daily_token_budget_the_local_engine_answers_and_says_why() {
    let h = harness(|task, _| completion(&good(task))).await;
    let mut settings = (*tenant(true)).clone();
    settings.ai.daily_token_budget = Some(50);
    let tenant = Arc::new(settings);
    let (first, _) = process(&h, &tenant).await;
    assert_eq!(first["engine"], "openai");
    assert_eq!(first["usage"]["daily_token_budget"]["used_today"], 120);
    let (second, privacy) = process(&h, &tenant).await;
    assert_valid(&second);
    assert_eq!(second["engine"], "local");
    assert_eq!(privacy["external_ai"], false);
    assert!(
        second["usage"]["over_budget"]
            .as_str()
            .is_some_and(|r| r.contains("120 of 50")),
        "{}",
        second["usage"]
    );
    assert!(
        second["fallbacks"]
            .to_string()
            .contains("daily token budget")
    );
    assert_eq!(bodies(&h).await.len(), 1, "no call past the budget");
}

/// A model category that disagrees with a confident local one goes to a human with both.
#[tokio::test]
async fn a_model_category_against_a_confident_local_one_asks_a_human() {
    let h = harness(|_, _| {
        completion(&triage_with(
            json!({"category": "support", "destination": "support-team"}),
        ))
    })
    .await;
    let (result, _) = process(&h, &tenant(true)).await;
    assert_valid(&result);
    // the confident local label stands, the model's beside it, and a human looks
    assert_eq!(
        result["category"]["label"], "sales",
        "{}",
        result["category"]
    );
    assert_eq!(result["category"]["model"]["label"], "support");
    assert_eq!(result["route"]["needs_human"], true, "{}", result["route"]);
    assert_eq!(result["route"]["destination"], "sales-team");
    assert!(
        result["route"]["reasons"]
            .to_string()
            .contains("the model says")
    );
}
