//! The RabbitMQ queue (lapin): topology, consumers per job lane, publishing with publisher
//! confirms, retries through delayed retry queues, dead-lettering with the reason in headers,
//! request/reply, and reconnection.
//!
//! Delivery semantics (at-least-once):
//! - a message is acknowledged only after everything its settlement publishes is confirmed by the
//!   broker; if a publish fails, the message is requeued instead;
//! - a delivery belongs to the channel it came on. After a reconnect, deliveries of the old
//!   connection are never acknowledged on the new one (their acker is poisoned, and they publish
//!   nothing): the broker redelivers them, and the idempotency store answers the repeats;
//! - retries: the message is republished to `<queue>.retry.<n>` with a per-message TTL; when it
//!   expires the queue dead-letters it back through the jobs exchange (routing key
//!   `retry.<lane>`) to its lane queue only. One retry queue per attempt level keeps messages
//!   of one queue at about the same TTL, so none waits behind a longer one;
//! - with `amqp.queue_type = "quorum"` the lane and catch-all queues are quorum queues with
//!   `x-delivery-limit`: a message delivered that often without an ack is dead-lettered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    Acker, BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use time::OffsetDateTime;
use tokio::sync::{Mutex, RwLock, mpsc};
use tokio_util::sync::CancellationToken;

use super::Lane;
use super::{
    Delivery, FailureInfo, Health, Message, Outgoing, Publisher, Queue, QueueError, Settle,
    Settlement,
};
use crate::config::{AmqpConfig, redact_url};

/// Header holding the attempt number of a retried job (absent on the first delivery).
pub const ATTEMPT_HEADER: &str = "x-jambo-attempt";
/// Dead-letter headers: why the job failed for good.
pub const ERROR_KIND_HEADER: &str = "x-error-kind";
pub const ERROR_MESSAGE_HEADER: &str = "x-error-message";

/// Every AMQP name the worker uses, with the deployment prefix applied.
#[derive(Debug, Clone)]
pub struct Names {
    prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Names {
        Names {
            prefix: prefix.to_owned(),
        }
    }
    /// Topic exchange jobs are published to; routing key = job type.
    pub fn jobs_exchange(&self) -> String {
        format!("{}jambo.jobs", self.prefix)
    }
    /// Topic exchange results are published to; routing key = result type.
    pub fn events_exchange(&self) -> String {
        format!("{}jambo.events", self.prefix)
    }
    /// Direct exchange of dead letters; routing key = the queue the job came from.
    pub fn dead_exchange(&self) -> String {
        format!("{}jambo.dead", self.prefix)
    }
    /// Fanout exchange that receives jobs no lane queue is bound for (the alternate exchange of
    /// the jobs exchange).
    pub fn unrouted_exchange(&self) -> String {
        format!("{}jambo.unrouted", self.prefix)
    }
    /// The durable queue of a job lane.
    pub fn lane_queue(&self, lane: Lane) -> String {
        format!("{}jambo.jobs.{}", self.prefix, lane.as_str())
    }
    /// The catch-all queue of unroutable jobs (unknown job types).
    pub fn unrouted_queue(&self) -> String {
        format!("{}jambo.jobs.unrouted", self.prefix)
    }
    /// The dead-letter queue of a queue.
    pub fn dead_queue(queue: &str) -> String {
        format!("{queue}.dead")
    }
    /// The delayed-retry queue for retry number `level` (1 = the first retry).
    pub fn retry_queue(&self, lane: Lane, level: u32) -> String {
        format!("{}.retry.{level}", self.lane_queue(lane))
    }
    /// The routing key that brings a retried job back to its lane queue only.
    pub fn retry_routing_key(lane: Lane) -> String {
        format!("retry.{}", lane.as_str())
    }
}

