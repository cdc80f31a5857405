//! Jobs through RabbitMQ with publisher confirms and manual acks, end to end, every contender in
//! one run against the same broker:
//!
//! - no-op `test.work` jobs: one jambo-worker replica with the embedded store, the same with the
//!   PostgreSQL state backend, and Python `pika` workers doing the same work (the blocking loop of
//!   `scripts/bench_pika.py` and the asynchronous one of `scripts/bench_pika_async.py`). For each:
//!   pre-load BENCH_JOBS jobs into a fresh prefix's family queue, start the worker, and time from
//!   the first to the last result event consumed from the events exchange.
//! - leads of the fixture tenant `tallyhive` (local engine, PostgreSQL state): one replica, then
//!   three on the same queues, BENCH_LEADS leads each (0 skips them).
//!
//! Run it with `scripts/bench-amqp.sh` (which installs pika into a venv).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use jambo_worker::config::AmqpConfig;
use jambo_worker::contract::job::Family;
use jambo_worker::contract::tenant::TenantSettings;
use jambo_worker::queue::amqp::{AmqpQueue, Names};
use jambo_worker::runtime::worker::lane_of;
use jambo_worker::state::postgres::{PgSettings, PgState};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

const PREFETCH: u16 = 1000;
/// The asynchronous pika worker's window (the figure the goal names was measured with it).
const PIKA_PREFETCH: u16 = 500;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

