//! Shared test helpers: a connection to the real broker with a per-test prefix, the worker binary
//! as a child process, and small builders for jobs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use jambo_worker::config::{AmqpConfig, CliOverrides, Config};
use jambo_worker::contract::job::Family;
use jambo_worker::queue::amqp::{AmqpQueue, Names};
use jambo_worker::runtime::worker::lane_of;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions,
    ConfirmSelectOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde_json::{Value, json};

/// The broker the tests use; they fail (not skip) when it is unreachable.
pub fn amqp_addr() -> String {
    std::env::var("AMQP_ADDR").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Broker tests hold this lock shared; the test that closes every broker connection holds it
/// exclusively, so it never cuts another test's connection. A file lock works across test
/// threads and across processes (nextest).
pub fn broker_lock(exclusive: bool) -> nix::fcntl::Flock<std::fs::File> {
    let path = std::env::temp_dir().join("jambo-worker-broker-tests.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .expect("lock file");
    let arg = if exclusive {
        nix::fcntl::FlockArg::LockExclusive
    } else {
        nix::fcntl::FlockArg::LockShared
    };
    nix::fcntl::Flock::lock(file, arg)
        .map_err(|(_, e)| e)
        .expect("flock")
}

pub fn unique_prefix(test: &str) -> String {
    format!("it-{test}-{:08x}.", rand::random::<u32>())
}

/// Max attempts the test workers use (so 2 retry levels).
pub const MAX_ATTEMPTS: u32 = 3;

pub fn amqp_config(prefix: &str) -> AmqpConfig {
    AmqpConfig {
        url: Some(amqp_addr()),
        password: None,
        prefix: prefix.to_owned(),
        prefetch: 64,
        max_attempts: MAX_ATTEMPTS,
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        reconnect_max: Duration::from_millis(500),
        depth_poll: Duration::from_secs(1),
        confirm_timeout: Duration::from_secs(10),
        quorum: None,
    }
}

/// A test's own connection to the broker, with the topology of its prefix declared.
pub struct Broker {
    pub connection: Connection,
    pub channel: Channel,
    pub names: Names,
    pub prefix: String,
}

impl Broker {
    pub async fn connect(prefix: &str) -> Broker {
        let connection = Connection::connect(&amqp_addr(), ConnectionProperties::default())
            .await
            .unwrap_or_else(|err| panic!("RabbitMQ is not reachable at {} ({err}); start it with `rabbitmq-server -detached`", amqp_addr()));
        let channel = connection.create_channel().await.expect("channel");
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        AmqpQueue::declare(&amqp_config(prefix), &Family::ALL.map(lane_of))
            .await
            .expect("declare topology");
        Broker {
            connection,
            channel,
            names: Names::new(prefix),
            prefix: prefix.to_owned(),
        }
    }

    /// A durable queue bound to every event, so events survive a reconnect of this helper.
    pub async fn events_queue(&self) -> String {
        let name = format!("{}test.events", self.prefix);
        self.declare_queue(&name).await;
        self.channel
            .queue_bind(
                name.as_str().into(),
                self.names.events_exchange().as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind events");
        name
    }

    pub async fn declare_queue(&self, name: &str) {
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        self.channel
            .queue_declare(name.into(), options, FieldTable::default())
            .await
            .expect("declare queue");
    }

    pub async fn publish_job(&self, routing_key: &str, body: &[u8]) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_timestamp(now);
        self.publish_with(routing_key, body, properties).await;
    }

    pub async fn publish_with(&self, routing_key: &str, body: &[u8], properties: BasicProperties) {
        self.channel
            .basic_publish(
                self.names.jobs_exchange().as_str().into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                body,
                properties,
            )
            .await
            .expect("publish")
            .await
            .expect("confirm");
    }

    /// Consumes `n` messages from `queue` (acknowledging them) or panics after `timeout`.
    pub async fn take(&self, queue: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let channel = self.connection.create_channel().await.expect("channel");
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        let mut got = Vec::new();
        let deadline = Instant::now() + timeout;
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, consumer.next()).await {
                Ok(Some(Ok(delivery))) => {
                    delivery.ack(BasicAckOptions::default()).await.expect("ack");
                    got.push(Received::from(&delivery));
                }
                Ok(other) => panic!("consumer of {queue} ended: {other:?}"),
                Err(_) => panic!(
                    "only {} of {n} messages on {queue} within {timeout:?}",
                    got.len()
                ),
            }
        }
        let _ = channel.close(200, "done".into()).await;
        got
    }

    /// Everything on `queue` right now (acknowledged).
    pub async fn drain(&self, queue: &str) -> Vec<Received> {
        let mut got = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
        {
            got.push(Received {
                body: message.delivery.data.clone(),
                properties: message.delivery.properties.clone(),
            });
        }
        got
    }

    pub async fn depth(&self, queue: &str) -> u32 {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let channel = self.connection.create_channel().await.expect("channel");
        let depth = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
            .expect("passive declare")
            .message_count();
        let _ = channel.close(200, "done".into()).await;
        depth
    }

    pub async fn consumers(&self, queue: &str) -> u32 {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let channel = self.connection.create_channel().await.expect("channel");
        let count = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
            .expect("passive declare")
            .consumer_count();
        let _ = channel.close(200, "done".into()).await;
        count
    }

    /// Waits until a worker consumes the queue.
    pub async fn wait_for_consumer(&self, queue: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.consumers(queue).await == 0 {
            assert!(
                Instant::now() < deadline,
                "no worker consumed {queue} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The queues jobs wait in (family, retry and catch-all queues), and their dead-letter queues.
    pub fn job_queues(&self) -> (Vec<String>, Vec<String>) {
        let mut work = vec![self.names.unrouted_queue()];
        let mut dead = vec![Names::dead_queue(&self.names.unrouted_queue())];
        for family in Family::ALL {
            let lane = lane_of(family);
            work.push(self.names.lane_queue(lane));
            for level in 1..MAX_ATTEMPTS {
                work.push(self.names.retry_queue(lane, level));
            }
            dead.push(Names::dead_queue(&self.names.lane_queue(lane)));
        }
        (work, dead)
    }

    /// Deletes every exchange and queue of this prefix.
    pub async fn cleanup(self) {
        let channel = match self.connection.create_channel().await {
            Ok(channel) => channel,
            Err(_) => return,
        };
        let (mut queues, dead) = self.job_queues();
        queues.extend(dead);
        queues.push(format!("{}test.events", self.prefix));
        queues.push(format!("{}test.replies", self.prefix));
        for queue in queues {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for exchange in [
            self.names.jobs_exchange(),
            self.names.events_exchange(),
            self.names.dead_exchange(),
            self.names.unrouted_exchange(),
        ] {
            let _ = channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = self.connection.close(200, "cleanup".into()).await;
    }
}

/// A message a test received.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Vec<u8>,
    pub properties: BasicProperties,
}

impl From<&lapin::message::Delivery> for Received {
    fn from(delivery: &lapin::message::Delivery) -> Received {
        Received {
            body: delivery.data.clone(),
            properties: delivery.properties.clone(),
        }
    }
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn header(&self, key: &str) -> Option<String> {
        let headers = self.properties.headers().as_ref()?;
        match headers.inner().get(key)? {
            AMQPValue::LongString(s) => Some(s.to_string()),
            AMQPValue::ShortString(s) => Some(s.to_string()),
            AMQPValue::LongUInt(n) => Some(n.to_string()),
            AMQPValue::LongLongInt(n) => Some(n.to_string()),
            other => Some(format!("{other:?}")),
        }
    }
}

/// The fields every `lead.processed` result holds (CONTRACT.md section 3).
pub const LEAD_RESULT_FIELDS: [&str; 8] = [
    "language",
    "category",
    "spam",
    "sentiment",
    "urgency",
    "summary",
    "extracted",
    "route",
];

/// A tenant settings file for the tests' tenant `t1`.
pub fn write_tenant(dir: &Path) {
    std::fs::create_dir_all(dir).expect("tenants dir");
    std::fs::write(
        dir.join("t1.toml"),
        "tenant_id = \"t1\"\ndefault_route = \"inbox\"\n[[routes]]\nwhen = { category = \"sales\" }\nto = \"sales-team\"\n",
    )
    .expect("tenant file");
}

pub fn job(id: &str, job_type: &str, payload: Value) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"v": 1, "id": id, "type": job_type, "tenant_id": "t1", "payload": payload}),
    )
    .expect("job JSON")
}

