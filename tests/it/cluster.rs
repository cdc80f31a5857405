//! The cluster test: three `jambo-worker run` replicas, each with its own data dir, on this
//! machine's RabbitMQ and PostgreSQL, through 5,000 mixed jobs (leads of the fixture tenant
//! `tallyhive`, reply requests, a reindex, tenant changes, test jobs, poison messages; 10 % of
//! the valid job ids published twice) while one replica is killed with SIGKILL and started
//! again, the broker closes every connection (`rabbitmqctl close_all_connections`) and the
//! broker app is stopped and started (`rabbitmqctl stop_app`, `start_app`). Then a tenant change
//! made through one replica, and erasures.
//!
//! Pass means: every valid job has exactly one result effect across the fleet (one stored
//! result, one job counted in the usage meter, one nonce per test job; every published copy
//! byte for byte the same), none is lost, only the poison messages are dead-lettered, each with
//! its reason; the tenant change governs the next job for that tenant on every replica; an
//! erasure leaves no trace of the contact in any replica's data dir or in PostgreSQL.
//!
//! `JAMBO_CLUSTER_JOBS` changes the number of messages (default 5,000).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const TENANT: &str = "tallyhive";
const LONG: Duration = Duration::from_secs(180);
const POOL_SIZE: usize = 4;

fn tjob(id: &str, job_type: &str, payload: Value) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"v": 1, "id": id, "type": job_type, "tenant_id": TENANT, "payload": payload}),
    )
    .unwrap()
}

/// The fixture tenant as a `tenant.configure` payload; every destination gets `suffix`.
fn settings(suffix: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/tenants/tallyhive.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut settings = serde_json::to_value(toml::from_str::<toml::Value>(&text).unwrap()).unwrap();
    let renamed = |v: &Value| format!("{}{suffix}", v.as_str().unwrap());
    settings["default_route"] = renamed(&settings["default_route"]).into();
    for route in settings["routes"].as_array_mut().unwrap() {
        route["to"] = renamed(&route["to"]).into();
    }
    settings
}

/// The development leads of the fixture tenant, with whether they are spam.
fn corpus_leads() -> Vec<(Value, bool)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/leads/tallyhive.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|row| row["split"] == "dev")
        .map(|row| (row["lead"].clone(), row["labels"]["spam"] == true))
        .collect()
}

/// What only contact `k`'s data holds: their e-mail address.
fn marker(k: usize) -> String {
    format!("k{k}.erase-me@cluster.example")
}

fn lead_job(id: &str, k: usize, lead: &Value) -> Vec<u8> {
    let mut lead = lead.clone();
    lead["id"] = id.into();
    lead["contact"] = json!({"id": format!("k{k}"), "name": format!("Kontakt{k} Clusterson"), "email": marker(k)});
    if let Some(fields) = lead.get_mut("fields").and_then(Value::as_object_mut) {
        fields.insert("email".into(), marker(k).into());
    }
    tjob(id, "lead.process", json!({"lead": lead}))
}

const QUESTIONS: [&str; 5] = [
    "I requested a password reset and nothing arrives. What can I do?",
    "How do I connect my bank account?",
    "Wie exportiere ich meine Rechnungen nach DATEV?",
    "Can I change the VAT number on my invoices?",
    "Where do I find the API key for webhooks?",
];

fn reply_job(id: &str, k: usize, question: &str) -> Vec<u8> {
    tjob(
        id,
        "reply.suggest",
        json!({"conversation": {"id": format!("conv-{id}"),
            "contact": {"id": format!("k{k}"), "email": marker(k)},
            "messages": [{"role": "customer", "text": question}]}}),
    )
}

/// A message the workers must dead-letter, and the reason they must give.
struct Poison {
    routing_key: &'static str,
    body: Vec<u8>,
    kind: &'static str,
}

