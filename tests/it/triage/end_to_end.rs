//! The whole mission through the worker binary on the real RabbitMQ: a tenant configured, the
//! fixture help center indexed as its knowledge, leads triaged and routed with suggested
//! replies, a `reply.suggest` answered on its reply queue. With `OPENAI_BASE_URL` (and
//! `OPENAI_API_KEY`, `OPENAI_MODEL`) set, the same run goes through that real endpoint.

use std::collections::HashMap;
use std::time::Duration;

use lapin::BasicProperties;
use serde_json::{Value, json};

use crate::knowledge::fixture_site::FixtureServer;
use crate::support::*;

const LONG: Duration = Duration::from_secs(240);

fn tenant(external: bool) -> Value {
    json!({
        "tenant_id": "t1", "default_route": "inbox",
        "ai": {"external": external, "training_opt_in": false, "provider": if external { "openai" } else { "local" }},
        "categories": [
            {"name": "sales", "description": "wants to buy, asks about pricing, plans, quotes or a demo",
             "examples": ["Can I get a quote for 20 seats?", "Do you offer a nonprofit discount?", "What does the Professional plan cost?"]},
            {"name": "support", "description": "has a problem with the product or needs help using it",
             "examples": ["I cannot log in since yesterday", "How do I export my contacts?", "The Outlook sync stopped working"]},
            {"name": "billing", "description": "invoices, payments, refunds",
             "examples": ["I was charged twice this month", "Please send me the invoice for March"]},
        ],
        "routes": [
            {"when": {"spam": true}, "to": "spam"},
            {"when": {"category": "sales"}, "to": "sales-team"},
            {"when": {"category": "support"}, "to": "support-team"},
            {"when": {"category": "billing"}, "to": "billing-team"},
        ]
    })
}

fn leads() -> Vec<(String, Value)> {
    vec![
        (
            "lead-sales".into(),
            json!({"lead": {"id": "l1", "channel": "form", "subject": "Pricing for 20 seats",
            "body": "Hi, we are a team of 20 at Northwind Traders and would like a quote for the Professional plan. How much does it cost per user? Thanks, Maria Lopez",
            "contact": {"id": "c-1", "name": "Maria Lopez", "email": "maria.lopez@northwind.example"},
            "fields": {"company": "Northwind Traders"}}, "suggest_reply": true}),
        ),
        (
            "lead-support".into(),
            json!({"lead": {"id": "l2", "channel": "email", "subject": "Export",
            "body": "Hello, how can I export my contacts to CSV? I can't find the option.\n\nBest regards,\nJohn Smith\nSmith & Co",
            "contact": {"id": "c-2", "email": "john@smithco.example"}}, "suggest_reply": true}),
        ),
        (
            "lead-de".into(),
            json!({"lead": {"id": "l3", "channel": "chat",
            "body": "Hallo, ich wurde diesen Monat zweimal belastet. Bitte erstatten Sie den doppelten Betrag.",
            "contact": {"id": "c-3"}}}),
        ),
    ]
}

