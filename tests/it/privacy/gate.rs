//! The one exit to AI providers, against a local OpenAI-compatible stub: refusal sends nothing,
//! what is sent is redacted, `store` follows consent, every call is audited without content,
//! provider failures end in typed errors, and a call that cannot be audited is not made.

use std::sync::Arc;
use std::time::Duration;

use jambo_worker::config::{OpenAiConfig, Secret};
use jambo_worker::contract::tenant::TenantSettings;
use jambo_worker::models::Embedder;
use jambo_worker::privacy::audit::{AuditLog, Outcome, Purpose};
use jambo_worker::privacy::gate::{
    Call, ChatRequest, Gate, GateError, GatedEmbedder, ProviderErrorKind, restore_json,
};
use jambo_worker::privacy::redact::{Pseudonymizer, Redactor, RedactorConfig};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const EMAIL: &str = "maria.lopez@northwind.example";
const PHONE: &str = "+1 415 555 0132";
const NAME: &str = "Maria Lopez";

fn tenant(external: bool, training: bool) -> TenantSettings {
    serde_json::from_value(json!({
        "tenant_id": "acme",
        "ai": {"external": external, "training_opt_in": training, "provider": "openai"},
    }))
    .expect("tenant settings")
}

fn config(server: &MockServer, timeout: Duration) -> OpenAiConfig {
    OpenAiConfig {
        base_url: Some(format!("{}/v1", server.uri())),
        model: Some("stub-model".into()),
        api_key: Some(Secret::new("sk-test")),
        embedding_model: "stub-embed".into(),
        embedding_dimensions: Some(4),
        embedding_batch: 2,
        timeout,
        models: Default::default(),
    }
}

struct Setup {
    gate: Arc<Gate>,
    audit: Arc<AuditLog>,
    _dir: tempfile::TempDir,
}

fn setup(server: &MockServer, timeout: Duration) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = Arc::new(AuditLog::new(dir.path()));
    let redactor = Arc::new(Redactor::new(RedactorConfig::default()));
    let gate = Arc::new(Gate::new(&config(server, timeout), redactor, audit.clone()));
    Setup {
        gate,
        audit,
        _dir: dir,
    }
}

fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "stub-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    }))
}

fn request() -> ChatRequest {
    ChatRequest {
        system: "Draft a short reply.".into(),
        user: format!("Hi, my name is {NAME}. Mail me at {EMAIL} or call {PHONE}."),
        schema: None,
        max_tokens: 200,
        task: "reply",
    }
}

