//! The state stores: the contract every `JobStore` must meet, run on the embedded store and on
//! PostgreSQL, and what only the shared store promises a fleet: a job id claimed once across
//! replicas, a redelivery answered from the stored result on another replica, migrations that
//! replicas starting together apply once, tenant settings with a version seen by every replica.
//! PostgreSQL is this machine's (`JAMBO_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test works in a schema of its own and
//! drops it. Without a reachable server these tests fail.

use std::sync::Arc;
use std::time::Duration;

use jambo_worker::contract::keys::SubjectKey;
use jambo_worker::contract::tenant::TenantSettings;
use jambo_worker::state::jobs::{Claim, JobStore, RedbJobStore};
use jambo_worker::state::postgres::{PgJobStore, PgSettings, PgState};
use jambo_worker::state::tenants::TenantStore;
use serde_json::json;

use crate::support::{postgres_url, sql};

/// A schema of this test's own, dropped when the guard goes.
struct Schema {
    name: String,
}

impl Schema {
    fn new(what: &str) -> Schema {
        Schema {
            name: format!("jt_{what}_{:08x}", rand::random::<u32>()),
        }
    }

    fn settings(&self, lease: Duration) -> PgSettings {
        PgSettings {
            url: postgres_url(),
            password: None,
            schema: self.name.clone(),
            pool_size: 4,
            claim_lease: lease,
        }
    }