/// RabbitMQ as the job queue.
pub struct AmqpQueue {
    shared: Arc<Shared>,
    deliveries: Mutex<mpsc::Receiver<Delivery>>,
    supervisor: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// What the supervisor, the settlers and the queue share.
struct Shared {
    url: String,
    names: Names,
    lanes: Vec<Lane>,
    prefetch: u16,
    max_attempts: u32,
    /// The job queues are quorum queues with this delivery limit.
    quorum: Option<u32>,
    reconnect_max: Duration,
    confirm_timeout: Duration,
    /// The confirm-mode channel of the current connection; replaced on reconnect.
    publisher: RwLock<Option<Channel>>,
    connection: RwLock<Option<Arc<Connection>>>,
    /// Consumer channels and tags of the current connection, for `basic.cancel` at shutdown.
    consumers: Mutex<Vec<(Channel, ShortString)>>,
    health: AtomicU8,
    /// Set by `stop_intake`: consume nothing more and stop reconnecting.
    stopping: CancellationToken,
}

struct AmqpSettler {
    shared: Arc<Shared>,
    acker: Acker,
    /// The queue the delivery came from (the dead-letter routing key).
    queue: String,
    lane: Option<Lane>,
    properties: BasicProperties,
    routing_key: String,
}

const HEALTH_CONNECTING: u8 = 0;
const HEALTH_CONNECTED: u8 = 1;
const HEALTH_CLOSED: u8 = 2;

impl AmqpQueue {
    /// Connects, declares the topology and starts consuming the lanes' queues. Fails when the
    /// first connection or the topology is refused (wrong URL, credentials or conflicting
    /// queue arguments); later connection losses are retried forever with backoff.
    pub async fn connect(config: &AmqpConfig, lanes: Vec<Lane>) -> Result<AmqpQueue, QueueError> {
        let url = config.url.clone().ok_or_else(|| {
            QueueError::Setup("no broker URL: pass --queue amqp://… or set amqp.url".into())
        })?;
        let url = with_password(&url, config.password.as_ref().map(|s| s.expose()));
        let capacity = usize::from(config.prefetch) * (lanes.len() + 1);
        let shared = Arc::new(Shared {
            url,
            names: Names::new(&config.prefix),
            lanes,
            prefetch: config.prefetch,
            max_attempts: config.max_attempts,
            quorum: config.quorum,
            reconnect_max: config.reconnect_max,
            confirm_timeout: config.confirm_timeout,
            publisher: RwLock::new(None),
            connection: RwLock::new(None),
            consumers: Mutex::new(Vec::new()),
            health: AtomicU8::new(HEALTH_CONNECTING),
            stopping: CancellationToken::new(),
        });
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let lost = shared.open(&tx).await?;
        let supervisor = tokio::spawn(supervise(shared.clone(), tx, lost));
        Ok(AmqpQueue {
            shared,
            deliveries: Mutex::new(rx),
            supervisor: Mutex::new(Some(supervisor)),
        })
    }

    /// Declares the whole topology on the broker and returns (for tools and tests).
    pub async fn declare(config: &AmqpConfig, lanes: &[Lane]) -> Result<(), QueueError> {
        let url = config.url.clone().unwrap_or_default();
        let url = with_password(&url, config.password.as_ref().map(|s| s.expose()));
        let connection = Connection::connect(&url, ConnectionProperties::default())
            .await
            .map_err(|e| QueueError::Setup(e.to_string()))?;
        let channel = connection.create_channel().await.map_err(setup)?;
        declare_topology(
            &channel,
            &Names::new(&config.prefix),
            lanes,
            config.max_attempts,
            config.quorum,
        )
        .await?;
        let _ = connection.close(200, "declared".into()).await;
        Ok(())
    }