fn bodies(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

#[tokio::test]
async fn refused_tenant_sends_nothing_and_is_audited() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("never"))
        .expect(0)
        .mount(&server)
        .await;
    let s = setup(&server, Duration::from_secs(5));
    let tenant = tenant(false, false);
    let call = Call {
        tenant: &tenant,
        job_id: "job-1",
        purpose: Purpose::Reply,
    };
    let mut p = Pseudonymizer::new();
    let err = s.gate.chat(call, &mut p, &request()).await.unwrap_err();
    assert!(matches!(err, GateError::Refused(_)), "{err:?}");
    let err = s.gate.embed(call, &["hello".to_owned()]).await.unwrap_err();
    assert!(matches!(err, GateError::Refused(_)));
    assert!(
        GatedEmbedder::new(
            s.gate.clone(),
            Arc::new(tenant.clone()),
            "j",
            Purpose::EmbedQuery
        )
        .is_err()
    );
    let records = s.audit.read_all().await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.outcome == Outcome::Refused));
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn chat_is_redacted_store_follows_consent_and_reply_is_restored() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(
            "Dear <PERSON_1>, we will write to <EMAIL_1>. Regards, <PERSON_9>",
        ))
        .mount(&server)
        .await;
    let s = setup(&server, Duration::from_secs(5));
    for training in [false, true] {
        let tenant = tenant(true, training);
        let call = Call {
            tenant: &tenant,
            job_id: "job-2",
            purpose: Purpose::Reply,
        };
        let mut p = Pseudonymizer::new();
        let answer = s.gate.chat(call, &mut p, &request()).await.expect("answer");
        let mut value = Value::String(answer.content.clone());
        let unknown = restore_json(&mut value, &p);
        let text = value.as_str().unwrap_or_default().to_owned();
        assert!(text.contains(NAME) && text.contains(EMAIL), "{text}");
        assert!(
            !text.contains("<PERSON_9>"),
            "an invented placeholder leaked: {text}"
        );
        assert_eq!(unknown, 1);
        assert_eq!(answer.usage.prompt_tokens, 42);
        assert!(answer.usage.redactions.get("EMAIL").copied().unwrap_or(0) >= 1);
        let sent = bodies(&server.received_requests().await.unwrap_or_default());
        let last: Value = serde_json::from_str(sent.last().unwrap()).unwrap();
        assert_eq!(last["store"], json!(training));
    }
    let sent = bodies(&server.received_requests().await.unwrap_or_default());
    assert_eq!(sent.len(), 2);
    for body in &sent {
        for value in [EMAIL, PHONE, NAME, "415 555"] {
            assert!(
                !body.contains(value),
                "{value} reached the provider: {body}"
            );
        }
    }
    let audit = std::fs::read_dir(s.audit.dir())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    for value in [EMAIL, PHONE, NAME, "Mail me"] {
        assert!(!audit.contains(value), "audit holds content: {audit}");
    }
    let records = s.audit.read_all().await.unwrap();
    assert_eq!(
        records.len(),
        4,
        "a pending record before each call, its outcome after"
    );
    let (pending, done): (Vec<_>, Vec<_>) =
        records.iter().partition(|r| r.outcome == Outcome::Pending);
    assert_eq!(pending.len(), 2);
    assert!(
        done.iter()
            .all(|r| r.outcome == Outcome::Ok && r.completion_tokens == 7)
    );
    for (before, after) in pending.iter().zip(&done) {
        assert!(!before.call_id.is_empty());
        assert_eq!(before.call_id, after.call_id, "the outcome names its call");
    }
    assert!(!done[0].provider_may_store);
    assert!(done[1].provider_may_store);
}

#[tokio::test]
async fn embeddings_pass_the_gate_in_batches() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(|req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let n = body["input"].as_array().map_or(0, Vec::len);
            let data: Vec<Value> = (0..n)
                .rev()
                .map(|i| json!({"object": "embedding", "index": i, "embedding": [i as f32, 0.0, 0.0, 1.0]}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "object": "list", "model": "stub-embed", "data": data,
                "usage": {"prompt_tokens": 5, "total_tokens": 5}
            }))
        })
        .mount(&server)
        .await;
    let s = setup(&server, Duration::from_secs(5));
    let embedder = GatedEmbedder::new(
        s.gate.clone(),
        Arc::new(tenant(true, false)),
        "job-3",
        Purpose::EmbedKnowledge,
    )
    .expect("allowed");
    assert_eq!(embedder.dimension(), 4);
    let texts = vec![
        format!("Contact {EMAIL}"),
        "pricing plans".to_owned(),
        format!("call {PHONE}"),
    ];
    let vectors = embedder.embed(&texts).await.expect("vectors");
    assert_eq!(vectors.len(), 3);
    assert_eq!(vectors[1][0], 1.0, "vectors come back in input order");
    let sent = bodies(&server.received_requests().await.unwrap_or_default());
    assert_eq!(sent.len(), 2, "batches of 2");
    assert!(
        sent.iter()
            .all(|b| !b.contains(EMAIL) && !b.contains("555 0132"))
    );
    assert_eq!(embedder.usage().prompt_tokens, 10);
    let outcomes: Vec<Outcome> = s
        .audit
        .read_all()
        .await
        .unwrap()
        .iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Pending, Outcome::Ok],
        "one call, audited before and after"
    );
}

async fn failing(template: ResponseTemplate, timeout: Duration) -> (GateError, Setup, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    let s = setup(&server, timeout);
    let tenant = tenant(true, false);
    let call = Call {
        tenant: &tenant,
        job_id: "job-4",
        purpose: Purpose::Classify,
    };
    let err = s
        .gate
        .chat(call, &mut Pseudonymizer::new(), &request())
        .await
        .unwrap_err();
    (err, s, server)
}