    async fn connect(&self, lease: Duration) -> PgState {
        PgState::connect(&self.settings(lease))
            .await
            .unwrap_or_else(|err| panic!("PostgreSQL at {} is needed: {err}", postgres_url()))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // a runtime of its own: the test's may be shutting down
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// What every job store must do: store and read back, erase by subject and by tenant, count,
/// list a tenant's results, expire nothing inside the window, claim: `Run` for a new job,
/// `Done` with the result for a finished one.
async fn conformance(store: &dyn JobStore) {
    assert_eq!(store.get("t1", "j1").await.unwrap(), None);
    assert_eq!(store.claim("t1", "j1").await.unwrap(), Claim::Run);
    store
        .put_about(
            "t1",
            "j1",
            b"{\"r\":1}".to_vec(),
            vec![SubjectKey::contact("c-1")],
        )
        .await
        .unwrap();
    store
        .put_about(
            "t1",
            "j2",
            b"{\"r\":2}".to_vec(),
            vec![SubjectKey::source("s-1")],
        )
        .await
        .unwrap();
    store.put("t2", "j1", b"{\"r\":3}".to_vec()).await.unwrap();
    assert_eq!(
        store.get("t1", "j1").await.unwrap().as_deref(),
        Some(&b"{\"r\":1}"[..])
    );
    assert_eq!(
        store.claim("t1", "j1").await.unwrap(),
        Claim::Done(b"{\"r\":1}".to_vec()),
        "a finished job is answered from its result"
    );
    assert_eq!(store.count().await.unwrap(), 3);
    assert_eq!(store.results("t1").await.unwrap().len(), 2);
    assert_eq!(
        store.expire().await.unwrap(),
        0,
        "nothing is older than the window"
    );
    assert_eq!(
        store
            .erase("t1", Some(&SubjectKey::contact("c-1")))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.get("t1", "j1").await.unwrap(), None);
    assert!(store.get("t1", "j2").await.unwrap().is_some());
    assert_eq!(store.erase("t1", None).await.unwrap(), 1);
    assert!(store.results("t1").await.unwrap().is_empty());
    assert!(
        store.get("t2", "j1").await.unwrap().is_some(),
        "other tenants keep theirs"
    );
    store.release("t2", "j9").await.unwrap();
}

#[tokio::test]
async fn the_embedded_job_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbJobStore::open(&dir.path().join("jobs.redb"), Duration::from_secs(3600))
        .expect("store");
    conformance(&store).await;
}

#[tokio::test]
async fn the_postgres_job_store_meets_the_contract() {
    let schema = Schema::new("conf");
    let state = schema.connect(Duration::from_secs(60)).await;
    let store = PgJobStore::new(state, Duration::from_secs(3600));
    conformance(&store).await;
}

/// Two replicas on one database: a job id is claimed by one of them; the other sees it busy
/// while it runs, then gets the stored result; a released claim can be taken again, and so can a
/// claim whose lease ran out (its replica died).
#[tokio::test]
async fn a_job_is_claimed_once_across_replicas() {
    let schema = Schema::new("claim");
    let a = PgJobStore::new(
        schema.connect(Duration::from_secs(60)).await,
        Duration::from_secs(3600),
    );
    let b = PgJobStore::new(
        schema.connect(Duration::from_secs(60)).await,
        Duration::from_secs(3600),
    );
    assert_eq!(a.claim("t", "job").await.unwrap(), Claim::Run);
    assert_eq!(b.claim("t", "job").await.unwrap(), Claim::Busy);
    a.put("t", "job", b"result".to_vec()).await.unwrap();
    assert_eq!(
        b.claim("t", "job").await.unwrap(),
        Claim::Done(b"result".to_vec()),
        "the redelivery on the other replica re-publishes the stored result"
    );

    assert_eq!(b.claim("t", "failing").await.unwrap(), Claim::Run);
    b.release("t", "failing").await.unwrap();
    assert_eq!(a.claim("t", "failing").await.unwrap(), Claim::Run);

    // many replicas racing for many jobs, each job twice on each replica (so twice in one of
    // its batched statements): each job has exactly one winner
    let stores: Vec<Arc<PgJobStore>> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(Arc::new(PgJobStore::new(
                schema.connect(Duration::from_secs(60)).await,
                Duration::from_secs(3600),
            )));
        }
        v
    };
    let mut tasks = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        for job in (0..40).chain(0..40) {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                (
                    job,
                    i,
                    store.claim("t", &format!("race-{job}")).await.unwrap(),
                )
            }));
        }
    }
    let mut winners = std::collections::HashMap::new();
    for task in tasks {
        let (job, replica, claim) = task.await.unwrap();
        if claim == Claim::Run {
            assert!(
                winners.insert(job, replica).is_none(),
                "job {job} was claimed twice"
            );
        }
    }
    assert_eq!(winners.len(), 40, "every job had a winner");
    // results stored at once, some twice: one row each
    let puts: Vec<_> = (0..40)
        .chain(0..10)
        .map(|job| {
            let store = stores[0].clone();
            tokio::spawn(async move {
                store
                    .put("u", &format!("race-{job}"), b"r".to_vec())
                    .await
                    .unwrap()
            })
        })
        .collect();
    for put in puts {
        put.await.unwrap();
    }
    assert_eq!(
        stores[0].results("u").await.unwrap().len(),
        40,
        "one stored result per job"
    );

    let short = PgJobStore::new(
        schema.connect(Duration::from_secs(1)).await,
        Duration::from_secs(3600),
    );
    assert_eq!(short.claim("t", "orphan").await.unwrap(), Claim::Run);
    assert_eq!(a.claim("t", "orphan").await.unwrap(), Claim::Busy);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        a.claim("t", "orphan").await.unwrap(),
        Claim::Run,
        "a claim whose lease ran out is taken over"
    );
}

/// Replicas that start together migrate the schema once and all come up.
#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let schema = Schema::new("migrate");
    let settings = schema.settings(Duration::from_secs(60));
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let settings = settings.clone();
            tokio::spawn(async move { PgState::connect(&settings).await })
        })
        .collect();
    for start in starts {
        start.await.unwrap().expect("every replica starts");
    }
    let client = sql().await;
    let row = client
        .query_one(
            &format!(
                "SELECT count(*), count(DISTINCT version), max(version) FROM {}.jambo_migrations",
                schema.name
            ),
            &[],
        )
        .await
        .unwrap();
    let (applied, distinct, last): (i64, i64, i32) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(applied, distinct, "each migration recorded once");
    assert_eq!(i64::from(last), applied, "every migration applied");
}

