//! The job pipeline: decode and validate a message, check the tenant, answer repeats from the
//! idempotency store, dispatch to the handler, store the result, and decide the settlement
//! (done, retry, dead-letter). Knows jobs and errors, not queue backends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;

use crate::config::WorkerConfig;
use crate::contract::error::{Disposition, JobError, retry_delay};
use crate::contract::event::{Event, Privacy};
use crate::contract::job::{DecodeLimits, Job, JobHeader, JobType, Payload, decode};
use crate::queue::{FailureInfo, Message, Outgoing, Publisher, Settlement};
use crate::state::jobs::{Claim, JobStore};
use crate::state::tenants::TenantStore;

use super::handler::{JobContext, JobHandler};

/// Runs jobs; shared by every worker task.
pub struct Pipeline {
    limits: DecodeLimits,
    config: WorkerConfig,
    tenants: Arc<TenantStore>,
    store: Arc<dyn JobStore>,
    handlers: Arc<dyn JobHandler>,
    /// Jobs running now, by tenant and id: a second copy of a job that arrives while the first
    /// runs waits for it and is then answered from the store, instead of running twice.
    running: std::sync::Mutex<RunningJobs>,
}

/// One lock per job running now, keyed by tenant and job id.
type RunningJobs = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// A job that ran to its end: the result event, and whether it came from the store.
pub struct Executed {
    pub job_type: JobType,
    pub event: Event,
    pub bytes: Vec<u8>,
    pub repeat: bool,
}

/// A job that failed, with what could be read of it.
pub struct Failed {
    pub header: JobHeader,
    pub error: JobError,
    pub training_opt_in: bool,
}