pub fn work(id: &str, payload: Value) -> Vec<u8> {
    job(id, "test.work", payload)
}

/// The worker binary as a child process.
pub struct WorkerProcess {
    pub child: Child,
}

/// Runs `command` with `input` on its stdin (closed after it) and its stdout captured.
pub fn output_with_stdin(command: &mut Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the worker binary");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("worker output")
}

pub fn worker_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jambo-worker"))
}

impl WorkerProcess {
    /// Starts `jambo-worker run --queue …` for `prefix`, with test jobs on and short retries.
    pub fn start(prefix: &str, data_dir: &Path, env: &[(&str, &str)]) -> WorkerProcess {
        write_tenant(&data_dir.join("tenants"));
        let mut command = Command::new(worker_binary());
        command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["run", "--queue", &amqp_addr()])
            .env("JAMBO__AMQP__PREFIX", prefix)
            .env("JAMBO__WORKER__TEST_JOBS", "true")
            .env("JAMBO__AMQP__MAX_ATTEMPTS", MAX_ATTEMPTS.to_string())
            .env("JAMBO__AMQP__RETRY_BASE_MS", "100")
            .env("JAMBO__AMQP__RETRY_MAX_MS", "400")
            .env("JAMBO__AMQP__RECONNECT_MAX_MS", "500")
            .env("JAMBO__LOG__LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        WorkerProcess {
            child: command.spawn().expect("start worker"),
        }
    }

    pub fn kill9(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill -9");
        let _ = self.child.wait();
    }

    pub fn sigterm(&self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    }

    /// Waits for the process to exit, or panics after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "worker did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A configuration with its data and tenant dirs in `dir` and no provider, whatever the
/// environment names (`scripts/test.sh` exports `OPENAI_BASE_URL` for the real-endpoint run).
pub fn local_config(dir: &Path) -> Config {
    let mut config = Config::load(&CliOverrides {
        data_dir: Some(dir.join("data")),
        tenants_dir: Some(dir.join("tenants")),
        ..CliOverrides::default()
    })
    .expect("config");
    config.openai.base_url = None;
    config.openai.api_key = None;
    config
}

/// A free loopback port for an ops endpoint, as `127.0.0.1:N`.
pub fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// A plain HTTP/1.1 GET (the ops endpoint needs nothing more).
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("ops endpoint");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// This machine's PostgreSQL for the shared-state tests (`JAMBO_TEST_POSTGRES_URL`).
pub fn postgres_url() -> String {
    std::env::var("JAMBO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A plain client of it; panics (the test fails) when it is unreachable.
pub async fn sql() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|err| panic!("PostgreSQL at {} is needed: {err}", postgres_url()));
    tokio::spawn(connection);
    client
}