/// Settings written through one replica govern the next lookup on every replica, with a version
/// that grows by one per change.
#[tokio::test]
async fn tenant_settings_written_on_one_replica_govern_the_next_job_on_every_replica() {
    let schema = Schema::new("tenants");
    let one = Arc::new(TenantStore::shared(
        schema.connect(Duration::from_secs(60)).await,
    ));
    let other = TenantStore::shared(schema.connect(Duration::from_secs(60)).await);
    assert!(other.lookup("acme").await.unwrap().is_none());
    let mut settings: TenantSettings = serde_json::from_value(json!({
        "tenant_id": "acme", "default_route": "inbox",
    }))
    .unwrap();
    one.store(&settings).await.unwrap();
    assert_eq!(
        other.lookup("acme").await.unwrap().unwrap().default_route,
        "inbox"
    );
    settings.default_route = "desk".into();
    one.store(&settings).await.unwrap();
    assert_eq!(
        other.lookup("acme").await.unwrap().unwrap().default_route,
        "desk",
        "the change reaches the other replica's next lookup"
    );
    assert_eq!(other.ids().await.unwrap(), vec!["acme".to_owned()]);
}

/// Usage is metered per tenant, day and provider in the shared database: jobs as their results
/// are stored, provider calls and tokens; and a tenant's daily token budget holds across
/// replicas (a second replica's gate sees what the first one used).
#[tokio::test]
async fn usage_is_metered_for_the_fleet_and_the_budget_holds_across_replicas() {
    use jambo_worker::config::{OpenAiConfig, Secret};
    use jambo_worker::privacy::audit::{AuditLog, Purpose};
    use jambo_worker::privacy::gate::{Call, ChatRequest, Gate, GateError};
    use jambo_worker::privacy::redact::{Pseudonymizer, Redactor, RedactorConfig};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let schema = Schema::new("usage");
    let state = schema.connect(Duration::from_secs(60)).await;
    let jobs = PgJobStore::new(state.clone(), Duration::from_secs(3600));
    jobs.put("acme", "j1", b"{}".to_vec()).await.unwrap();
    jobs.put("acme", "j2", b"{}".to_vec()).await.unwrap();

    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "stub",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let gate = |state: PgState| {
        let config = OpenAiConfig {
            base_url: Some(format!("{}/v1", server.uri())),
            model: Some("stub".into()),
            api_key: Some(Secret::new("sk-test")),
            embedding_model: "e".into(),
            embedding_dimensions: None,
            embedding_batch: 8,
            timeout: Duration::from_secs(5),
            models: Default::default(),
        };
        let gate = Gate::new(
            &config,
            Arc::new(Redactor::new(RedactorConfig::default())),
            Arc::new(AuditLog::new(dir.path())),
        );
        gate.share_usage(state);
        gate
    };
    let first = gate(state.clone());
    let second = gate(schema.connect(Duration::from_secs(60)).await);
    let tenant: TenantSettings = serde_json::from_value(json!({
        "tenant_id": "acme", "ai": {"external": true, "provider": "openai", "daily_token_budget": 60},
    }))
    .unwrap();
    let call = Call {
        tenant: &tenant,
        job_id: "j3",
        purpose: Purpose::Triage,
    };
    let request = ChatRequest {
        system: "Say ok.".into(),
        user: "ok?".into(),
        schema: None,
        max_tokens: 10,
        task: "triage",
    };
    first
        .chat(call, &mut Pseudonymizer::new(), &request)
        .await
        .expect("within the budget");
    second
        .chat(call, &mut Pseudonymizer::new(), &request)
        .await
        .expect("49 of 60 used: still within");
    let err = first
        .chat(call, &mut Pseudonymizer::new(), &request)
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
        "the first replica sees the second one's tokens: {err:?}"
    );
    let rows = state.usage("acme").await.unwrap();
    let calls: Vec<_> = rows.iter().filter(|r| r.provider == "openai").collect();
    assert_eq!(calls.len(), 1, "{rows:?}");
    assert_eq!(
        (
            calls[0].calls,
            calls[0].prompt_tokens,
            calls[0].completion_tokens
        ),
        (2, 84, 14)
    );
    let job_rows: Vec<_> = rows.iter().filter(|r| r.provider.is_empty()).collect();
    assert_eq!(job_rows[0].jobs, 2, "{rows:?}");
    // a tenant's erasure takes its usage too
    jobs.erase("acme", None).await.unwrap();
    assert!(state.usage("acme").await.unwrap().is_empty());
}

