//! The job error type and the one place that decides what each error does to a message.
//!
//! Every failure of a job ends as a [`JobError`]; [`JobError::disposition`] maps each variant to
//! exactly one [`Disposition`] in an exhaustive match (no `_` arm), so adding a variant forces a
//! decision about retries and dead-lettering.

use std::time::Duration;

/// What the queue does with a message whose job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The failure may go away: deliver the job again later, up to the max attempt count.
    Retry,
    /// The job can never succeed as sent: no retry, straight to the dead-letter queue.
    DeadLetter,
}

/// Why a job failed. The variant decides the disposition; the message is safe to log and to
/// publish (it never holds message bodies or personal data).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The message is larger than `worker.max_body_bytes`. Dead-lettered.
    #[error("body of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// The body is not UTF-8. Dead-lettered.
    #[error("body is not valid UTF-8 (first bad byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    /// The body is not JSON, or not the job envelope. Dead-lettered.
    #[error("invalid job JSON: {0}")]
    InvalidJson(String),
    /// The envelope or the payload is JSON but breaks the contract (missing or unknown field,
    /// wrong type, bad value). Dead-lettered.
    #[error("invalid job: {0}")]
    Invalid(String),
    /// The envelope version is not one this worker speaks. Dead-lettered.
    #[error("unsupported job version {0} (this worker speaks v1)")]
    UnsupportedVersion(u64),
    /// The `type` is not a job type this worker knows. Dead-lettered.
    #[error("unknown job type {0:?}")]
    UnknownType(String),
    /// No settings exist for the job's tenant. Dead-lettered.
    #[error(
        "unknown tenant {0:?}: send a tenant.configure job or add <tenant>.toml to the tenants folder"
    )]
    UnknownTenant(String),
    /// The handler for this job type has not been built yet. Dead-lettered.
    #[error("{0} is not implemented yet")]
    NotImplemented(&'static str),
    /// A dependency failed in a way that may succeed later (network, provider 5xx or 429, a busy
    /// store). Retried with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The worker's own storage failed (idempotency store, tenant settings on disk). Retried,
    /// since the disk or the lock may come back.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The job is well-formed but cannot be carried out (its content is refused, a referenced
    /// thing does not exist). Dead-lettered.
    #[error("job rejected: {0}")]
    Rejected(String),
    /// Another replica holds the claim on this job id and runs it now. Delivered again later
    /// without using up an attempt: by then its result is stored and answers the copy.
    #[error("another replica is running this job")]
    Busy,
    /// Retries were used up; carries the last error's kind and message. Dead-lettered.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted { attempts: u32, last: String },
}

impl JobError {
    /// The one decision: what happens to a message that failed with this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            JobError::TooLarge { .. } => Disposition::DeadLetter,
            JobError::InvalidUtf8 { .. } => Disposition::DeadLetter,
            JobError::InvalidJson(_) => Disposition::DeadLetter,
            JobError::Invalid(_) => Disposition::DeadLetter,
            JobError::UnsupportedVersion(_) => Disposition::DeadLetter,
            JobError::UnknownType(_) => Disposition::DeadLetter,
            JobError::UnknownTenant(_) => Disposition::DeadLetter,
            JobError::NotImplemented(_) => Disposition::DeadLetter,
            JobError::Transient(_) => Disposition::Retry,
            JobError::Storage(_) => Disposition::Retry,
            JobError::Rejected(_) => Disposition::DeadLetter,
            JobError::Busy => Disposition::Retry,
            JobError::RetriesExhausted { .. } => Disposition::DeadLetter,
        }
    }

    /// A stable machine-readable name for the error, used in `job.failed` events, dead-letter
    /// headers and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            JobError::TooLarge { .. } => "too_large",
            JobError::InvalidUtf8 { .. } => "invalid_utf8",
            JobError::InvalidJson(_) => "invalid_json",
            JobError::Invalid(_) => "invalid_job",
            JobError::UnsupportedVersion(_) => "unsupported_version",
            JobError::UnknownType(_) => "unknown_job_type",
            JobError::UnknownTenant(_) => "unknown_tenant",
            JobError::NotImplemented(_) => "not_implemented",
            JobError::Transient(_) => "transient",
            JobError::Storage(_) => "storage",
            JobError::Rejected(_) => "rejected",
            JobError::Busy => "busy",
            JobError::RetriesExhausted { .. } => "retries_exhausted",
        }
    }
}

/// The backoff before attempt `next_attempt` (2 is the first retry): `base * 2^(n-2)`, capped at
/// `max`, with up to 10% jitter added so that a burst of failures does not come back at once.
pub fn retry_delay(next_attempt: u32, base: Duration, max: Duration) -> Duration {
    let exponent = next_attempt.saturating_sub(2).min(20);
    let delay = base.saturating_mul(1u32 << exponent).min(max);
    let jitter = delay.mul_f64(rand::random::<f64>() * 0.1);
    delay + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        let d2 = retry_delay(2, base, max);
        let d3 = retry_delay(3, base, max);
        let d9 = retry_delay(9, base, max);
        assert!(d2 >= base && d2 <= base.mul_f64(1.1));
        assert!(d3 >= base * 2 && d3 <= (base * 2).mul_f64(1.1));
        assert!(d9 >= max && d9 <= max.mul_f64(1.1));
    }

    #[test]
    fn only_transient_and_storage_errors_retry() {
        assert_eq!(
            JobError::Transient("x".into()).disposition(),
            Disposition::Retry
        );
        assert_eq!(
            JobError::Storage("x".into()).disposition(),
            Disposition::Retry
        );
        assert_eq!(
            JobError::InvalidJson("x".into()).disposition(),
            Disposition::DeadLetter
        );
        assert_eq!(
            JobError::UnknownTenant("t".into()).disposition(),
            Disposition::DeadLetter
        );
    }
}