    /// Queue depths of the lane queues, for the metrics.
    pub async fn depths(&self) -> Vec<(String, u32)> {
        let Some(connection) = self.shared.connection.read().await.clone() else {
            return Vec::new();
        };
        let Ok(channel) = connection.create_channel().await else {
            return Vec::new();
        };
        let mut depths = Vec::new();
        for lane in &self.shared.lanes {
            let name = self.shared.names.lane_queue(*lane);
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            if let Ok(queue) = channel
                .queue_declare(name.as_str().into(), passive, FieldTable::default())
                .await
            {
                depths.push((name, queue.message_count()));
            }
        }
        let _ = channel.close(200, "depths".into()).await;
        depths
    }
}

fn setup(err: lapin::Error) -> QueueError {
    QueueError::Setup(err.to_string())
}

fn disconnected(err: lapin::Error) -> QueueError {
    QueueError::Disconnected(err.to_string())
}

/// Puts a password from the environment into the URL's userinfo when the URL has none.
fn with_password(url: &str, password: Option<&str>) -> String {
    let Some(password) = password else {
        return url.to_owned();
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) if !user.contains(':') => {
            format!(
                "{scheme}://{user}:{}@{host}{tail}",
                encode_userinfo(password)
            )
        }
        Some(_) => url.to_owned(),
        None => format!(
            "{scheme}://guest:{}@{authority}{tail}",
            encode_userinfo(password)
        ),
    }
}

fn encode_userinfo(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn table(entries: &[(&str, AMQPValue)]) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in entries {
        table.insert((*key).into(), value.clone());
    }
    table
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

const DURABLE_QUEUE: QueueDeclareOptions = QueueDeclareOptions {
    passive: false,
    durable: true,
    exclusive: false,
    auto_delete: false,
    nowait: false,
};

/// Declares exchanges, queues and bindings; declaring twice with the same arguments is a no-op.
async fn declare_topology(
    channel: &Channel,
    names: &Names,
    lanes: &[Lane],
    max_attempts: u32,
    quorum: Option<u32>,
) -> Result<(), QueueError> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    let exchange = |name: String, kind: ExchangeKind, args: FieldTable| async move {
        channel
            .exchange_declare(name.as_str().into(), kind, durable, args)
            .await
            .map_err(|e| QueueError::Setup(format!("exchange {name}: {e}")))
    };
    exchange(
        names.unrouted_exchange(),
        ExchangeKind::Fanout,
        FieldTable::default(),
    )
    .await?;
    let alternate = table(&[("alternate-exchange", text(&names.unrouted_exchange()))]);
    exchange(names.jobs_exchange(), ExchangeKind::Topic, alternate).await?;
    exchange(
        names.events_exchange(),
        ExchangeKind::Topic,
        FieldTable::default(),
    )
    .await?;
    exchange(
        names.dead_exchange(),
        ExchangeKind::Direct,
        FieldTable::default(),
    )
    .await?;

    let queue = |name: String, args: FieldTable| async move {
        channel
            .queue_declare(name.as_str().into(), DURABLE_QUEUE, args)
            .await
            .map_err(|e| QueueError::Setup(format!("queue {name}: {e}")))
    };
    let bind = |queue: String, exchange: String, key: String| async move {
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| QueueError::Setup(format!("binding {queue} to {exchange} ({key}): {e}")))
    };
    // A main queue dead-letters what is rejected to its own dead queue; as a quorum queue it
    // also dead-letters a message delivered more than the limit without an ack (one that kills
    // every worker that takes it), so it cannot loop forever.
    let main_args = |queue: &str| {
        let mut entries = vec![
            ("x-dead-letter-exchange", text(&names.dead_exchange())),
            ("x-dead-letter-routing-key", text(queue)),
        ];
        if let Some(limit) = quorum {
            entries.push(("x-queue-type", text("quorum")));
            entries.push(("x-delivery-limit", AMQPValue::LongInt(limit as i32)));
        }
        table(&entries)
    };

    let mut main_queues: Vec<String> = vec![names.unrouted_queue()];
    main_queues.extend(lanes.iter().map(|f| names.lane_queue(*f)));
    for name in &main_queues {
        queue(name.clone(), main_args(name)).await?;
        let dead = Names::dead_queue(name);
        queue(dead.clone(), FieldTable::default()).await?;
        bind(dead, names.dead_exchange(), name.clone()).await?;
    }
    bind(
        names.unrouted_queue(),
        names.unrouted_exchange(),
        String::new(),
    )
    .await?;
    for lane in lanes {
        let name = names.lane_queue(*lane);
        bind(
            name.clone(),
            names.jobs_exchange(),
            format!("{}.*", lane.as_str()),
        )
        .await?;
        bind(
            name.clone(),
            names.jobs_exchange(),
            Names::retry_routing_key(*lane),
        )
        .await?;
        for level in 1..max_attempts {
            let args = table(&[
                ("x-dead-letter-exchange", text(&names.jobs_exchange())),
                (
                    "x-dead-letter-routing-key",
                    text(&Names::retry_routing_key(*lane)),
                ),
            ]);
            queue(names.retry_queue(*lane, level), args).await?;
        }
    }
    Ok(())
}