/// The audit log in the shared database: a review through any replica sees every replica's
/// records, and retention removes the old ones.
#[tokio::test]
async fn the_audit_log_of_every_replica_is_one_log() {
    use jambo_worker::privacy::audit::{AuditLog, AuditRecord, Outcome, Purpose};
    let schema = Schema::new("audit");
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let logs: Vec<AuditLog> = {
        let mut v = Vec::new();
        for dir in &dirs {
            let log = AuditLog::new(dir.path());
            log.share(schema.connect(Duration::from_secs(60)).await);
            v.push(log);
        }
        v
    };
    let record = |job: &str, time: &str| AuditRecord {
        time: time.into(),
        call_id: "c".into(),
        tenant_id: "acme".into(),
        job_id: job.into(),
        purpose: Purpose::Triage,
        provider: "openai".into(),
        model: "m".into(),
        outcome: Outcome::Ok,
        prompt_tokens: 1,
        completion_tokens: 1,
        redactions: Default::default(),
        provider_may_store: false,
        error_kind: None,
    };
    logs[0]
        .append(&record("old", "2020-01-01T00:00:00Z"))
        .await
        .unwrap();
    logs[0]
        .append(&record("a", &AuditLog::now()))
        .await
        .unwrap();
    logs[1]
        .append(&record("b", &AuditLog::now()))
        .await
        .unwrap();
    let jobs: Vec<String> = logs[1]
        .read_all()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.job_id)
        .collect();
    assert_eq!(jobs, ["old", "a", "b"]);
    assert_eq!(
        logs[1]
            .expire(Duration::from_secs(86_400 * 30))
            .await
            .unwrap(),
        1
    );
    assert_eq!(logs[0].read_all().await.unwrap().len(), 2);
    // nothing went to the replicas' own day files
    assert!(!dirs[0].path().join("audit").exists());
}

/// The one-shot commands (`ingest`, `search`, `export-training`) read the fleet's tenants and
/// results when the config names the shared state, not the local tenants dir and job store.
#[tokio::test]
async fn one_shot_commands_read_the_fleets_tenants_and_results() {
    let schema = Schema::new("oneshot");
    let state = schema.connect(Duration::from_secs(60)).await;
    state
        .put_tenant(&TenantSettings::defaults("fleet-only"))
        .await
        .unwrap();
    let store = PgJobStore::new(state, Duration::from_secs(3600));
    store.put("fleet-only", "j1", b"r".to_vec()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::support::local_config(dir.path());
    config.state = jambo_worker::config::StateConfig::Postgres {
        url: postgres_url(),
        password: None,
        schema: schema.name.clone(),
        pool_size: 2,
        claim_lease: Duration::from_secs(60),
    };
    let stores = jambo_worker::app::stores(&config).await.unwrap();
    let tenants = jambo_worker::app::all_tenants(&stores.tenants)
        .await
        .unwrap();
    assert_eq!(
        tenants
            .iter()
            .map(|t| t.tenant_id.as_str())
            .collect::<Vec<_>>(),
        ["fleet-only"]
    );
    assert_eq!(
        stores.jobs.results("fleet-only").await.unwrap(),
        vec![b"r".to_vec()]
    );
}