impl Pipeline {
    pub(crate) fn new(
        config: WorkerConfig,
        tenants: Arc<TenantStore>,
        store: Arc<dyn JobStore>,
        handlers: Arc<dyn JobHandler>,
    ) -> Pipeline {
        let limits = DecodeLimits {
            max_body_bytes: config.max_body_bytes,
            test_jobs: config.test_jobs,
        };
        Pipeline {
            limits,
            config,
            tenants,
            store,
            handlers,
            running: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Processes one message and says how to settle it.
    pub async fn process(&self, message: &Message, events: &dyn Publisher) -> Settlement {
        let started = Instant::now();
        let outcome = self.execute(message, events).await;
        let elapsed = started.elapsed().as_secs_f64();
        match outcome {
            Ok(executed) => {
                let job_type = executed.job_type.as_str();
                let result_type = executed.event.event_type.clone();
                let outcome = if executed.repeat { "repeat" } else { "done" };
                metrics::counter!("jambo_jobs_total", "type" => job_type, "outcome" => outcome)
                    .increment(1);
                metrics::histogram!("jambo_job_duration_seconds", "type" => job_type)
                    .record(elapsed);
                tracing::info!(
                    event = "job_done",
                    job_id = executed.event.job_id.as_deref().unwrap_or(""),
                    tenant = executed.event.tenant_id.as_deref().unwrap_or(""),
                    job_type,
                    attempt = message.attempt,
                    repeat = executed.repeat,
                    ms = (elapsed * 1000.0) as u64,
                );
                Settlement::Done {
                    result: Outgoing {
                        routing_key: result_type,
                        body: executed.bytes,
                    },
                }
            }
            Err(failed) => self.settle_failure(message, failed, elapsed),
        }
    }

    /// Runs the job behind a message: decode, tenant, idempotency, handler, store.
    pub async fn execute(
        &self,
        message: &Message,
        events: &dyn Publisher,
    ) -> Result<Executed, Failed> {
        let job = decode(&message.body, self.limits).map_err(|error| Failed {
            header: JobHeader::sniff(&message.body),
            error,
            training_opt_in: false,
        })?;
        let header = JobHeader {
            id: Some(job.id.clone()),
            job_type: Some(job.job_type.as_str().to_owned()),
            tenant_id: Some(job.tenant_id.clone()),
        };
        let fail = |error: JobError, training_opt_in: bool| Failed {
            header: header.clone(),
            error,
            training_opt_in,
        };
        record_lag(&job, message);

        let tenant = match &job.payload {
            Payload::TenantConfigure(settings) => Some(Arc::new((**settings).clone())),
            _ => match self.tenants.lookup(&job.tenant_id).await {
                Ok(Some(settings)) => Some(settings),
                Ok(None) => {
                    return Err(fail(JobError::UnknownTenant(job.tenant_id.clone()), false));
                }
                Err(err) => return Err(fail(JobError::Storage(err.to_string()), false)),
            },
        };
        let training_opt_in = tenant.as_ref().is_some_and(|t| t.ai.training_opt_in);

        let key = (job.tenant_id.clone(), job.id.clone());
        let slot = self.lock_running().entry(key.clone()).or_default().clone();
        let outcome = {
            let _running = slot.lock().await;
            self.run_once(&job, message, tenant, training_opt_in, events, &fail)
                .await
        };
        let mut running = self.lock_running();
        if Arc::strong_count(&slot) == 2 {
            // Nobody else waits on this job: forget its slot.
            running.remove(&key);
        }
        outcome
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, RunningJobs> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The part of a job that runs at most once at a time per job id: the idempotency check, the
    /// handler, and storing the result.
    async fn run_once(
        &self,
        job: &Job,
        message: &Message,
        tenant: Option<Arc<crate::contract::tenant::TenantSettings>>,
        training_opt_in: bool,
        events: &dyn Publisher,
        fail: &(dyn Fn(JobError, bool) -> Failed + Sync),
    ) -> Result<Executed, Failed> {
        match self.store.claim(&job.tenant_id, &job.id).await {
            Ok(Claim::Done(bytes)) => {
                if let Ok(event) = serde_json::from_slice::<Event>(&bytes) {
                    return Ok(Executed {
                        job_type: job.job_type,
                        event,
                        bytes,
                        repeat: true,
                    });
                }
                tracing::warn!(event = "stored_result_unreadable", job_id = %job.id);
            }
            Ok(Claim::Run) => {}
            Ok(Claim::Busy) => {
                metrics::counter!("jambo_jobs_busy_elsewhere_total").increment(1);
                return Err(fail(JobError::Busy, training_opt_in));
            }
            Err(err) => return Err(fail(JobError::Storage(err.to_string()), training_opt_in)),
        }

        let context = JobContext {
            job,
            attempt: message.attempt,
            tenant,
            events,
        };
        let output = match self.handle_renewing(job, &context).await {
            Ok(output) => output,
            Err(error) => {
                // let a retry, here or on another replica, claim it again
                if let Err(err) = self.store.release(&job.tenant_id, &job.id).await {
                    tracing::warn!(event = "claim_release_failed", job_id = %job.id, error = %err);
                }
                return Err(fail(error, training_opt_in));
            }
        };
        let event = Event {
            v: 1,
            job_id: Some(job.id.clone()),
            event_type: job.job_type.result_type().to_owned(),
            tenant_id: Some(job.tenant_id.clone()),
            result: output.result,
            privacy: Privacy {
                training_opt_in,
                ..output.privacy
            },
        };
        let bytes = event.to_bytes();
        self.store
            .put_about(&job.tenant_id, &job.id, bytes.clone(), job.subjects())
            .await
            .map_err(|err| fail(JobError::Storage(err.to_string()), training_opt_in))?;
        Ok(Executed {
            job_type: job.job_type,
            event,
            bytes,
            repeat: false,
        })
    }

    /// Runs the handler; with a store whose claims lapse, renews this job's claim while it
    /// runs, so a long job is never taken over by another replica.
    async fn handle_renewing(
        &self,
        job: &Job,
        context: &JobContext<'_>,
    ) -> Result<super::handler::Output, JobError> {
        let handling = self.handlers.handle(context);
        let Some(every) = self.store.renew_every() else {
            return handling.await;
        };
        tokio::pin!(handling);
        let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(100)));
        tick.tick().await;
        loop {
            tokio::select! {
                result = &mut handling => return result,
                _ = tick.tick() => {
                    if let Err(err) = self.store.renew(&job.tenant_id, &job.id).await {
                        tracing::warn!(event = "claim_renew_failed", job_id = %job.id, error = %err);
                    }
                }
            }
        }
    }

    fn settle_failure(&self, message: &Message, failed: Failed, elapsed: f64) -> Settlement {
        let Failed {
            header,
            error,
            training_opt_in,
        } = failed;
        let job_type = header
            .job_type
            .as_deref()
            .and_then(JobType::parse)
            .map_or("unknown", JobType::as_str);
        let job_id = header.id.as_deref().unwrap_or("");
        metrics::histogram!("jambo_job_duration_seconds", "type" => job_type).record(elapsed);

        if matches!(error, JobError::Busy) {
            // not an attempt of this job: its twin runs elsewhere; look again after a while
            let delay = retry_delay(2, self.config.retry_base, self.config.retry_max);
            metrics::counter!("jambo_jobs_total", "type" => job_type, "outcome" => "busy")
                .increment(1);
            tracing::info!(event = "job_busy_elsewhere", job_id, job_type);
            return Settlement::Retry {
                delay,
                next_attempt: message.attempt,
                failure: FailureInfo {
                    kind: error.kind().to_owned(),
                    message: error.to_string(),
                },
            };
        }
        let error = match error.disposition() {
            Disposition::Retry if message.attempt < self.config.max_attempts => {
                let next_attempt = message.attempt + 1;
                let delay =
                    retry_delay(next_attempt, self.config.retry_base, self.config.retry_max);
                metrics::counter!("jambo_jobs_total", "type" => job_type, "outcome" => "retry")
                    .increment(1);
                metrics::counter!("jambo_job_retries_total", "type" => job_type).increment(1);
                tracing::warn!(
                    event = "job_retry",
                    job_id,
                    job_type,
                    attempt = message.attempt,
                    retry_in_ms = delay.as_millis() as u64,
                    error_kind = error.kind(),
                    error = %error,
                );
                return Settlement::Retry {
                    delay,
                    next_attempt,
                    failure: FailureInfo {
                        kind: error.kind().to_owned(),
                        message: error.to_string(),
                    },
                };
            }
            Disposition::Retry => JobError::RetriesExhausted {
                attempts: message.attempt,
                last: format!("{}: {error}", error.kind()),
            },
            Disposition::DeadLetter => error,
        };
        metrics::counter!("jambo_jobs_total", "type" => job_type, "outcome" => "dead_letter")
            .increment(1);
        metrics::counter!("jambo_dead_letters_total", "type" => job_type, "kind" => error.kind())
            .increment(1);
        tracing::warn!(
            event = "job_dead_lettered",
            job_id,
            job_type,
            attempt = message.attempt,
            error_kind = error.kind(),
            error = %error,
        );
        let event = Event::failed(&header, &error, training_opt_in);
        Settlement::DeadLetter {
            failed: Outgoing {
                routing_key: event.event_type.clone(),
                body: event.to_bytes(),
            },
            failure: FailureInfo {
                kind: error.kind().to_owned(),
                message: error.to_string(),
            },
        }
    }
}

/// Queue lag: from when the job was published (or created) to when a worker picked it up.
fn record_lag(job: &Job, message: &Message) {
    let Some(since) = message.published_at.or(job.created_at) else {
        return;
    };
    let lag = (OffsetDateTime::now_utc() - since)
        .as_seconds_f64()
        .max(0.0);
    metrics::histogram!("jambo_queue_lag_seconds", "family" => job.job_type.family().as_str())
        .record(lag);
}