impl Shared {
    /// Opens a connection: publisher channel, topology, one consumer channel per queue. Returns a
    /// receiver that fires when any consumer of this connection ends.
    async fn open(
        self: &Arc<Self>,
        tx: &mpsc::Sender<Delivery>,
    ) -> Result<mpsc::Receiver<()>, QueueError> {
        let name = format!(
            "jambo-worker pid {} on {}",
            std::process::id(),
            std::env::var("HOSTNAME").unwrap_or_default()
        );
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        let connection = Connection::connect(&self.url, properties)
            .await
            .map_err(disconnected)?;
        let publisher = connection.create_channel().await.map_err(disconnected)?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(disconnected)?;
        declare_topology(
            &publisher,
            &self.names,
            &self.lanes,
            self.max_attempts,
            self.quorum,
        )
        .await?;

        let (lost_tx, lost_rx) = mpsc::channel(1);
        let mut consumers = Vec::new();
        let mut queues: Vec<(String, Option<Lane>)> = vec![(self.names.unrouted_queue(), None)];
        queues.extend(
            self.lanes
                .iter()
                .map(|f| (self.names.lane_queue(*f), Some(*f))),
        );
        for (queue, lane) in queues {
            let channel = connection.create_channel().await.map_err(disconnected)?;
            channel
                .basic_qos(self.prefetch, BasicQosOptions::default())
                .await
                .map_err(disconnected)?;
            let tag = format!(
                "jambo-worker-{}-{}",
                std::process::id(),
                lane.map_or("unrouted", Lane::as_str)
            );
            let consumer = channel
                .basic_consume(
                    queue.as_str().into(),
                    tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(disconnected)?;
            consumers.push((channel, ShortString::from(tag)));
            tokio::spawn(forward(
                self.clone(),
                consumer,
                queue,
                lane,
                tx.clone(),
                lost_tx.clone(),
            ));
        }
        *self.consumers.lock().await = consumers;
        *self.publisher.write().await = Some(publisher);
        *self.connection.write().await = Some(Arc::new(connection));
        self.health.store(HEALTH_CONNECTED, Ordering::SeqCst);
        metrics::gauge!("jambo_broker_connected").set(1.0);
        tracing::info!(event = "broker_connected", url = %redact_url(&self.url));
        Ok(lost_rx)
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
        mandatory: bool,
    ) -> Result<(), QueueError> {
        let Some(channel) = self.publisher.read().await.clone() else {
            return Err(QueueError::Disconnected("no publisher channel".into()));
        };
        let options = BasicPublishOptions {
            mandatory,
            immediate: false,
        };
        let publish = async {
            let confirm = channel
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    options,
                    body,
                    properties,
                )
                .await
                .map_err(disconnected)?;
            confirm.await.map_err(disconnected)
        };
        let outcome = tokio::time::timeout(self.confirm_timeout, publish)
            .await
            .map_err(|_| {
                QueueError::NotConfirmed(format!("no confirm within {:?}", self.confirm_timeout))
            })?;
        match outcome {
            Ok(Confirmation::Ack(None)) | Ok(Confirmation::NotRequested) => Ok(()),
            Ok(Confirmation::Ack(Some(_))) => Err(QueueError::NotConfirmed(format!(
                "{exchange}/{routing_key}: unroutable"
            ))),
            Ok(Confirmation::Nack(_)) => Err(QueueError::NotConfirmed(format!(
                "{exchange}/{routing_key}: nacked by the broker"
            ))),
            Err(err) => {
                // A closed publisher channel makes every later publish fail: reconnect.
                if !channel.status().connected() {
                    self.force_reconnect().await;
                }
                Err(err)
            }
        }
    }

