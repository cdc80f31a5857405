//! The contract of the `Queue` trait, run against every implementation (the embedded stdio queue
//! and RabbitMQ): a progress event is published on its own, a settled message publishes what its
//! settlement says, a retried one comes back
//! with its attempt raised, a dead-lettered one keeps its body and reason, a requeued one is not
//! lost, and stopping intake ends `receive`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jambo_worker::contract::job::Family;
use jambo_worker::queue::amqp::{AmqpQueue, Names};
use jambo_worker::queue::stdio::StdioQueue;
use jambo_worker::queue::{FailureInfo, Outgoing, Queue, Settlement};
use jambo_worker::runtime::worker::lane_of;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::Mutex;

use crate::support::{Broker, amqp_config, broker_lock, unique_prefix};

const WAIT: Duration = Duration::from_secs(20);

/// What a conformance scenario needs from a backend besides the `Queue` itself.
#[async_trait]
trait Harness: Send + Sync {
    fn queue(&self) -> Arc<dyn Queue>;
    /// Puts a message in as a producer would.
    async fn inject(&self, body: &[u8]);
    /// The next event published by a `Done` or `DeadLetter` settlement.
    async fn next_published(&self) -> Vec<u8>;
    /// The body and error kind of the next dead-lettered message.
    async fn next_dead_letter(&self) -> (Vec<u8>, String);
    /// The body of a message given back with `Requeue`, from wherever the backend keeps it.
    async fn requeued(&self) -> Vec<u8>;
}

async fn receive(harness: &dyn Harness) -> jambo_worker::queue::Delivery {
    tokio::time::timeout(WAIT, harness.queue().receive())
        .await
        .expect("a delivery within the timeout")
        .expect("the queue is open")
}

fn outgoing(body: &str) -> Outgoing {
    Outgoing {
        routing_key: "test.done".into(),
        body: body.as_bytes().to_vec(),
    }
}

fn failure() -> FailureInfo {
    FailureInfo {
        kind: "transient".into(),
        message: "try later".into(),
    }
}