fn poison(i: usize) -> Poison {
    match i % 5 {
        0 => Poison {
            routing_key: "lead.process",
            body: format!("{{not json {i}").into_bytes(),
            kind: "invalid_json",
        },
        1 => Poison {
            routing_key: "lead.process",
            body: tjob(
                &format!("poison-{i}"),
                "lead.process",
                json!({"lead": {"id": "l", "channel": "form"}}),
            ),
            kind: "invalid_job",
        },
        2 => Poison {
            routing_key: "test.work",
            body: serde_json::to_vec(&json!({"v": 1, "id": format!("poison-{i}"),
                "type": "test.work", "tenant_id": "nobody", "payload": {}}))
            .unwrap(),
            kind: "unknown_tenant",
        },
        3 => Poison {
            routing_key: "test.work",
            body: tjob(
                &format!("poison-{i}"),
                "test.work",
                json!({"always_fail": true}),
            ),
            kind: "retries_exhausted",
        },
        _ => Poison {
            routing_key: "lead.explode",
            body: tjob(&format!("poison-{i}"), "lead.explode", json!({})),
            kind: "unknown_job_type",
        },
    }
}

/// Configures the tenant through the queue (whichever replica takes it) and waits for the
/// `tenant.configured` result.
async fn configure(
    broker: &Broker,
    events: &str,
    id: &str,
    settings: Value,
    results: &mut Results,
) {
    broker
        .publish_job("tenant.configure", &tjob(id, "tenant.configure", settings))
        .await;
    results.add(broker.take(events, 1, LONG).await);
    assert_eq!(results.event(id)["type"], "tenant.configured");
}

/// The broker came back: a new connection of this test (retried while the broker starts).
async fn reconnect(prefix: &str) -> Broker {
    let deadline = Instant::now() + LONG;
    while lapin::Connection::connect(&amqp_addr(), lapin::ConnectionProperties::default())
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the broker did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Broker::connect(prefix).await
}

fn rabbitmqctl(args: &[&str]) {
    let status = std::process::Command::new("rabbitmqctl")
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rabbitmqctl");
    assert!(status.success(), "rabbitmqctl {args:?}");
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path.display().to_string(), bytes));
        }
    }
    found
}

/// Every result event received, by job id (progress events and failures apart).
#[derive(Default)]
struct Results {
    bodies: HashMap<String, Vec<Vec<u8>>>,
    failed: Vec<Value>,
    events: usize,
}

impl Results {
    fn add(&mut self, received: Vec<Received>) {
        for r in received {
            let event = r.json();
            match event["type"].as_str().unwrap_or("") {
                "source.progress" => {}
                "job.failed" => self.failed.push(event),
                _ => {
                    self.events += 1;
                    let id = event["job_id"].as_str().unwrap_or("").to_owned();
                    self.bodies.entry(id).or_default().push(r.body);
                }
            }
        }
    }

    fn event(&self, id: &str) -> Value {
        serde_json::from_slice(&self.bodies[id][0]).unwrap()
    }