    async fn force_reconnect(&self) {
        if let Some(connection) = self.connection.read().await.clone() {
            let _ = connection
                .close(320, "publisher channel lost, reconnecting".into())
                .await;
        }
    }
}

/// Moves deliveries of one consumer into the shared channel until the consumer ends.
async fn forward(
    shared: Arc<Shared>,
    mut consumer: lapin::Consumer,
    queue: String,
    lane: Option<Lane>,
    tx: mpsc::Sender<Delivery>,
    lost: mpsc::Sender<()>,
) {
    while let Some(item) = consumer.next().await {
        let delivery = match item {
            Ok(delivery) => delivery,
            Err(err) => {
                tracing::warn!(event = "consumer_failed", queue = %queue, error = %err);
                break;
            }
        };
        let properties = delivery.properties.clone();
        let message = Message {
            attempt: attempt_of(&properties),
            lane,
            reply_to: properties
                .reply_to()
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            correlation_id: properties
                .correlation_id()
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            redelivered: delivery.redelivered,
            published_at: properties
                .timestamp()
                .and_then(|t| OffsetDateTime::from_unix_timestamp(i64::try_from(t).ok()?).ok()),
            body: delivery.data,
        };
        let settler = AmqpSettler {
            shared: shared.clone(),
            acker: delivery.acker,
            queue: queue.clone(),
            lane,
            properties,
            routing_key: delivery.routing_key.as_str().to_owned(),
        };
        if tx
            .send(Delivery::new(message, Box::new(settler)))
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = lost.try_send(());
}

fn attempt_of(properties: &BasicProperties) -> u32 {
    let value = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPT_HEADER).cloned());
    let attempt = match value {
        Some(AMQPValue::LongUInt(n)) => i64::from(n),
        Some(AMQPValue::LongInt(n)) => i64::from(n),
        Some(AMQPValue::LongLongInt(n)) => n,
        Some(AMQPValue::ShortInt(n)) => i64::from(n),
        Some(AMQPValue::ShortUInt(n)) => i64::from(n),
        Some(AMQPValue::ShortShortInt(n)) => i64::from(n),
        Some(AMQPValue::ShortShortUInt(n)) => i64::from(n),
        _ => 1,
    };
    u32::try_from(attempt.max(1)).unwrap_or(u32::MAX)
}

/// Keeps a connection open: when it is lost, reconnects with exponential backoff until intake
/// stops.
async fn supervise(shared: Arc<Shared>, tx: mpsc::Sender<Delivery>, mut lost: mpsc::Receiver<()>) {
    loop {
        tokio::select! {
            _ = shared.stopping.cancelled() => return,
            _ = lost.recv() => {}
        }
        if shared.stopping.is_cancelled() {
            return;
        }
        shared.health.store(HEALTH_CONNECTING, Ordering::SeqCst);
        metrics::gauge!("jambo_broker_connected").set(0.0);
        tracing::warn!(event = "broker_connection_lost");
        if let Some(connection) = shared.connection.write().await.take() {
            let _ = connection.close(320, "reconnecting".into()).await;
        }
        *shared.publisher.write().await = None;
        let mut backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                _ = shared.stopping.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            match shared.open(&tx).await {
                Ok(new_lost) => {
                    lost = new_lost;
                    metrics::counter!("jambo_broker_reconnects_total").increment(1);
                    break;
                }
                Err(err) => {
                    tracing::warn!(event = "broker_reconnect_failed", error = %err, retry_in_ms = backoff.as_millis() as u64);
                    backoff = (backoff * 2).min(shared.reconnect_max);
                }
            }
        }
    }
}

