//! A fleet on shared PostgreSQL state and one RabbitMQ: replicas of the worker binary, each with
//! its own data dir, the tenant configured through the queue, jobs published twice, one replica
//! killed with SIGKILL and started again while jobs are in flight. Every job runs once across
//! the fleet: every published copy of a job's result is the same event (its nonce), one stored
//! result per job id in PostgreSQL, none lost.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jambo_worker::contract::job::Family;
use jambo_worker::runtime::worker::lane_of;
use serde_json::json;

use crate::support::*;

const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_shared_postgres_run_each_job_once_through_a_kill() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("fleet");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let schema = format!("jt_fleet_{:08x}", rand::random::<u32>());
    let url = postgres_url();
    let env = [
        ("JAMBO__STATE__BACKEND", "postgres"),
        ("JAMBO__STATE__URL", url.as_str()),
        ("JAMBO__STATE__SCHEMA", schema.as_str()),
        ("JAMBO__STATE__POOL_SIZE", "4"),
        // a killed replica's claims are taken over after this
        ("JAMBO__STATE__CLAIM_LEASE_SECS", "3"),
        ("JAMBO__AMQP__PREFETCH", "100"),
        ("JAMBO__WORKER__CONCURRENCY__TEST", "16"),
    ];
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut first = WorkerProcess::start(&prefix, dirs[0].path(), &env);
    // the tenant lives in PostgreSQL: configured through the queue, once, for the whole fleet
    broker
        .publish_job(
            "tenant.configure",
            &job(
                "fleet-tenant",
                "tenant.configure",
                json!({"tenant_id": "t1"}),
            ),
        )
        .await;
    let configured = broker.take(&events, 1, LONG).await;
    assert_eq!(configured[0].json()["type"], "tenant.configured");
    let _second = WorkerProcess::start(&prefix, dirs[1].path(), &env);

    const JOBS: usize = 400;
    let mut published = 0;
    for i in 0..JOBS {
        let body = work(&format!("f{i}"), json!({"sleep_ms": 5}));
        broker.publish_job("test.work", &body).await;
        published += 1;
        if i % 10 == 0 {
            // 10 % of the job ids published twice
            broker.publish_job("test.work", &body).await;
            published += 1;
        }
    }
    // the tenant.configured event counts as one id
    let mut received = configured;
    received.extend(broker.take(&events, 60, LONG).await);
    first.kill9();
    let _restarted = WorkerProcess::start(&prefix, dirs[2].path(), &env);
    // a job the killed replica had published but not acknowledged is delivered again and its
    // stored result published again: wait for every job id, not for a count of events
    let ids = |received: &[Received]| {
        received
            .iter()
            .map(|r| r.json()["job_id"].as_str().unwrap_or("").to_owned())
            .collect::<HashSet<_>>()
            .len()
    };
    while ids(&received) < JOBS + 1 || received.len() < published + 1 {
        let got = broker.take(&events, 1, LONG).await;
        assert!(
            !got.is_empty(),
            "{} of {JOBS} job ids have results after the kill",
            ids(&received)
        );
        received.extend(got);
        received.extend(broker.drain(&events).await);
    }
    let mut nonces: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &received {
        let event = r.json();
        if event["type"] == "tenant.configured" {
            continue;
        }
        assert_eq!(event["type"], "test.done", "{event}");
        nonces
            .entry(event["job_id"].as_str().unwrap().to_owned())
            .or_default()
            .insert(event["result"]["nonce"].as_str().unwrap().to_owned());
    }
    assert_eq!(nonces.len(), JOBS, "every job has a result");
    let twice: Vec<_> = nonces.iter().filter(|(_, n)| n.len() > 1).collect();
    // a job the killed replica finished but had not acknowledged runs once more only if its
    // result was not stored; stored results are re-published, never re-run
    assert!(twice.is_empty(), "jobs that ran twice: {twice:?}");

    let client = sql().await;
    let stored: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {schema}.jambo_jobs WHERE tenant_id = 't1' AND job_id ~ '^f[0-9]+$' AND state = 'done'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored as usize, JOBS, "one stored result per job id");
    broker.cleanup().await;
    let _ = client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await;
}

/// A job that runs longer than the claim lease keeps its claim (the running replica renews it):
/// its copy on the other replica waits and is answered with the one stored result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_longer_than_the_claim_lease_is_not_taken_over() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("lease");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let schema = format!("jt_lease_{:08x}", rand::random::<u32>());
    let url = postgres_url();
    let env = [
        ("JAMBO__STATE__BACKEND", "postgres"),
        ("JAMBO__STATE__URL", url.as_str()),
        ("JAMBO__STATE__SCHEMA", schema.as_str()),
        ("JAMBO__STATE__CLAIM_LEASE_SECS", "1"),
        // a replica holding the long job takes nothing else: the copy goes to the other one
        ("JAMBO__AMQP__PREFETCH", "1"),
    ];
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let _a = WorkerProcess::start(&prefix, dirs[0].path(), &env);
    broker
        .publish_job(
            "tenant.configure",
            &job(
                "lease-tenant",
                "tenant.configure",
                json!({"tenant_id": "t1"}),
            ),
        )
        .await;
    assert_eq!(
        broker.take(&events, 1, LONG).await[0].json()["type"],
        "tenant.configured"
    );
    // a 3.5 s job, three lease periods: the first replica takes it, then the second replica
    // comes up and gets the copy
    let body = work("long", json!({"sleep_ms": 3500}));
    broker.publish_job("test.work", &body).await;
    let queue = broker.names.lane_queue(lane_of(Family::Test));
    while broker.depth(&queue).await > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _b = WorkerProcess::start(&prefix, dirs[1].path(), &env);
    let consumers = || {
        let out = std::process::Command::new("rabbitmqctl")
            .args(["list_queues", "-q", "name", "consumers"])
            .output()
            .expect("rabbitmqctl");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{queue}\t")).map(str::to_owned))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    while consumers() < 2 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    broker.publish_job("test.work", &body).await;
    let got = broker.take(&events, 2, LONG).await;
    let nonces: HashSet<String> = got
        .iter()
        .map(|r| {
            r.json()["result"]["nonce"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(nonces.len(), 1, "the long job ran twice: {nonces:?}");
    broker.cleanup().await;
    let _ = sql()
        .await
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await;
}