fn kind(err: &GateError) -> Option<ProviderErrorKind> {
    match err {
        GateError::Provider { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[tokio::test]
async fn provider_failures_are_typed_and_audited() {
    let (err, s, server) = failing(
        ResponseTemplate::new(500).set_body_string("boom"),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(kind(&err), Some(ProviderErrorKind::Server));
    assert!(
        server.received_requests().await.unwrap_or_default().len() > 1,
        "5xx is retried"
    );
    let records = s.audit.read_all().await.unwrap();
    assert_eq!(records[0].outcome, Outcome::Pending);
    assert_eq!(records[1].outcome, Outcome::Failed);
    assert_eq!(records[1].error_kind.as_deref(), Some("server_error"));

    let (err, _, _) = failing(
        ResponseTemplate::new(200).set_body_string("{not json"),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(kind(&err), Some(ProviderErrorKind::BadResponse));

    let (err, _, _) = failing(
        completion("late").set_delay(Duration::from_secs(3)),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(kind(&err), Some(ProviderErrorKind::Timeout));
    assert!(kind(&err).is_some_and(ProviderErrorKind::is_transient));
}

#[tokio::test]
async fn rate_limit_is_retried_until_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "error": {"message": "slow down", "type": "rate_limit_error", "param": null, "code": null}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(completion("fine"))
        .with_priority(2)
        .mount(&server)
        .await;
    let s = setup(&server, Duration::from_secs(20));
    let tenant = tenant(true, false);
    let call = Call {
        tenant: &tenant,
        job_id: "job-5",
        purpose: Purpose::Summarize,
    };
    let answer = s
        .gate
        .chat(call, &mut Pseudonymizer::new(), &request())
        .await
        .expect("retried");
    assert_eq!(answer.content, "fine");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        2
    );
}

/// A call that cannot be audited is not made: with the audit folder unwritable the pending
/// record fails, and the provider receives nothing, neither a chat nor an embedding.
#[tokio::test]
async fn no_audit_no_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("never"))
        .expect(0)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The audit log's folder is a file: nothing can be written under it (root can write through
    // permission bits, not through a file).
    std::fs::write(dir.path().join("audit"), b"not a folder").unwrap();
    let audit = Arc::new(AuditLog::new(dir.path()));
    let redactor = Arc::new(Redactor::new(RedactorConfig::default()));
    let gate = Gate::new(&config(&server, Duration::from_secs(5)), redactor, audit);
    let tenant = tenant(true, false);
    let call = Call {
        tenant: &tenant,
        job_id: "job-9",
        purpose: Purpose::Reply,
    };
    let err = gate
        .chat(call, &mut Pseudonymizer::new(), &request())
        .await
        .unwrap_err();
    assert!(matches!(err, GateError::Audit(_)), "{err:?}");
    let err = gate.embed(call, &["hello".to_owned()]).await.unwrap_err();
    assert!(matches!(err, GateError::Audit(_)), "{err:?}");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "the provider received a call that was never audited"
    );
}

/// A gate with `[openai]` on `primary` and one more provider, `backup`, on its own stub.
fn chain_setup(primary: &MockServer, backup: &MockServer) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = Arc::new(AuditLog::new(dir.path()));
    let redactor = Arc::new(Redactor::new(RedactorConfig::default()));
    let backup = jambo_worker::config::ChatProvider {
        name: "backup".into(),
        base_url: Some(format!("{}/v1", backup.uri())),
        model: Some("backup-model".into()),
        api_key: Some(Secret::new("sk-backup")),
        timeout: Duration::from_secs(5),
        models: [("reply".to_owned(), "backup-reply-model".to_owned())].into(),
    };
    let gate = Arc::new(Gate::with_providers(
        &config(primary, Duration::from_secs(5)),
        &[backup],
        redactor,
        audit.clone(),
    ));
    Setup {
        gate,
        audit,
        _dir: dir,
    }
}

fn chain_tenant(extra: Value) -> TenantSettings {
    let mut settings = json!({
        "tenant_id": "acme",
        "ai": {"external": true, "provider": "openai", "providers": ["openai", "backup"]},
    });
    if let (Some(ai), Some(extra)) = (settings["ai"].as_object_mut(), extra.as_object()) {
        ai.extend(extra.clone());
    }
    serde_json::from_value(settings).expect("tenant settings")
}