#[async_trait]
impl Publisher for AmqpQueue {
    async fn publish(&self, event: &Outgoing) -> Result<(), QueueError> {
        let properties = json_properties().with_type(event.routing_key.as_str().into());
        let events = self.shared.names.events_exchange();
        self.shared
            .publish(&events, &event.routing_key, &event.body, properties, false)
            .await
    }
}

#[async_trait]
impl Queue for AmqpQueue {
    async fn receive(&self) -> Option<Delivery> {
        let mut deliveries = self.deliveries.lock().await;
        tokio::select! {
            delivery = deliveries.recv() => delivery,
            _ = self.shared.stopping.cancelled() => None,
        }
    }

    async fn stop_intake(&self) {
        self.shared.stopping.cancel();
        for (channel, tag) in self.shared.consumers.lock().await.iter() {
            let _ = channel
                .basic_cancel(tag.clone(), BasicCancelOptions::default())
                .await;
        }
        if let Some(supervisor) = self.supervisor.lock().await.take() {
            supervisor.abort();
        }
        let mut deliveries = self.deliveries.lock().await;
        deliveries.close();
        while let Ok(delivery) = deliveries.try_recv() {
            let _ = delivery.settle(Settlement::Requeue).await;
        }
    }

    async fn close(&self) {
        self.shared.health.store(HEALTH_CLOSED, Ordering::SeqCst);
        if let Some(connection) = self.shared.connection.write().await.take() {
            let _ = connection.close(200, "worker stopped".into()).await;
        }
    }

    fn health(&self) -> Health {
        match self.shared.health.load(Ordering::SeqCst) {
            HEALTH_CONNECTED => Health::Connected,
            HEALTH_CLOSED => Health::Closed,
            _ => Health::Connecting,
        }
    }
}

fn json_properties() -> BasicProperties {
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_timestamp(OffsetDateTime::now_utc().unix_timestamp().max(0) as u64)
}

impl AmqpSettler {
    /// Publishes a result event to the events exchange and, for request/reply, to `reply_to`.
    async fn publish_event(&self, message: &Message, event: &Outgoing) -> Result<(), QueueError> {
        let shared = &self.shared;
        let events = shared.names.events_exchange();
        let to_events = shared.publish(
            &events,
            &event.routing_key,
            &event.body,
            json_properties().with_type(event.routing_key.as_str().into()),
            false,
        );
        let Some(reply_to) = &message.reply_to else {
            return to_events.await;
        };
        let mut properties = json_properties().with_type(event.routing_key.as_str().into());
        if let Some(correlation_id) = &message.correlation_id {
            properties = properties.with_correlation_id(correlation_id.as_str().into());
        }
        let to_reply = shared.publish("", reply_to, &event.body, properties, false);
        let (a, b) = tokio::join!(to_events, to_reply);
        a.and(b)
    }

    /// A copy of the original message's properties with extra headers.
    fn forwarded_properties(&self, extra: &[(&str, AMQPValue)]) -> BasicProperties {
        let mut headers = self.properties.headers().clone().unwrap_or_default();
        for (key, value) in extra {
            headers.insert((*key).into(), value.clone());
        }
        let mut properties = self
            .properties
            .clone()
            .with_headers(headers)
            .with_delivery_mode(2);
        if properties.content_type().is_none() {
            properties = properties.with_content_type("application/json".into());
        }
        properties
    }

    async fn ack(&self) -> Result<(), QueueError> {
        match self.acker.ack(BasicAckOptions::default()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(QueueError::Disconnected(
                "delivery's channel is gone; the broker will redeliver".into(),
            )),
            Err(err) => Err(disconnected(err)),
        }
    }

