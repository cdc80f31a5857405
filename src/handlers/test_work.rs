//! `test.work`: the synthetic job of tests and benchmarks (only with `worker.test_jobs`). It can
//! sleep, fail transiently on its first attempts or always; its result carries a random nonce,
//! so a test can tell a re-published stored result from a second execution.

use std::time::Duration;

use serde_json::json;

use crate::contract::error::JobError;
use crate::contract::job::TestWork;
use crate::runtime::handler::{JobContext, Output};

pub async fn run(context: &JobContext<'_>, work: &TestWork) -> Result<Output, JobError> {
    if work.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(work.sleep_ms.min(60_000))).await;
    }
    if work.always_fail || context.attempt <= work.fail_attempts {
        return Err(JobError::Transient(format!(
            "test.work asked to fail on attempt {}",
            context.attempt
        )));
    }
    Ok(Output::new(json!({
        "attempt": context.attempt,
        "nonce": rand::random::<u64>().to_string(),
    })))
}