async fn run(external: bool, env: &[(&str, &str)]) {
    let _lock = broker_lock(false);
    let site = FixtureServer::start().await;
    let prefix = unique_prefix(if external { "e2e-openai" } else { "e2e" });
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let replies = format!("{prefix}test.replies");
    broker.declare_queue(&replies).await;
    let data = tempfile::tempdir().unwrap();
    let ops = crate::support::free_port();
    let mut all_env = vec![
        ("JAMBO__KNOWLEDGE__ALLOW_PRIVATE_NETWORK", "true"),
        ("JAMBO__HTTP__LISTEN", ops.as_str()),
    ];
    all_env.extend_from_slice(env);
    let _worker = WorkerProcess::start(&prefix, data.path(), &all_env);

    broker
        .publish_job(
            "tenant.configure",
            &job("e2e-tenant", "tenant.configure", tenant(external)),
        )
        .await;
    broker
        .publish_job(
            "source.reindex",
            &job(
                "e2e-source",
                "source.reindex",
                json!({"source": {"id": "help", "url": site.url("/"), "max_pages": 60}, "mode": "incremental"}),
            ),
        )
        .await;
    // Wait for the index before the leads, so replies can cite it.
    let mut by_id: HashMap<String, Value> = HashMap::new();
    let mut progress = 0;
    while !by_id.contains_key("e2e-source") {
        let got = broker.take(&events, 1, LONG).await;
        assert!(!got.is_empty(), "no source.indexed within {LONG:?}");
        for r in got {
            let event = r.json();
            if event["type"] == "source.progress" {
                progress += 1;
                continue;
            }
            by_id.insert(event["job_id"].as_str().unwrap_or("").to_owned(), event);
        }
    }
    assert!(progress > 0, "source.progress events were published");
    let indexed = &by_id["e2e-source"];
    assert_eq!(indexed["type"], "source.indexed", "{indexed}");
    assert!(
        indexed["result"]["pages_indexed"].as_u64().unwrap_or(0) >= 20,
        "{indexed}"
    );

    for (id, payload) in leads() {
        broker
            .publish_job("lead.process", &job(&id, "lead.process", payload))
            .await;
    }
    let properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_reply_to(replies.as_str().into())
        .with_correlation_id("conv-corr".into());
    broker
        .publish_with(
            "reply.suggest",
            &job(
                "e2e-reply",
                "reply.suggest",
                json!({"conversation": {"id": "conv-1", "contact": {"id": "c-2", "name": "John Smith"},
                    "messages": [{"role": "customer", "text": "How do I turn on two-factor authentication?"}]}}),
            ),
            properties,
        )
        .await;

    while by_id.len() < 6 {
        let got = broker.take(&events, 1, LONG).await;
        assert!(!got.is_empty(), "missing results: have {:?}", by_id.keys());
        for r in got {
            let event = r.json();
            if event["type"] != "source.progress" {
                by_id.insert(event["job_id"].as_str().unwrap_or("").to_owned(), event);
            }
        }
    }
    for id in ["lead-sales", "lead-support", "lead-de"] {
        let event = &by_id[id];
        assert_eq!(event["type"], "lead.processed", "{event}");
        let result = &event["result"];
        for field in crate::support::LEAD_RESULT_FIELDS {
            assert!(
                !result[field].is_null(),
                "{id}: {field} missing in {result}"
            );
        }
        for key in [
            "destination",
            "rule",
            "confidence",
            "needs_human",
            "reasons",
        ] {
            assert!(!result["route"][key].is_null(), "{id}: route.{key} missing");
        }
        for key in ["name", "email", "phone", "company"] {
            assert!(
                result["extracted"].get(key).is_some(),
                "{id}: extracted.{key} missing"
            );
        }
        assert_eq!(event["privacy"]["external_ai"], json!(external), "{event}");
    }
    // whatever the engine, no extracted value the lead does not contain reaches a result
    for (id, payload) in leads() {
        let lead_text = payload["lead"].to_string().to_lowercase();
        let extracted = &by_id[&id]["result"]["extracted"];
        for key in ["email", "name", "company"] {
            if let Some(value) = extracted[key].as_str() {
                for word in value.to_lowercase().split_whitespace() {
                    assert!(
                        lead_text.contains(word),
                        "{id}: {key} {value:?} is not in the lead"
                    );
                }
            }
        }
        assert!(
            extracted["budget"].is_null(),
            "{id}: a budget no lead names: {extracted}"
        );
        if let Some(timeline) = extracted["timeline"].as_str() {
            assert!(
                lead_text.contains(&timeline.to_lowercase()),
                "{id}: timeline {timeline:?}"
            );
        }
        assert!(by_id[&id]["result"]["grounding"]["dropped"].is_array());
    }
    let sales = &by_id["lead-sales"]["result"];
    // the company comes from the form, whichever engine answers
    assert_eq!(sales["extracted"]["company"], "Northwind Traders");
    if external {
        // a 135M model proves the protocol, not the quality: what it answers must be valid
        for id in ["lead-sales", "lead-support", "lead-de"] {
            let result = &by_id[id]["result"];
            let label = result["category"]["label"].as_str().unwrap_or_default();
            assert!(
                ["sales", "support", "billing"].contains(&label),
                "{id}: {result}"
            );
            // one triage call per lead (and its repair), one reply call (and its repair)
            assert_eq!(result["usage"]["asked"][0], "triage", "{id}: {result}");
            let calls = result["usage"]["calls"].as_u64().unwrap_or(0);
            assert!((1..=4).contains(&calls), "{id}: {calls} calls");
            assert!(
                result["usage"]["providers"]["openai"]["calls"].as_u64() == Some(calls),
                "{id}: {}",
                result["usage"]
            );
            let destination = result["route"]["destination"].as_str().unwrap_or_default();
            assert!(
                [
                    "sales-team",
                    "support-team",
                    "billing-team",
                    "spam",
                    "inbox"
                ]
                .contains(&destination),
                "{id}: {result}"
            );
        }
        let reply = broker.take(&replies, 1, LONG).await.remove(0);
        assert_eq!(reply.json()["type"], "reply.suggested");
        // usage metered per tenant and provider on /metrics
        let metrics = crate::support::http_get(&ops, "/metrics");
        for series in [
            r#"jambo_provider_calls_total{tenant="t1",provider="openai",outcome="ok"}"#,
            r#"jambo_provider_tokens_total{tenant="t1",provider="openai",direction="prompt"}"#,
        ] {
            assert!(metrics.contains(series), "{series} missing:\n{metrics}");
        }
        broker.cleanup().await;
        return;
    }
    assert_eq!(sales["category"]["label"], "sales", "{sales}");
    assert_eq!(sales["route"]["destination"], "sales-team");
    assert!(
        sales["reply"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Maria"),
        "{sales}"
    );
    let support = &by_id["lead-support"]["result"];
    assert_eq!(support["route"]["destination"], "support-team", "{support}");
    let cited: Vec<String> = support["reply"]["citations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["url"].as_str().map(str::to_owned))
        .collect();
    assert!(
        cited.iter().any(|u| u.contains("exporting-contacts")),
        "{support}"
    );
    assert_eq!(by_id["lead-de"]["result"]["language"], "de");

    let reply = broker.take(&replies, 1, LONG).await.remove(0);
    assert_eq!(
        reply
            .properties
            .correlation_id()
            .as_ref()
            .map(|s| s.as_str()),
        Some("conv-corr")
    );
    let answer = reply.json();
    assert_eq!(answer["type"], "reply.suggested", "{answer}");
    assert!(
        !answer["result"]["reply"]["text"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
    assert!(answer["result"]["needs_human"].is_boolean());
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_triaged_routed_and_answered_from_the_indexed_help_center() {
    run(false, &[]).await;
}

/// The same run against the real OpenAI-compatible server named by `OPENAI_BASE_URL`
/// (`scripts/test.sh` starts llama.cpp's server with SmolLM2-135M-Instruct when none is named);
/// without one this test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_run_against_a_real_openai_compatible_endpoint() {
    let base = std::env::var("OPENAI_BASE_URL").expect(
        "OPENAI_BASE_URL names no OpenAI-compatible server: run ./scripts/test.sh, which starts one",
    );
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-local-test".into());
    let model = std::env::var("OPENAI_MODEL").expect("OPENAI_MODEL names the served model");
    // the help center is embedded through the same server (`/v1/embeddings`): its model and
    // vector size (scripts/test.sh names SmolLM2's, 576)
    let embedding_model =
        std::env::var("OPENAI_EMBEDDING_MODEL").unwrap_or_else(|_| "text-embedding-3-small".into());
    let dimensions = std::env::var("OPENAI_EMBEDDING_DIMENSIONS").unwrap_or_else(|_| "0".into());
    run(
        true,
        &[
            ("JAMBO__OPENAI__BASE_URL", &base),
            ("JAMBO__OPENAI__MODEL", &model),
            ("JAMBO__OPENAI__EMBEDDING_MODEL", &embedding_model),
            ("JAMBO__OPENAI__EMBEDDING_DIMENSIONS", &dimensions),
            ("OPENAI_API_KEY", &key),
        ],
    )
    .await;
}