    async fn requeue(&self) -> Result<(), QueueError> {
        let options = BasicNackOptions {
            multiple: false,
            requeue: true,
        };
        match self.acker.nack(options).await {
            Ok(_) => Ok(()),
            Err(err) => Err(disconnected(err)),
        }
    }

    async fn settle_inner(
        &self,
        message: &Message,
        settlement: Settlement,
    ) -> Result<(), QueueError> {
        match settlement {
            Settlement::Done { result } => {
                self.publish_event(message, &result).await?;
                self.ack().await
            }
            Settlement::Retry {
                delay,
                next_attempt,
                failure,
            } => {
                let Some(lane) = self.lane else {
                    return Err(QueueError::Setup(
                        "a job from the unrouted queue cannot be retried".into(),
                    ));
                };
                let level = next_attempt
                    .saturating_sub(1)
                    .clamp(1, self.shared.max_attempts.saturating_sub(1).max(1));
                let properties = self
                    .forwarded_properties(&[
                        (ATTEMPT_HEADER, AMQPValue::LongUInt(next_attempt)),
                        ("x-last-error-kind", text(&failure.kind)),
                        ("x-last-error-message", text(&failure.message)),
                    ])
                    .with_expiration(delay.as_millis().max(1).to_string().into());
                let retry_queue = self.shared.names.retry_queue(lane, level);
                self.shared
                    .publish("", &retry_queue, &message.body, properties, true)
                    .await?;
                self.ack().await
            }
            Settlement::DeadLetter { failed, failure } => {
                let FailureInfo {
                    kind,
                    message: reason,
                } = &failure;
                let properties = self.forwarded_properties(&[
                    (ERROR_KIND_HEADER, text(kind)),
                    (ERROR_MESSAGE_HEADER, text(reason)),
                    ("x-attempts", AMQPValue::LongUInt(message.attempt)),
                    ("x-original-routing-key", text(&self.routing_key)),
                ]);
                let dead = self.shared.names.dead_exchange();
                // Keep the message first, then announce its failure.
                self.shared
                    .publish(&dead, &self.queue, &message.body, properties, true)
                    .await?;
                self.publish_event(message, &failed).await?;
                self.ack().await
            }
            Settlement::Requeue => self.requeue().await,
        }
    }
}

#[async_trait]
impl Settle for AmqpSettler {
    async fn settle(
        self: Box<Self>,
        message: &Message,
        settlement: Settlement,
    ) -> Result<(), QueueError> {
        // A delivery of a connection that is gone will be redelivered: publish nothing for it.
        if !self.acker.usable() {
            return Err(QueueError::Disconnected(
                "delivery's channel is gone; the broker will redeliver".into(),
            ));
        }
        let requeue_on_failure = !matches!(settlement, Settlement::Requeue);
        let outcome = self.settle_inner(message, settlement).await;
        if outcome.is_err() && requeue_on_failure && self.acker.usable() {
            let _ = self.requeue().await;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix() {
        let names = Names::new("t1.");
        assert_eq!(names.jobs_exchange(), "t1.jambo.jobs");
        assert_eq!(names.lane_queue(Lane::new("lead")), "t1.jambo.jobs.lead");
        assert_eq!(
            Names::dead_queue(&names.lane_queue(Lane::new("lead"))),
            "t1.jambo.jobs.lead.dead"
        );
        assert_eq!(
            names.retry_queue(Lane::new("source"), 2),
            "t1.jambo.jobs.source.retry.2"
        );
    }

    #[test]
    fn password_goes_into_the_url() {
        assert_eq!(
            with_password("amqp://u@h:5672/%2f", Some("p@ss")),
            "amqp://u:p%40ss@h:5672/%2f"
        );
        assert_eq!(
            with_password("amqp://u:x@h/%2f", Some("p")),
            "amqp://u:x@h/%2f"
        );
        assert_eq!(with_password("amqp://h/%2f", None), "amqp://h/%2f");
    }
}
