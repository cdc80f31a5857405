//! The worker binary against the real RabbitMQ: round trip and request/reply, bad input,
//! retries, kill -9 with jobs in flight, broker connections closed, graceful shutdown.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jambo_worker::contract::job::Family;
use jambo_worker::queue::amqp::Names;
use jambo_worker::runtime::worker::lane_of;
use jambo_worker::state::jobs::{JobStore, RedbJobStore};
use lapin::BasicProperties;
use serde_json::json;

use crate::support::*;

const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_comes_back_on_events_and_on_its_reply_queue() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("roundtrip");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let replies = format!("{prefix}test.replies");
    broker.declare_queue(&replies).await;
    let data = tempfile::tempdir().unwrap();
    let ops = free_port();
    let _worker = WorkerProcess::start(&prefix, data.path(), &[("JAMBO__HTTP__LISTEN", &ops)]);

    broker
        .publish_job("test.work", &work("rt-1", json!({})))
        .await;
    let properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_reply_to(replies.as_str().into())
        .with_correlation_id("corr-42".into());
    broker
        .publish_with("test.work", &work("rt-2", json!({})), properties)
        .await;
    broker
        .publish_job(
            "tenant.configure",
            &job(
                "rt-3",
                "tenant.configure",
                json!({"tenant_id": "t1", "default_route": "desk"}),
            ),
        )
        .await;

    let got = broker.take(&events, 3, LONG).await;
    let mut by_id: HashMap<String, serde_json::Value> = got
        .iter()
        .map(|r| (r.json()["job_id"].as_str().unwrap().to_owned(), r.json()))
        .collect();
    let first = by_id.remove("rt-1").unwrap();
    assert_eq!(first["type"], "test.done");
    assert_eq!(first["v"], 1);
    assert_eq!(first["tenant_id"], "t1");
    assert_eq!(first["privacy"]["external_ai"], false);
    assert_eq!(by_id["rt-3"]["type"], "tenant.configured");
    assert_eq!(by_id["rt-3"]["result"]["destinations"], json!(["desk"]));

    let reply = broker.take(&replies, 1, LONG).await.remove(0);
    assert_eq!(
        reply
            .properties
            .correlation_id()
            .as_ref()
            .map(|s| s.as_str()),
        Some("corr-42")
    );
    assert_eq!(reply.json()["job_id"], "rt-2");
    assert_eq!(
        reply.json(),
        by_id["rt-2"],
        "the reply is the same event as on jambo.events"
    );

    assert!(http_get(&ops, "/healthz").starts_with("HTTP/1.1 200"));
    assert!(http_get(&ops, "/readyz").starts_with("HTTP/1.1 200"));
    let metrics = http_get(&ops, "/metrics");
    assert!(
        metrics.contains(r#"jambo_jobs_total{type="test.work",outcome="done"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains("jambo_job_duration_seconds_bucket"));
    assert!(metrics.contains("jambo_queue_lag_seconds"));
    assert!(metrics.contains("jambo_broker_connected 1"));
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_bad_input_is_dead_lettered_and_a_good_job_behind_it_succeeds() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("badinput");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let data = tempfile::tempdir().unwrap();
    let _worker = WorkerProcess::start(
        &prefix,
        data.path(),
        &[("JAMBO__WORKER__MAX_BODY_BYTES", "4096")],
    );

    let bad: Vec<(&str, &str, Vec<u8>)> = vec![
        ("invalid_json", "lead.process", b"{not json".to_vec()),
        ("invalid_utf8", "lead.process", b"{\"v\":1,\"id\":\"\xff\xfe\"}".to_vec()),
        ("invalid_job", "lead.process", job("missing-field", "lead.process", json!({"lead": {"id": "l", "channel": "form"}}))),
        ("invalid_job", "lead.process", br#"{"v":1,"id":"unknown-field","type":"lead.process","tenant_id":"t1","payload":{},"colour":"red"}"#.to_vec()),
        ("unknown_job_type", "lead.explode", job("unknown-type", "lead.explode", json!({}))),
        ("unknown_tenant", "test.work", serde_json::to_vec(&json!({"v":1,"id":"who","type":"test.work","tenant_id":"nobody","payload":{}})).unwrap()),
        ("too_large", "test.work", work("too-big", json!({"sleep_ms": 0, "pad": "x".repeat(5000)}))),
    ];
    for (_, routing_key, body) in &bad {
        broker.publish_job(routing_key, body).await;
    }
    // A job type no family queue is bound for goes to the catch-all queue, and dead-letters from there.
    broker
        .publish_job("mystery.job", &job("unroutable", "mystery.job", json!({})))
        .await;
    broker
        .publish_job("test.work", &work("good-after-bad", json!({})))
        .await;

    let got = broker.take(&events, bad.len() + 2, LONG).await;
    let failed: Vec<_> = got
        .iter()
        .map(|r| r.json())
        .filter(|e| e["type"] == "job.failed")
        .collect();
    assert_eq!(failed.len(), bad.len() + 1, "one job.failed per bad job");
    assert!(
        got.iter()
            .any(|r| r.json()["job_id"] == "good-after-bad" && r.json()["type"] == "test.done")
    );

    let mut dead = Vec::new();
    for family in [Family::Lead, Family::Test] {
        dead.extend(
            broker
                .drain(&Names::dead_queue(
                    &broker.names.lane_queue(lane_of(family)),
                ))
                .await,
        );
    }
    let mut kinds: Vec<String> = dead
        .iter()
        .map(|r| r.header("x-error-kind").unwrap())
        .collect();
    kinds.sort();
    let mut expected: Vec<String> = bad.iter().map(|(kind, _, _)| kind.to_string()).collect();
    expected.sort();
    assert_eq!(kinds, expected);
    for letter in &dead {
        assert!(!letter.header("x-error-message").unwrap().is_empty());
        assert_eq!(
            letter.header("x-attempts").as_deref(),
            Some("1"),
            "no retries for bad input"
        );
    }
    // The dead letter keeps the original body, byte for byte.
    assert!(dead.iter().any(|r| r.body == b"{not json"));
    let unrouted = broker
        .drain(&Names::dead_queue(&broker.names.unrouted_queue()))
        .await;
    assert_eq!(unrouted.len(), 1);
    assert_eq!(
        unrouted[0].header("x-error-kind").as_deref(),
        Some("unknown_job_type")
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_with_backoff_and_a_permanent_one_is_dead_lettered() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("retry");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let data = tempfile::tempdir().unwrap();
    let _worker = WorkerProcess::start(&prefix, data.path(), &[]);

    let started = std::time::Instant::now();
    broker
        .publish_job("test.work", &work("flaky", json!({"fail_attempts": 2})))
        .await;
    broker
        .publish_job("test.work", &work("doomed", json!({"always_fail": true})))
        .await;
    let got = broker.take(&events, 2, LONG).await;
    let flaky = got
        .iter()
        .map(|r| r.json())
        .find(|e| e["job_id"] == "flaky")
        .unwrap();
    assert_eq!(flaky["type"], "test.done");
    assert_eq!(
        flaky["result"]["attempt"], 3,
        "succeeded on the third attempt"
    );
    // Two backoffs of 100 ms and 200 ms (plus jitter) lie between the first attempt and success.
    assert!(started.elapsed() >= Duration::from_millis(300));

    let doomed = got
        .iter()
        .map(|r| r.json())
        .find(|e| e["job_id"] == "doomed")
        .unwrap();
    assert_eq!(doomed["type"], "job.failed");
    assert_eq!(doomed["result"]["error"]["kind"], "retries_exhausted");
    let dead = broker
        .drain(&Names::dead_queue(
            &broker.names.lane_queue(lane_of(Family::Test)),
        ))
        .await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].header("x-error-kind").as_deref(),
        Some("retries_exhausted")
    );
    assert_eq!(
        dead[0].header("x-attempts").as_deref(),
        Some(MAX_ATTEMPTS.to_string().as_str())
    );
    for level in 1..MAX_ATTEMPTS {
        assert_eq!(
            broker
                .depth(&broker.names.retry_queue(lane_of(Family::Test), level))
                .await,
            0
        );
    }
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_1000_jobs_in_flight_loses_none_and_runs_each_once() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("kill9");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let data = tempfile::tempdir().unwrap();
    const JOBS: usize = 1000;
    for i in 0..JOBS {
        broker
            .publish_job("test.work", &work(&format!("k{i}"), json!({"sleep_ms": 2})))
            .await;
    }
    let env = [
        ("JAMBO__AMQP__PREFETCH", "1000"),
        ("JAMBO__WORKER__CONCURRENCY__TEST", "100"),
    ];
    let mut worker = WorkerProcess::start(&prefix, data.path(), &env);
    let mut got = broker.take(&events, 50, LONG).await;
    // Every job has been delivered to the worker (none is ready in the queue) and most are
    // unfinished: they are in flight when the worker dies.
    let queue = broker.names.lane_queue(lane_of(Family::Test));
    while broker.depth(&queue).await > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.kill9();
    let finished_before_kill = broker.drain(&events).await;
    assert!(
        got.len() + finished_before_kill.len() < JOBS,
        "jobs were in flight at the kill"
    );
    got.extend(finished_before_kill);
    let _restarted = WorkerProcess::start(&prefix, data.path(), &env);

    let mut nonces: HashMap<String, HashSet<String>> = HashMap::new();
    let record = |nonces: &mut HashMap<String, HashSet<String>>, received: &[Received]| {
        for r in received {
            let event = r.json();
            assert_eq!(event["type"], "test.done", "{event}");
            let nonce = event["result"]["nonce"].as_str().unwrap().to_owned();
            nonces
                .entry(event["job_id"].as_str().unwrap().to_owned())
                .or_default()
                .insert(nonce);
        }
    };
    record(&mut nonces, &got);
    while nonces.len() < JOBS {
        got = broker.take(&events, 1, LONG).await;
        record(&mut nonces, &got);
    }
    assert_eq!(nonces.len(), JOBS, "every job has a result");
    let twice: Vec<_> = nonces
        .iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        twice.is_empty(),
        "jobs executed twice (different results published): {twice:?}"
    );
    drop(_restarted);
    let store =
        RedbJobStore::open(&data.path().join("jobs.redb"), Duration::from_secs(3600)).unwrap();
    assert_eq!(
        store.count().await.unwrap(),
        JOBS as u64,
        "one stored result per job"
    );
    assert_eq!(
        broker
            .depth(&broker.names.lane_queue(lane_of(Family::Test)))
            .await,
        0
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reconnects_after_the_broker_closes_its_connections() {
    let _lock = broker_lock(true);
    let prefix = unique_prefix("reconnect");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let data = tempfile::tempdir().unwrap();
    const JOBS: usize = 300;
    for i in 0..JOBS {
        broker
            .publish_job(
                "test.work",
                &work(&format!("r{i}"), json!({"sleep_ms": 20})),
            )
            .await;
    }
    let _worker = WorkerProcess::start(
        &prefix,
        data.path(),
        &[("JAMBO__WORKER__CONCURRENCY__TEST", "8")],
    );
    let mut seen: HashSet<String> = HashSet::new();
    for r in broker.take(&events, 30, LONG).await {
        seen.insert(r.json()["job_id"].as_str().unwrap().to_owned());
    }
    let status = std::process::Command::new("rabbitmqctl")
        .args([
            "close_all_connections",
            "jambo-worker test: broker goes away",
        ])
        .status()
        .expect("rabbitmqctl");
    assert!(status.success());
    // This helper's connection was closed too: open a new one and read on.
    let broker = Broker::connect(&prefix).await;
    while seen.len() < JOBS {
        for r in broker.take(&events, 1, LONG).await {
            seen.insert(r.json()["job_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        seen.len(),
        JOBS,
        "the backlog was finished after reconnecting"
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_jobs_requeues_the_rest_and_exits_0() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("sigterm");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let data = tempfile::tempdir().unwrap();
    for i in 0..12 {
        broker
            .publish_job(
                "test.work",
                &work(&format!("s{i}"), json!({"sleep_ms": 1500})),
            )
            .await;
    }
    let mut worker = WorkerProcess::start(
        &prefix,
        data.path(),
        &[("JAMBO__WORKER__CONCURRENCY__TEST", "4")],
    );
    let queue = broker.names.lane_queue(lane_of(Family::Test));
    broker.wait_for_consumer(&queue, LONG).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.sigterm();
    let status = worker.wait(LONG);
    assert_eq!(status.code(), Some(0));
    let done = broker.drain(&events).await;
    assert_eq!(done.len(), 4, "the 4 in-flight jobs finished");
    assert_eq!(
        broker.depth(&queue).await,
        8,
        "the 8 that had not started are back in the queue"
    );

    // With a drain timeout shorter than the jobs, in-flight jobs are requeued too.
    let mut worker = WorkerProcess::start(
        &prefix,
        data.path(),
        &[
            ("JAMBO__WORKER__CONCURRENCY__TEST", "4"),
            ("JAMBO__WORKER__DRAIN_TIMEOUT_SECS", "0"),
        ],
    );
    broker.wait_for_consumer(&queue, LONG).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.sigterm();
    assert_eq!(worker.wait(LONG).code(), Some(0));
    assert_eq!(
        broker.depth(&queue).await,
        8,
        "nothing lost: all 8 requeued"
    );
    broker.cleanup().await;
}

/// With `amqp.queue_type = "quorum"` the job queues are quorum queues with a delivery limit: a
/// message that is delivered again and again without an ack (one that kills every worker that
/// takes it) goes to the dead-letter queue instead of looping forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_queues_dead_letter_a_message_that_keeps_coming_back() {
    use jambo_worker::queue::amqp::AmqpQueue;
    use lapin::options::{
        BasicGetOptions, BasicNackOptions, BasicPublishOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    };
    let _lock = broker_lock(false);
    let prefix = unique_prefix("quorum");
    let mut config = amqp_config(&prefix);
    config.quorum = Some(2);
    let lanes = [lane_of(Family::Test)];
    AmqpQueue::declare(&config, &lanes)
        .await
        .expect("quorum topology");
    let names = Names::new(&prefix);
    let queue = names.lane_queue(lanes[0]);
    let dead = Names::dead_queue(&queue);
    let listed = std::process::Command::new("rabbitmqctl")
        .args(["list_queues", "-q", "name", "type"])
        .output()
        .expect("rabbitmqctl");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&format!("{queue}\t")) && l.ends_with("quorum")),
        "{queue} is not a quorum queue:\n{listed}"
    );

    let connection =
        lapin::Connection::connect(&amqp_addr(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            &work("poison", json!({})),
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let dead_count = |channel: &lapin::Channel| {
        let (channel, dead) = (channel.clone(), dead.clone());
        async move {
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            channel
                .queue_declare(dead.as_str().into(), passive, Default::default())
                .await
                .unwrap()
                .message_count()
        }
    };
    // a worker that dies holding it: delivered, never acknowledged, back in the queue
    let mut deliveries = 0;
    for _ in 0..20 {
        match channel
            .basic_get(queue.as_str().into(), BasicGetOptions::default())
            .await
            .unwrap()
        {
            Some(message) => {
                deliveries += 1;
                message
                    .delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    })
                    .await
                    .unwrap();
            }
            None => {
                if dead_count(&channel).await == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(
        deliveries <= 3,
        "delivered {deliveries} times with a delivery limit of 2"
    );
    assert_eq!(
        dead_count(&channel).await,
        1,
        "the poison message is dead-lettered"
    );
    for name in [queue.clone(), dead.clone()]
        .into_iter()
        .chain((1..MAX_ATTEMPTS).map(|l| names.retry_queue(lanes[0], l)))
        .chain([
            names.unrouted_queue(),
            Names::dead_queue(&names.unrouted_queue()),
        ])
    {
        let _ = channel
            .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
}
