//! CPU-bound work off the async threads. Chunking, redaction, the model tier, embedding, training
//! and lead analysis all go through [`run`], so async code only ever blocks for as long as it
//! takes to hand the work over.
//!
//! Owns: the one way CPU work leaves the async threads. Must not know: anything else of the
//! crate (it imports nothing from it).

/// Runs `work` on the blocking pool and waits for it without holding an async thread. A panic in
/// `work` resumes in the caller, as if the work had run inline.
pub async fn run<T, F>(work: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        // A blocking task is cancelled only when the runtime shuts down, which drops the future
        // that waits here too: this never completes.
        Err(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn work_runs_off_the_async_thread() {
        let caller = std::thread::current().id();
        let worker = super::run(|| std::thread::current().id()).await;
        assert_ne!(caller, worker);
    }

    #[tokio::test]
    #[should_panic(expected = "boom")]
    async fn a_panic_reaches_the_caller() {
        super::run(|| panic!("boom")).await
    }
}
