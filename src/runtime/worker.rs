//! The worker loop: takes deliveries from a [`Queue`], runs each through the [`Pipeline`] under
//! its family's concurrency limit, settles it, and shuts down gracefully: stop intake, let
//! in-flight jobs finish up to the drain timeout, requeue the rest, close the queue.
//!
//! The shutdown signal is a parameter (production passes SIGTERM/SIGINT, tests their own
//! future); nothing here is global.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{RwLock, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::contract::job::{Family, JobHeader, JobType};
use crate::queue::{Delivery, Lane, Queue, Settlement};
use crate::runtime::pipeline::Pipeline;

/// Concurrency for messages whose family is unknown (unparsable jobs on stdin, unrouted jobs).
const UNKNOWN_FAMILY_LIMIT: usize = 4;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The input ended (end of stdin) and every job was settled.
    InputEnded,
    /// A shutdown was requested; in-flight jobs finished within the drain timeout.
    Drained,
    /// A shutdown was requested and this many jobs were requeued unfinished at the timeout.
    Requeued(usize),
}

pub struct Worker {
    queue: Arc<dyn Queue>,
    pipeline: Arc<Pipeline>,
    /// One semaphore per family: the per-family concurrency limit from config.
    limits: BTreeMap<Option<Family>, Arc<Semaphore>>,
    drain_timeout: Duration,
    /// Tenant settings change between jobs, never under them: a `tenant.configure` waits for
    /// the jobs received before it and holds back the ones after it (write lock); every other
    /// job holds a read lock while it runs. Locks are taken in receive order.
    barrier: Arc<RwLock<()>>,
}

impl Worker {
    pub fn new(
        queue: Arc<dyn Queue>,
        pipeline: Arc<Pipeline>,
        concurrency: &BTreeMap<Family, usize>,
        drain_timeout: Duration,
    ) -> Worker {
        let mut limits: BTreeMap<Option<Family>, Arc<Semaphore>> = concurrency
            .iter()
            .map(|(family, limit)| (Some(*family), Arc::new(Semaphore::new(*limit))))
            .collect();
        limits.insert(None, Arc::new(Semaphore::new(UNKNOWN_FAMILY_LIMIT)));
        Worker {
            queue,
            pipeline,
            limits,
            drain_timeout,
            barrier: Arc::new(RwLock::new(())),
        }
    }

    /// Runs until the input ends or `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Stopped {
        let tracker = TaskTracker::new();
        // Cancelled when shutdown starts: jobs still waiting for a concurrency slot are requeued.
        let stopping = CancellationToken::new();
        // Cancelled when the drain timeout expires: unfinished jobs are then requeued.
        let abort = CancellationToken::new();
        tokio::pin!(shutdown);
        let mut input_ended = false;
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => {
                    tracing::info!(event = "shutdown_requested", in_flight = tracker.len());
                    break;
                }
                delivery = self.queue.receive() => match delivery {
                    Some(delivery) => {
                        let family = self.family_of(&delivery);
                        let limit = self.limits.get(&family).or_else(|| self.limits.get(&None)).cloned();
                        let limit = limit.unwrap_or_else(|| Arc::new(Semaphore::new(1)));
                        let guard = if family == Some(Family::Tenant) {
                            Guard::Exclusive(self.barrier.clone().write_owned().await)
                        } else {
                            Guard::Shared(self.barrier.clone().read_owned().await)
                        };
                        tracker.spawn(process_one(delivery, limit, guard, self.pipeline.clone(), self.queue.clone(), stopping.clone(), abort.clone()));
                    }
                    None => {
                        input_ended = true;
                        break;
                    }
                },
            }
        }

        stopping.cancel();
        self.queue.stop_intake().await;
        tracker.close();
        let mut outcome = if input_ended {
            Stopped::InputEnded
        } else {
            Stopped::Drained
        };
        if tokio::time::timeout(self.drain_timeout, tracker.wait())
            .await
            .is_err()
        {
            let unfinished = tracker.len();
            tracing::warn!(event = "drain_timeout", requeued = unfinished);
            abort.cancel();
            tracker.wait().await;
            outcome = Stopped::Requeued(unfinished);
        }
        self.queue.close().await;
        outcome
    }

    fn family_of(&self, delivery: &Delivery) -> Option<Family> {
        delivery.message.lane.and_then(family_of_lane).or_else(|| {
            let header = JobHeader::sniff(&delivery.message.body);
            header
                .job_type
                .as_deref()
                .and_then(JobType::parse)
                .map(JobType::family)
        })
    }
}

/// The queue lane a job family travels in: one lane per family, named after it.
pub fn lane_of(family: Family) -> Lane {
    Lane::new(family.as_str())
}

/// The family whose jobs travel in `lane`.
fn family_of_lane(lane: Lane) -> Option<Family> {
    Family::ALL
        .into_iter()
        .find(|f| f.as_str() == lane.as_str())
}

/// The barrier lock a job holds while it runs (see `Worker::barrier`).
#[allow(dead_code)] // held for its drop, never read
enum Guard {
    Shared(tokio::sync::OwnedRwLockReadGuard<()>),
    Exclusive(tokio::sync::OwnedRwLockWriteGuard<()>),
}

async fn process_one(
    delivery: Delivery,
    limit: Arc<Semaphore>,
    _guard: Guard,
    pipeline: Arc<Pipeline>,
    events: Arc<dyn Queue>,
    stopping: CancellationToken,
    abort: CancellationToken,
) {
    let family = delivery.message.lane.map_or("unknown", Lane::as_str);
    // A job that has not started when shutdown begins is not in flight: give it back.
    let permit = tokio::select! {
        permit = limit.acquire_owned() => permit.ok(),
        _ = stopping.cancelled() => None,
    };
    let in_flight = metrics::gauge!("jambo_jobs_in_flight", "family" => family);
    in_flight.increment(1.0);
    let settlement = if permit.is_none() {
        Settlement::Requeue
    } else {
        tokio::select! {
            settlement = pipeline.process(&delivery.message, events.as_ref()) => settlement,
            _ = abort.cancelled() => Settlement::Requeue,
        }
    };
    in_flight.decrement(1.0);
    if let Err(err) = delivery.settle(settlement).await {
        tracing::warn!(event = "settle_failed", error = %err);
    }
}