fn model_of(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    body["model"].as_str().unwrap_or_default().to_owned()
}

/// A long `Retry-After` is not waited for: the next provider of the chain answers, and the
/// first is not called again until its time is up.
#[tokio::test]
async fn a_long_retry_after_moves_the_chain_on_and_keeps_the_provider_out() {
    let primary = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(json!({"error": {"message": "slow", "type": "rate_limit_error", "param": null, "code": null}})),
        )
        .mount(&primary)
        .await;
    let backup = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("from backup"))
        .mount(&backup)
        .await;
    let s = chain_setup(&primary, &backup);
    let tenant = chain_tenant(json!({}));
    let call = Call {
        tenant: &tenant,
        job_id: "job-10",
        purpose: Purpose::Triage,
    };
    let mut request = request();
    request.task = "triage";
    for _ in 0..3 {
        let answer = s
            .gate
            .chat(call, &mut Pseudonymizer::new(), &request)
            .await
            .expect("the backup answers");
        assert_eq!(answer.content, "from backup");
        assert_eq!(answer.provider, "backup");
        assert_eq!(answer.model, "backup-model");
    }
    let asked = primary.received_requests().await.unwrap_or_default().len();
    assert_eq!(
        asked, 1,
        "the primary asked to wait 30 s and was not called again"
    );
    let records = s.audit.read_all().await.unwrap();
    assert!(records.iter().any(|r| r.provider == "openai"
        && r.outcome == Outcome::Failed
        && r.error_kind.as_deref() == Some("rate_limited")));
    assert_eq!(
        records
            .iter()
            .filter(|r| r.provider == "backup" && r.outcome == Outcome::Ok)
            .count(),
        3
    );
}

/// A model per call: the tenant's choice wins, then the provider's per-call model, then its
/// default model.
#[tokio::test]
async fn each_call_gets_its_model() {
    let primary = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&primary)
        .await;
    let backup = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("ok"))
        .mount(&backup)
        .await;
    let s = chain_setup(&primary, &backup);
    let mut request = request();
    for (tenant, task, model) in [
        (
            chain_tenant(json!({"providers": ["backup"]})),
            "reply",
            "backup-reply-model",
        ),
        (
            chain_tenant(json!({"providers": ["backup"]})),
            "triage",
            "backup-model",
        ),
        (
            chain_tenant(json!({"providers": ["backup"], "models": {"triage": "tenant-model"}})),
            "triage",
            "tenant-model",
        ),
    ] {
        request.task = task;
        let call = Call {
            tenant: &tenant,
            job_id: "job-11",
            purpose: Purpose::Triage,
        };
        let answer = s
            .gate
            .chat(call, &mut Pseudonymizer::new(), &request)
            .await
            .expect("answer");
        assert_eq!(answer.model, model, "{task}");
        let last = backup.received_requests().await.unwrap_or_default();
        assert_eq!(model_of(last.last().expect("a request")), model);
    }
    assert!(
        primary
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "a chain without the primary never calls it"
    );
}

/// Past its daily token budget a tenant gets no call: the refusal is typed and audited.
#[tokio::test]
async fn the_daily_token_budget_stops_calls() {
    let primary = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("ok"))
        .mount(&primary)
        .await;
    let backup = MockServer::start().await;
    let s = chain_setup(&primary, &backup);
    // the stub reports 42 + 7 tokens a call
    let tenant = chain_tenant(json!({"daily_token_budget": 60}));
    let call = Call {
        tenant: &tenant,
        job_id: "job-12",
        purpose: Purpose::Triage,
    };
    for _ in 0..2 {
        s.gate
            .chat(call, &mut Pseudonymizer::new(), &request())
            .await
            .expect("within the budget");
    }
    assert_eq!(s.gate.tokens_used_today(&tenant), 98);
    let err = s
        .gate
        .chat(call, &mut Pseudonymizer::new(), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GateError::OverBudget {
                used: 98,
                budget: 60
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        primary.received_requests().await.unwrap_or_default().len(),
        2
    );
    let records = s.audit.read_all().await.unwrap();
    assert_eq!(records.last().map(|r| r.outcome), Some(Outcome::Refused));
}