fn postgres_url() -> String {
    std::env::var("BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

async fn bench() {
    let url = std::env::var("AMQP_ADDR")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let env_n = |key: &str, default: usize| {
        std::env::var(key)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let jobs = env_n("BENCH_JOBS", 20_000);
    let leads = env_n("BENCH_LEADS", 3_000);
    let python = std::env::var("BENCH_PYTHON").ok();

    println!(
        "no-op jobs through RabbitMQ (confirms + acks), {jobs} jobs each, prefetch {PREFETCH} (async pika {PIKA_PREFETCH})"
    );
    let embedded = run(&url, jobs, Contender::Jambo).await;
    println!(
        "jambo-worker, embedded store:    {:.2} s = {:.0} jobs/s",
        embedded.as_secs_f64(),
        rate(jobs, embedded)
    );
    let postgres = run(&url, jobs, Contender::JamboPostgres).await;
    println!(
        "jambo-worker, PostgreSQL state:  {:.2} s = {:.0} jobs/s ({:.2} of embedded)",
        postgres.as_secs_f64(),
        rate(jobs, postgres),
        embedded.as_secs_f64() / postgres.as_secs_f64()
    );
    if let Some(python) = python {
        let blocking = run(&url, jobs, Contender::Pika(python.clone())).await;
        println!(
            "python pika, blocking:           {:.2} s = {:.0} jobs/s",
            blocking.as_secs_f64(),
            rate(jobs, blocking)
        );
        let asynchronous = run(&url, jobs, Contender::PikaAsync(python)).await;
        println!(
            "python pika, asynchronous:       {:.2} s = {:.0} jobs/s",
            asynchronous.as_secs_f64(),
            rate(jobs, asynchronous)
        );
        println!(
            "ratio jambo-worker (embedded) / pika: {:.2}x blocking, {:.2}x asynchronous",
            blocking.as_secs_f64() / embedded.as_secs_f64(),
            asynchronous.as_secs_f64() / embedded.as_secs_f64()
        );
    } else {
        println!("pika: skipped (set BENCH_PYTHON, or run scripts/bench-amqp.sh)");
    }
    if leads > 0 {
        println!(
            "leads of the fixture tenant (local engine, PostgreSQL state), {leads} leads each"
        );
        let one = run_leads(&url, leads, 1).await;
        println!(
            "1 replica:  {:.2} s = {:.1} leads/s",
            one.as_secs_f64(),
            rate(leads, one)
        );
        let three = run_leads(&url, leads, 3).await;
        println!(
            "3 replicas: {:.2} s = {:.1} leads/s ({:.2}x one)",
            three.as_secs_f64(),
            rate(leads, three),
            one.as_secs_f64() / three.as_secs_f64()
        );
    }
}

enum Contender {
    Jambo,
    JamboPostgres,
    Pika(String),
    PikaAsync(String),
}

/// A fresh schema of this machine's PostgreSQL, dropped at the end.
struct Schema(String);

impl Schema {
    /// A new schema, migrated, holding `tenant`'s settings (the replicas read them there).
    async fn with_tenant(tenant: &TenantSettings) -> Schema {
        let schema = Schema(format!("bench_{:08x}", rand::random::<u32>()));
        PgState::connect(&PgSettings {
            url: postgres_url(),
            password: None,
            schema: schema.0.clone(),
            pool_size: 2,
            claim_lease: Duration::from_secs(300),
        })
        .await
        .expect("PostgreSQL (BENCH_POSTGRES_URL)")
        .put_tenant(tenant)
        .await
        .expect("tenant in PostgreSQL");
        schema
    }

    async fn drop_it(&self) {
        if let Ok((client, connection)) =
            tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await
        {
            tokio::spawn(connection);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0))
                .await;
        }
    }
}

/// `jambo-worker run` on `prefix`, with the embedded store or (with `schema`) on PostgreSQL.
fn start_jambo(url: &str, prefix: &str, data: &std::path::Path, schema: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jambo-worker"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(["run", "--queue", url])
        .env("JAMBO__AMQP__PREFIX", prefix)
        .env("JAMBO__AMQP__PREFETCH", PREFETCH.to_string())
        .env("JAMBO__WORKER__TEST_JOBS", "true")
        .env("JAMBO__WORKER__CONCURRENCY__TEST", "512")
        .env("JAMBO__LOG__LEVEL", "warn")
        .stdin(Stdio::null());
    if let Some(schema) = schema {
        command
            .env("JAMBO__STATE__BACKEND", "postgres")
            .env("JAMBO__STATE__URL", postgres_url())
            .env("JAMBO__STATE__SCHEMA", schema);
    }
    command.spawn().expect("start jambo-worker")
}

/// A fresh prefix's topology on the broker, with a queue of every result event.
struct Bus {
    connection: Connection,
    channel: Channel,
    names: Names,
    prefix: String,
    events: String,
}

impl Bus {
    async fn open(url: &str) -> Bus {
        let prefix = format!("bench-{:08x}.", rand::random::<u32>());
        let config = AmqpConfig {
            url: Some(url.to_owned()),
            password: None,
            prefix: prefix.clone(),
            prefetch: PREFETCH,
            max_attempts: 3,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(10),
            reconnect_max: Duration::from_secs(1),
            depth_poll: Duration::from_secs(15),
            confirm_timeout: Duration::from_secs(30),
            quorum: None,
        };
        AmqpQueue::declare(&config, &Family::ALL.map(lane_of))
            .await
            .expect("declare");
        let names = Names::new(&prefix);
        let connection = Connection::connect(url, ConnectionProperties::default())
            .await
            .expect("connect");
        let channel = connection.create_channel().await.expect("channel");
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        let events = format!("{prefix}bench.events");
        channel
            .queue_declare(
                events.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("events queue");
        channel
            .queue_bind(
                events.as_str().into(),
                names.events_exchange().as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
        Bus {
            connection,
            channel,
            names,
            prefix,
            events,
        }
    }

    /// Publishes `bodies` with confirms, 1,000 in flight at a time.
    async fn publish(&self, routing_key: &str, bodies: Vec<Vec<u8>>) {
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into());
        for batch in bodies.chunks(1000) {
            let mut confirms = Vec::with_capacity(batch.len());
            for body in batch {
                let confirm = self
                    .channel
                    .basic_publish(
                        self.names.jobs_exchange().as_str().into(),
                        routing_key.into(),
                        BasicPublishOptions::default(),
                        body,
                        properties.clone(),
                    )
                    .await
                    .expect("publish");
                confirms.push(confirm);
            }
            for confirm in confirms {
                confirm.await.expect("confirm");
            }
        }
    }

    /// Consumes `n` result events; the time from the first to the last, scaled to `n`
    /// intervals.
    async fn time_results(&self, n: usize) -> Duration {
        let results = self.connection.create_channel().await.expect("channel");
        results
            .basic_qos(2000, BasicQosOptions::default())
            .await
            .expect("qos");
        let mut consumer = results
            .basic_consume(
                self.events.as_str().into(),
                "bench".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        let mut first = None;
        let mut seen = 0;
        while seen < n {
            let delivery = tokio::time::timeout(Duration::from_secs(300), consumer.next())
                .await
                .expect("results keep coming")
                .expect("consumer open")
                .expect("delivery");
            first.get_or_insert_with(Instant::now);
            delivery.ack(BasicAckOptions::default()).await.expect("ack");
            seen += 1;
        }
        let elapsed = first.map(|t| t.elapsed()).unwrap_or_default();
        let _ = results.close(200, "done".into()).await;
        // from the first to the last result: (n - 1) intervals
        elapsed.mul_f64(n as f64 / (n - 1).max(1) as f64)
    }

    /// Waits until `n` consumers are on the family's queue.
    async fn wait_for_consumers(&self, family: Family, n: u32) {
        let queue = self.names.lane_queue(lane_of(family));
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        loop {
            let channel = self.connection.create_channel().await.expect("channel");
            let count = channel
                .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                .await
                .expect("passive declare")
                .consumer_count();
            let _ = channel.close(200, "done".into()).await;
            if count >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn cleanup(self) {
        let mut queues = vec![self.events.clone(), self.names.unrouted_queue()];
        for family in Family::ALL {
            let lane = lane_of(family);
            queues.push(self.names.lane_queue(lane));
            for level in 1..3 {
                queues.push(self.names.retry_queue(lane, level));
            }
        }
        for queue in queues {
            for name in [Names::dead_queue(&queue), queue] {
                let _ = self
                    .channel
                    .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                    .await;
            }
        }
        for exchange in [
            self.names.jobs_exchange(),
            self.names.events_exchange(),
            self.names.dead_exchange(),
            self.names.unrouted_exchange(),
        ] {
            let _ = self
                .channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = self.connection.close(200, "bench done".into()).await;
    }
}

fn stop(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let _ = child.wait();
}

async fn run(url: &str, jobs: usize, contender: Contender) -> Duration {
    let bus = Bus::open(url).await;
    let bodies = (0..jobs)
        .map(|i| {
            format!(
                r#"{{"v":1,"id":"b{i}","type":"test.work","tenant_id":"bench","payload":{{}}}}"#
            )
            .into_bytes()
        })
        .collect();
    bus.publish("test.work", bodies).await;

    let data = tempfile::tempdir().expect("data dir");
    std::fs::create_dir_all(data.path().join("tenants")).expect("tenants");
    let settings = "tenant_id = \"bench\"\n";
    std::fs::write(data.path().join("tenants/bench.toml"), settings).expect("tenant");
    let mut schema = None;
    let queue = bus.names.lane_queue(lane_of(Family::Test));
    let pika = |python: &str, script: &str, prefetch: u16| {
        Command::new(python)
            .arg(format!("{}/scripts/{script}", env!("CARGO_MANIFEST_DIR")))
            .args([
                url,
                &queue,
                &bus.names.events_exchange(),
                &jobs.to_string(),
                &prefetch.to_string(),
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("start pika worker")
    };
    let (child, jambo) = match &contender {
        Contender::Jambo => (start_jambo(url, &bus.prefix, data.path(), None), true),
        Contender::JamboPostgres => {
            let tenant: TenantSettings = toml::from_str(settings).expect("tenant");
            let pg = schema.insert(Schema::with_tenant(&tenant).await);
            let child = start_jambo(url, &bus.prefix, data.path(), Some(&pg.0));
            (child, true)
        }
        Contender::Pika(python) => (pika(python, "bench_pika.py", PREFETCH), false),
        Contender::PikaAsync(python) => (pika(python, "bench_pika_async.py", PIKA_PREFETCH), false),
    };
    let elapsed = bus.time_results(jobs).await;
    if jambo {
        stop(child);
    } else {
        let mut child = child;
        let _ = child.wait();
    }
    bus.cleanup().await;
    if let Some(schema) = schema {
        schema.drop_it().await;
    }
    elapsed
}

/// `leads` leads of the fixture tenant through `replicas` replicas on one PostgreSQL schema:
/// the replicas are up and consuming before the leads are published.
async fn run_leads(url: &str, leads: usize, replicas: usize) -> Duration {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let settings = std::fs::read_to_string(root.join("fixtures/corpus/tenants/tallyhive.toml"))
        .expect("fixture tenant");
    let tenant: TenantSettings = toml::from_str(&settings).expect("fixture tenant");
    let corpus: Vec<serde_json::Value> =
        std::fs::read_to_string(root.join("fixtures/corpus/leads/tallyhive.jsonl"))
            .expect("fixture leads")
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).expect("lead")["lead"].clone()
            })
            .collect();
    let bus = Bus::open(url).await;
    let schema = Schema::with_tenant(&tenant).await;
    let dirs: Vec<_> = (0..replicas)
        .map(|_| tempfile::tempdir().expect("data dir"))
        .collect();
    let children: Vec<Child> = dirs
        .iter()
        .map(|dir| start_jambo(url, &bus.prefix, dir.path(), Some(&schema.0)))
        .collect();
    bus.wait_for_consumers(Family::Lead, replicas as u32).await;
    let bodies = (0..leads)
        .map(|i| {
            let mut lead = corpus[i % corpus.len()].clone();
            lead["id"] = format!("lead-{i}").into();
            serde_json::to_vec(&serde_json::json!({"v": 1, "id": format!("lead-{i}"),
                "type": "lead.process", "tenant_id": tenant.tenant_id, "payload": {"lead": lead}}))
            .expect("job")
        })
        .collect();
    let (elapsed, ()) = tokio::join!(bus.time_results(leads), bus.publish("lead.process", bodies));
    for child in children {
        stop(child);
    }
    bus.cleanup().await;
    schema.drop_it().await;
    elapsed
}
