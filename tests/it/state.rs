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

fn postgres_url() -> String {
    std::env::var("JAMBO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

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

    // many replicas racing for many jobs: each job has exactly one winner
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
        for job in 0..40 {
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
    let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let applied: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {}.jambo_migrations", schema.name),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1, "each migration recorded once");
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
