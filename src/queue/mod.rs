//! The queue seam: where jobs come from and where results go. [`Queue`] hands out
//! [`Delivery`]s; each delivery is settled exactly once with a [`Settlement`] that says what to
//! publish and whether to acknowledge, retry, dead-letter or requeue the message.
//!
//! Backends: [`stdio::StdioQueue`] (JSONL on stdin/stdout, the embedded default) and
//! `amqp::AmqpQueue` (RabbitMQ). The backend owns the order "publish, wait for the confirm, then
//! acknowledge", so a result is never lost once a message is acknowledged. Nothing here knows what
//! a job means.

pub mod stdio;

#[cfg(feature = "amqp")]
pub mod amqp;

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

/// A lane of work: one consumer queue of the backend, bound to the routing keys `<name>.*`. The
/// queue layer knows lanes by name only; which jobs travel in which lane is the runtime's choice
/// (one lane per job family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lane(&'static str);

impl Lane {
    pub const fn new(name: &'static str) -> Lane {
        Lane(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// A message as received, whatever the backend.
#[derive(Debug, Clone)]
pub struct Message {
    pub body: Vec<u8>,
    /// 1 for the first delivery; counts retries made through the retry queues.
    pub attempt: u32,
    /// The lane it came from (`None` for the catch-all of unroutable jobs, or stdin).
    pub lane: Option<Lane>,
    /// Where a request/reply caller waits for the result.
    pub reply_to: Option<String>,
    pub correlation_id: Option<String>,
    /// The broker says it delivered this message before (a consumer died or disconnected).
    pub redelivered: bool,
    /// When the producer published it, if it said so (for queue lag).
    pub published_at: Option<OffsetDateTime>,
}

impl Message {
    /// A first delivery with no broker metadata (a line of stdin, a one-shot command).
    pub fn new(body: Vec<u8>) -> Message {
        Message {
            body,
            attempt: 1,
            lane: None,
            reply_to: None,
            correlation_id: None,
            redelivered: false,
            published_at: None,
        }
    }
}

/// An event to publish: its routing key (the event type) and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub routing_key: String,
    pub body: Vec<u8>,
}

/// The reason a message is retried or dead-lettered, carried in message headers.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureInfo {
    pub kind: String,
    pub message: String,
}

/// How a delivery ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// The job is done: publish its result (to the events exchange and, when asked, to the
    /// reply queue), wait for the confirms, then acknowledge.
    Done { result: Outgoing },
    /// The job failed but may succeed later: republish it for delivery after `delay` with the
    /// attempt count raised, then acknowledge.
    Retry {
        delay: Duration,
        next_attempt: u32,
        failure: FailureInfo,
    },
    /// The job failed for good: publish the `job.failed` event, move the message to the
    /// dead-letter queue with the reason in its headers, then acknowledge.
    DeadLetter {
        failed: Outgoing,
        failure: FailureInfo,
    },
    /// Give the message back unprocessed (shutdown): it will be delivered again.
    Requeue,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The connection or channel went away; the broker will redeliver what was not acknowledged.
    #[error("queue disconnected: {0}")]
    Disconnected(String),
    /// The broker refused a publish (nack) or did not confirm it in time.
    #[error("publish not confirmed: {0}")]
    NotConfirmed(String),
    /// Reading or writing the local stream failed.
    #[error("queue i/o: {0}")]
    Io(String),
    /// The broker refused the topology or the connection settings (a configuration problem).
    #[error("queue setup: {0}")]
    Setup(String),
}

/// Settles one delivery; implemented by each backend.
#[async_trait]
pub trait Settle: Send {
    async fn settle(
        self: Box<Self>,
        message: &Message,
        settlement: Settlement,
    ) -> Result<(), QueueError>;
}

/// A received message and the means to settle it.
pub struct Delivery {
    pub message: Message,
    settler: Box<dyn Settle>,
}

impl Delivery {
    pub fn new(message: Message, settler: Box<dyn Settle>) -> Delivery {
        Delivery { message, settler }
    }

    /// Ends the delivery. Consumes it, so a message cannot be settled twice.
    pub async fn settle(self, settlement: Settlement) -> Result<(), QueueError> {
        self.settler.settle(&self.message, settlement).await
    }
}

/// The state a queue reports to `/readyz` and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Connected,
    Connecting,
    Closed,
}

/// Where events that are not a job's result go (progress of a long job). Best effort: a lost
/// progress event is not worth a retry.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, event: &Outgoing) -> Result<(), QueueError>;
}

/// Drops every event (one-shot commands that report progress otherwise).
pub struct Discard;

#[async_trait]
impl Publisher for Discard {
    async fn publish(&self, _event: &Outgoing) -> Result<(), QueueError> {
        Ok(())
    }
}

/// A source of jobs and a sink for results.
#[async_trait]
pub trait Queue: Publisher {
    /// The next delivery, waiting for one; `None` once the queue is closed and drained (end of
    /// stdin, or intake stopped).
    async fn receive(&self) -> Option<Delivery>;
    /// Stops taking new messages (shutdown step one). Messages already handed out can still be
    /// settled; ones received but not handed out go back to the broker.
    async fn stop_intake(&self);
    /// Closes the connection after the last settlement (shutdown step two).
    async fn close(&self);
    fn health(&self) -> Health;
}
