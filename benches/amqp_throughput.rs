//! No-op jobs through RabbitMQ with publisher confirms and manual acks, end to end: jambo-worker
//! next to a Python `pika` worker doing the same work, in one run against the same broker.
//!
//! For each contender: pre-load BENCH_JOBS `test.work` jobs into a fresh prefix's family queue,
//! start the worker, and time from the first to the last result event consumed from the events
//! exchange. Run it with `scripts/bench-amqp.sh` (which installs pika into a venv).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use jambo_worker::config::AmqpConfig;
use jambo_worker::contract::job::Family;
use jambo_worker::queue::amqp::{AmqpQueue, Names};
use jambo_worker::runtime::worker::lane_of;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

const PREFETCH: u16 = 1000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let url = std::env::var("AMQP_ADDR")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let jobs: usize = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let python = std::env::var("BENCH_PYTHON").ok();

    println!(
        "no-op jobs through RabbitMQ (confirms + acks), {jobs} jobs each, prefetch {PREFETCH}"
    );
    let jambo = run(&url, jobs, Contender::Jambo).await;
    println!(
        "jambo-worker: {jobs} jobs in {:.2} s = {:.0} jobs/s",
        jambo.as_secs_f64(),
        jobs as f64 / jambo.as_secs_f64()
    );
    let Some(python) = python else {
        println!("pika: skipped (set BENCH_PYTHON, or run scripts/bench-amqp.sh)");
        return;
    };
    let pika = run(&url, jobs, Contender::Pika(python)).await;
    println!(
        "python pika:  {jobs} jobs in {:.2} s = {:.0} jobs/s",
        pika.as_secs_f64(),
        jobs as f64 / pika.as_secs_f64()
    );
    println!(
        "ratio jambo-worker / pika: {:.1}x",
        pika.as_secs_f64() / jambo.as_secs_f64()
    );
}

enum Contender {
    Jambo,
    Pika(String),
}

async fn run(url: &str, jobs: usize, contender: Contender) -> Duration {
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
    AmqpQueue::declare(&config, &[lane_of(Family::Test)])
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

    // Pre-load the jobs.
    let properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into());
    for batch in (0..jobs).collect::<Vec<_>>().chunks(1000) {
        let mut confirms = Vec::with_capacity(batch.len());
        for i in batch {
            let body = format!(
                r#"{{"v":1,"id":"b{i}","type":"test.work","tenant_id":"bench","payload":{{}}}}"#
            );
            let confirm = channel
                .basic_publish(
                    names.jobs_exchange().as_str().into(),
                    "test.work".into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
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

    let data = tempfile::tempdir().expect("data dir");
    std::fs::create_dir_all(data.path().join("tenants")).expect("tenants");
    std::fs::write(
        data.path().join("tenants/bench.toml"),
        "tenant_id = \"bench\"\n",
    )
    .expect("tenant");
    let mut child: Child = match &contender {
        Contender::Jambo => Command::new(env!("CARGO_BIN_EXE_jambo-worker"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["run", "--queue", url])
            .env("JAMBO__AMQP__PREFIX", &prefix)
            .env("JAMBO__AMQP__PREFETCH", PREFETCH.to_string())
            .env("JAMBO__WORKER__TEST_JOBS", "true")
            .env("JAMBO__WORKER__CONCURRENCY__TEST", "512")
            .env("JAMBO__LOG__LEVEL", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("start jambo-worker"),
        Contender::Pika(python) => Command::new(python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/bench_pika.py"
            ))
            .args([
                url,
                &names.lane_queue(lane_of(Family::Test)),
                &names.events_exchange(),
                &jobs.to_string(),
                &PREFETCH.to_string(),
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("start pika worker"),
    };

    let results = connection.create_channel().await.expect("channel");
    results
        .basic_qos(2000, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut consumer = results
        .basic_consume(
            events.as_str().into(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut first = None;
    let mut seen = 0;
    while seen < jobs {
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

    if let Contender::Jambo = contender {
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    let _ = child.wait();
    for queue in [
        events.clone(),
        names.lane_queue(lane_of(Family::Test)),
        names.unrouted_queue(),
    ] {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = channel
            .queue_delete(
                Names::dead_queue(&queue).as_str().into(),
                QueueDeleteOptions::default(),
            )
            .await;
    }
    for level in 1..3 {
        let _ = channel
            .queue_delete(
                names
                    .retry_queue(lane_of(Family::Test), level)
                    .as_str()
                    .into(),
                QueueDeleteOptions::default(),
            )
            .await;
    }
    for exchange in [
        names.jobs_exchange(),
        names.events_exchange(),
        names.dead_exchange(),
        names.unrouted_exchange(),
    ] {
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = connection.close(200, "bench done".into()).await;
    // Elapsed from the first to the last result: (jobs - 1) intervals.
    elapsed.mul_f64(jobs as f64 / (jobs - 1).max(1) as f64)
}