async fn conformance(harness: &dyn Harness) {
    // an event that is not a result (progress) is published on its own
    harness
        .queue()
        .publish(&outgoing("progress-0"))
        .await
        .unwrap();
    assert_eq!(harness.next_published().await, b"progress-0");

    // done: the result is published
    harness.inject(br#"{"n":1}"#).await;
    let delivery = receive(harness).await;
    assert_eq!(delivery.message.body, br#"{"n":1}"#);
    assert_eq!(delivery.message.attempt, 1);
    delivery
        .settle(Settlement::Done {
            result: outgoing("result-1"),
        })
        .await
        .unwrap();
    assert_eq!(harness.next_published().await, b"result-1");

    // retry: delivered again after the delay with the attempt raised, body unchanged
    harness.inject(br#"{"n":2}"#).await;
    let delivery = receive(harness).await;
    let retry = Settlement::Retry {
        delay: Duration::from_millis(50),
        next_attempt: 2,
        failure: failure(),
    };
    delivery.settle(retry).await.unwrap();
    let again = receive(harness).await;
    assert_eq!(again.message.body, br#"{"n":2}"#);
    assert_eq!(again.message.attempt, 2);
    again
        .settle(Settlement::Done {
            result: outgoing("result-2"),
        })
        .await
        .unwrap();
    assert_eq!(harness.next_published().await, b"result-2");

    // dead letter: the failure event is published, the message kept with its reason
    harness.inject(br#"{"n":3}"#).await;
    let delivery = receive(harness).await;
    let dead = Settlement::DeadLetter {
        failed: outgoing("failed-3"),
        failure: FailureInfo {
            kind: "invalid_job".into(),
            message: "bad".into(),
        },
    };
    delivery.settle(dead).await.unwrap();
    assert_eq!(harness.next_published().await, b"failed-3");
    assert_eq!(
        harness.next_dead_letter().await,
        (br#"{"n":3}"#.to_vec(), "invalid_job".to_owned())
    );

    // requeue: not lost
    harness.inject(br#"{"n":4}"#).await;
    let delivery = receive(harness).await;
    delivery.settle(Settlement::Requeue).await.unwrap();
    assert_eq!(harness.requeued().await, br#"{"n":4}"#);

    // stopping intake ends receive
    harness.queue().stop_intake().await;
    let end = tokio::time::timeout(WAIT, harness.queue().receive())
        .await
        .expect("receive returns");
    assert!(end.is_none());
    harness.queue().close().await;
}

struct StdioHarness {
    queue: Arc<dyn Queue>,
    input: Mutex<DuplexStream>,
    output: Mutex<tokio::io::Lines<tokio::io::BufReader<DuplexStream>>>,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

#[async_trait]
impl Harness for StdioHarness {
    fn queue(&self) -> Arc<dyn Queue> {
        self.queue.clone()
    }
    async fn inject(&self, body: &[u8]) {
        let mut input = self.input.lock().await;
        input.write_all(body).await.unwrap();
        input.write_all(b"\n").await.unwrap();
    }
    async fn next_published(&self) -> Vec<u8> {
        let line = tokio::time::timeout(WAIT, self.output.lock().await.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        line.into_bytes()
    }
    async fn next_dead_letter(&self) -> (Vec<u8>, String) {
        let text = std::fs::read_to_string(self.dir.join("dead-letter.jsonl")).unwrap();
        let record: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        let body = record["message"]["body"]
            .as_str()
            .unwrap()
            .as_bytes()
            .to_vec();
        (body, record["error"]["kind"].as_str().unwrap().to_owned())
    }
    async fn requeued(&self) -> Vec<u8> {
        let text = std::fs::read_to_string(self.dir.join("unfinished.jsonl")).unwrap();
        text.lines().last().unwrap().as_bytes().to_vec()
    }
}

#[tokio::test]
async fn stdio_queue_meets_the_queue_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let (input_writer, input_reader) = tokio::io::duplex(1 << 16);
    let (output_writer, output_reader) = tokio::io::duplex(1 << 16);
    let queue = StdioQueue::new(
        tokio::io::BufReader::new(input_reader),
        output_writer,
        tmp.path().to_owned(),
        1 << 20,
    );
    let harness = StdioHarness {
        queue: Arc::new(queue),
        input: Mutex::new(input_writer),
        output: Mutex::new(tokio::io::BufReader::new(output_reader).lines()),
        dir: tmp.path().to_owned(),
        _tmp: tmp,
    };
    conformance(&harness).await;
}

struct AmqpHarness {
    queue: Arc<dyn Queue>,
    broker: Broker,
    events: String,
}

#[async_trait]
impl Harness for AmqpHarness {
    fn queue(&self) -> Arc<dyn Queue> {
        self.queue.clone()
    }
    async fn inject(&self, body: &[u8]) {
        self.broker.publish_job("test.work", body).await;
    }
    async fn next_published(&self) -> Vec<u8> {
        self.broker.take(&self.events, 1, WAIT).await.remove(0).body
    }
    async fn next_dead_letter(&self) -> (Vec<u8>, String) {
        let dead = Names::dead_queue(&self.broker.names.lane_queue(lane_of(Family::Test)));
        let letter = self.broker.take(&dead, 1, WAIT).await.remove(0);
        let kind = letter.header("x-error-kind").unwrap();
        (letter.body, kind)
    }
    async fn requeued(&self) -> Vec<u8> {
        // The broker redelivers it.
        let delivery = tokio::time::timeout(WAIT, self.queue.receive())
            .await
            .unwrap()
            .unwrap();
        assert!(delivery.message.redelivered);
        let body = delivery.message.body.clone();
        delivery
            .settle(Settlement::Done {
                result: outgoing("drained"),
            })
            .await
            .unwrap();
        self.next_published().await;
        body
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_queue_meets_the_queue_contract() {
    let _lock = broker_lock(false);
    let prefix = unique_prefix("conformance");
    let broker = Broker::connect(&prefix).await;
    let events = broker.events_queue().await;
    let queue = AmqpQueue::connect(&amqp_config(&prefix), vec![lane_of(Family::Test)])
        .await
        .expect("connect");
    let harness = AmqpHarness {
        queue: Arc::new(queue),
        broker,
        events,
    };
    conformance(&harness).await;
    harness.broker.cleanup().await;
}