    fn missing<'a>(&self, ids: &'a [String]) -> Vec<&'a String> {
        ids.iter()
            .filter(|id| !self.bodies.contains_key(*id))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_three_survives_kills_and_broker_restarts_with_one_effect_per_job() {
    // the broker is restarted: no other broker test may run meanwhile
    let _lock = broker_lock(true);
    let total: usize = std::env::var("JAMBO_CLUSTER_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let prefix = unique_prefix("cluster");
    let mut broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let schema = format!("jt_cluster_{:08x}", rand::random::<u32>());
    let url = postgres_url();
    let files_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/helpcenter");
    let pool = POOL_SIZE.to_string();
    let env = [
        ("JAMBO__STATE__BACKEND", "postgres"),
        ("JAMBO__STATE__URL", url.as_str()),
        ("JAMBO__STATE__SCHEMA", schema.as_str()),
        ("JAMBO__STATE__POOL_SIZE", pool.as_str()),
        // a killed replica's claims are taken over after this
        ("JAMBO__STATE__CLAIM_LEASE_SECS", "3"),
        ("JAMBO__AMQP__PREFETCH", "50"),
        ("JAMBO__KNOWLEDGE__FILES_ROOT", files_root.to_str().unwrap()),
    ];
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut replicas = vec![WorkerProcess::start(&prefix, dirs[0].path(), &env)];

    // Phase 1: the mixed load.
    let mut valid: Vec<String> = Vec::new();
    let mut work_ids: Vec<String> = Vec::new();
    let mut results = Results::default();
    configure(&broker, &events, "configure-0", settings(""), &mut results).await;
    valid.push("configure-0".into());
    for dir in &dirs[1..] {
        replicas.push(WorkerProcess::start(&prefix, dir.path(), &env));
    }

    let leads = corpus_leads();
    let poisons: Vec<Poison> = (0..25).map(poison).collect();
    // (routing key, body) in publishing order; each 10th valid job again 40 messages later
    let mut plan: Vec<(&'static str, Vec<u8>)> = vec![(
        "source.reindex",
        tjob(
            "reindex-0",
            "source.reindex",
            json!({"source": {"id": "helpcenter", "path": "site"}, "mode": "full"}),
        ),
    )];
    valid.push("reindex-0".into());
    let mut again: Vec<(usize, &'static str, Vec<u8>)> = Vec::new();
    let mut next_poison = poisons.iter();
    let phase_one = total - 80 - 1;
    let mut i: usize = 0;
    while plan.len() < phase_one {
        while let Some((_, key, body)) = again.first().filter(|(at, _, _)| *at <= plan.len()) {
            plan.push((key, body.clone()));
            again.remove(0);
        }
        i += 1;
        if i.is_multiple_of(180)
            && let Some(p) = next_poison.next()
        {
            plan.push((p.routing_key, p.body.clone()));
            continue;
        }
        let (key, id, body) = match i % 10 {
            0..=5 => {
                let id = format!("lead-{i}");
                let body = lead_job(&id, i % 400, &leads[i % leads.len()].0);
                ("lead.process", id, body)
            }
            6 => {
                let id = format!("reply-{i}");
                let body = reply_job(&id, i % 400, QUESTIONS[i % QUESTIONS.len()]);
                ("reply.suggest", id, body)
            }
            _ if i % 1500 == 7 => {
                // a tenant change in the middle of the load
                let id = format!("configure-{i}");
                let body = tjob(&id, "tenant.configure", settings(&format!("-{i}")));
                ("tenant.configure", id, body)
            }
            _ => {
                let id = format!("work-{i}");
                work_ids.push(id.clone());
                let body = tjob(&id, "test.work", json!({"sleep_ms": 2}));
                ("test.work", id, body)
            }
        };
        if valid.len().is_multiple_of(10) {
            again.push((plan.len() + 40, key, body.clone()));
        }
        valid.push(id);
        plan.push((key, body));
    }
    for p in next_poison {
        plan.push((p.routing_key, p.body.clone()));
    }
    for (_, key, body) in again.drain(..) {
        plan.push((key, body));
    }
    let published_one = plan.len();
    for (key, body) in &plan {
        broker.publish_job(key, body).await;
    }

    // While the fleet works: kill one replica and start it again, close every connection from
    // the broker side, restart the broker app. This test's connection goes too each time.
    let mut connections: BTreeMap<u32, usize> = BTreeMap::new();
    let client = sql().await;
    let mut sample_connections = async |replicas: &[WorkerProcess]| {
        for replica in replicas {
            let pid = replica.child.id();
            let n: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1",
                    &[&format!("jambo-worker {pid}-%")],
                )
                .await
                .unwrap()
                .get(0);
            let seen = connections.entry(pid).or_default();
            *seen = (*seen).max(n as usize);
        }
    };
    let mut disruptions = 0;
    let started = Instant::now();
    loop {
        let got = broker.take(&events, 1, LONG).await;
        results.add(got);
        results.add(broker.drain(&events).await);
        sample_connections(&replicas).await;
        let done = valid.len() - results.missing(&valid).len();
        if disruptions == 0 && done > valid.len() / 5 {
            replicas[0].kill9();
            replicas[0] = WorkerProcess::start(&prefix, dirs[0].path(), &env);
            disruptions += 1;
        } else if disruptions == 1 && done > valid.len() * 2 / 5 {
            rabbitmqctl(&["close_all_connections", "jambo-worker cluster test"]);
            broker = reconnect(&prefix).await;
            disruptions += 1;
        } else if disruptions == 2 && done > valid.len() * 3 / 5 {
            rabbitmqctl(&["stop_app"]);
            tokio::time::sleep(Duration::from_secs(1)).await;
            rabbitmqctl(&["start_app"]);
            broker = reconnect(&prefix).await;
            disruptions += 1;
        }
        // every valid id answered, and an event for each copy published (more after redeliveries)
        if done == valid.len() && results.events >= published_one - poisons.len() {
            break;
        }
    }
    assert_eq!(disruptions, 3, "every disruption happened during the load");
    // the poison messages settle after their retries; then nothing is left anywhere
    let (work_queues, dead_queues) = broker.job_queues();
    let deadline = Instant::now() + LONG;
    loop {
        let mut dead = 0;
        for q in &dead_queues {
            dead += broker.depth(q).await;
        }
        let mut waiting = 0;
        for q in &work_queues {
            waiting += broker.depth(q).await;
        }
        if dead as usize >= poisons.len() && waiting == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{dead} dead letters, {waiting} messages still waiting"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    results.add(broker.drain(&events).await);
    eprintln!(
        "cluster: {published_one} messages ({} valid job ids, {} poison) through 3 disruptions in {:.1} s",
        valid.len(),
        poisons.len(),
        started.elapsed().as_secs_f64()
    );

    // only the poison messages are dead-lettered, each with its reason
    let mut letters: HashMap<Vec<u8>, String> = HashMap::new();
    for q in &dead_queues {
        for letter in broker.drain(q).await {
            assert!(
                !letter
                    .header("x-error-message")
                    .unwrap_or_default()
                    .is_empty(),
                "a dead letter without its reason"
            );
            letters.insert(letter.body.clone(), letter.header("x-error-kind").unwrap());
        }
    }
    let expected: HashMap<Vec<u8>, String> = poisons
        .iter()
        .map(|p| (p.body.clone(), p.kind.to_owned()))
        .collect();
    assert_eq!(
        letters.len(),
        expected.len(),
        "dead letters: {:?}",
        letters.values()
    );
    assert_eq!(
        letters, expected,
        "the dead letters are the poison messages"
    );
    let valid_set: HashSet<&String> = valid.iter().collect();
    for failed in &results.failed {
        let id = failed["job_id"].as_str().unwrap_or("");
        assert!(
            !valid_set.contains(&id.to_owned()),
            "a valid job failed: {failed}"
        );
    }

    // every valid job has one result; every published copy of it is the same event
    assert!(
        results.missing(&valid).is_empty(),
        "lost: {:?}",
        results.missing(&valid)
    );
    for (id, bodies) in &results.bodies {
        assert!(
            bodies.iter().all(|b| b == &bodies[0]),
            "copies of {id}'s result differ"
        );
    }
    for id in &work_ids {
        let nonce = results.event(id)["result"]["nonce"].clone();
        assert!(nonce.is_string(), "{id}");
    }
    for id in &valid {
        let event = results.event(id);
        match event["type"].as_str().unwrap() {
            "lead.processed" => {
                for field in LEAD_RESULT_FIELDS {
                    assert!(!event["result"][field].is_null(), "{id} has no {field}");
                }
            }
            "reply.suggested" => assert!(event["result"]["reply"]["text"].is_string()),
            "source.indexed" => assert!(event["result"]["pages_indexed"].as_u64().unwrap() > 0),
            "tenant.configured" | "test.done" => {}
            other => panic!("{id}: {other}"),
        }
    }

    eprintln!(
        "cluster: phase 1 checked at {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Phase 2: a tenant change through whichever replica takes it; the next jobs for the tenant,
    // on every replica, are routed by the new settings.
    configure(
        &broker,
        &events,
        "configure-v2",
        settings("-v2"),
        &mut results,
    )
    .await;
    valid.push("configure-v2".into());
    let mut after = Vec::new();
    for (n, (lead, _)) in leads.iter().cycle().take(60).enumerate() {
        let id = format!("after-{n}");
        broker
            .publish_job("lead.process", &lead_job(&id, 1000 + n, lead))
            .await;
        after.push(id.clone());
        valid.push(id);
    }
    results.add(broker.take(&events, after.len(), LONG).await);
    for id in &after {
        let destination = results.event(id)["result"]["route"]["destination"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(destination.ends_with("-v2"), "{id} went to {destination}");
    }
    let owners: i64 = client
        .query_one(
            &format!(
                "SELECT count(DISTINCT owner) FROM {schema}.jambo_jobs WHERE job_id LIKE 'after-%'"
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owners, 3, "the jobs after the change ran on every replica");

    // one result effect per valid job: one stored row, one job in the usage meter
    let count = |sql: String| {
        let client = &client;
        async move { client.query_one(&sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let metered = count(format!(
        "SELECT coalesce(sum(jobs), 0)::bigint FROM {schema}.jambo_usage WHERE tenant_id = '{TENANT}'"
    ))
    .await;
    assert_eq!(metered as usize, valid.len(), "jobs metered once each");
    let stored = count(format!(
        "SELECT count(*) FROM {schema}.jambo_jobs WHERE tenant_id = '{TENANT}' AND state = 'done'"
    ))
    .await;
    assert_eq!(stored as usize, valid.len(), "one stored result per job id");

    // Phase 3: erasures. The contacts' data is there before, and nowhere after.
    let holds = |k: usize| {
        let needle = marker(k);
        let sql = format!(
            "SELECT (SELECT count(*) FROM {schema}.jambo_jobs
                      WHERE position(convert_to('{needle}', 'UTF8') in coalesce(result, ''::bytea)) > 0)
                  + (SELECT count(*) FROM {schema}.jambo_audit WHERE record::text LIKE '%{needle}%')
                  + (SELECT count(*) FROM {schema}.jambo_tenants WHERE settings::text LIKE '%{needle}%')"
        );
        count(sql)
    };
    // contacts with leads and reply requests (k % 10 < 6), twenty of the 400
    let erased: Vec<usize> = (0..20).map(|n| n * 20 + n % 6).collect();
    for &k in &erased {
        assert!(
            holds(k).await > 0,
            "contact k{k} has stored results before the erasure"
        );
    }
    for &k in &erased {
        let id = format!("erase-k{k}");
        broker
            .publish_job(
                "contact.erase",
                &tjob(&id, "contact.erase", json!({"contact_id": format!("k{k}")})),
            )
            .await;
        valid.push(id);
    }
    results.add(broker.take(&events, erased.len(), LONG).await);
    for &k in &erased {
        let event = results.event(&format!("erase-k{k}"));
        assert_eq!(event["type"], "contact.erased");
        assert!(event["result"]["job_results_removed"].as_u64().unwrap() > 0);
        assert_eq!(holds(k).await, 0, "contact k{k} left a trace in PostgreSQL");
    }
    let stored_files: Vec<(String, Vec<u8>)> = dirs.iter().flat_map(|d| files(d.path())).collect();
    eprintln!(
        "cluster: erasures done at {:.1} s; {} files, {} bytes in the data dirs",
        started.elapsed().as_secs_f64(),
        stored_files.len(),
        stored_files.iter().map(|(_, b)| b.len()).sum::<usize>()
    );
    for &k in &erased {
        let needle = marker(k);
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let found: Vec<&String> = stored_files
            .iter()
            .filter(|(_, bytes)| finder.find(bytes).is_some())
            .map(|(path, _)| path)
            .collect();
        assert!(found.is_empty(), "contact k{k} left a trace in {found:?}");
    }
    assert!(
        holds(1).await > 0,
        "a contact not erased keeps their results"
    );

    eprintln!(
        "cluster: {} messages in all",
        1 + published_one + 1 + after.len() + erased.len()
    );
    for (pid, n) in &connections {
        eprintln!(
            "cluster: replica {pid} held at most {n} PostgreSQL connections (pool {POOL_SIZE})"
        );
        assert!(*n <= POOL_SIZE, "replica {pid}: {n} connections");
    }
    drop(replicas);
    broker.cleanup().await;
    let _ = client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await;
}
