//! Requests of one kind gathered into one database statement: a batch takes whatever is
//! waiting when it starts (up to [`MAX_BATCH`]), so under load one round trip and one commit
//! serve many jobs, and a lone request waits for nothing. Up to `lanes` batches run at once.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::jobs::StoreError;

/// The most requests one statement carries.
pub(crate) const MAX_BATCH: usize = 512;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A sender of requests to the batch tasks; the tasks end when it is dropped.
pub(crate) struct Batcher<Req, Resp> {
    tx: mpsc::UnboundedSender<(Req, Reply<Resp>)>,
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// Spawns `lanes` tasks that run `exec` on batches; `exec` answers each request of a batch,
    /// in order. Must be called inside a Tokio runtime.
    pub(crate) fn new<F, Fut>(lanes: usize, exec: F) -> Batcher<Req, Resp>
    where
        F: Fn(Vec<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Resp>, StoreError>> + Send,
    {
        let (tx, rx) = mpsc::unbounded_channel::<(Req, Reply<Resp>)>();
        let rx = Arc::new(Mutex::new(rx));
        let exec = Arc::new(exec);
        for _ in 0..lanes.max(1) {
            let rx = rx.clone();
            let exec = exec.clone();
            tokio::spawn(async move {
                loop {
                    let mut batch = Vec::new();
                    {
                        let mut rx = rx.lock().await;
                        match rx.recv().await {
                            Some(first) => batch.push(first),
                            None => return,
                        }
                        while batch.len() < MAX_BATCH {
                            match rx.try_recv() {
                                Ok(next) => batch.push(next),
                                Err(_) => break,
                            }
                        }
                    }
                    let (requests, replies): (Vec<Req>, Vec<Reply<Resp>>) =
                        batch.into_iter().unzip();
                    // an answer missing from `exec` drops its reply: that caller sees `Closed`
                    match exec(requests).await {
                        Ok(answers) => {
                            for (reply, answer) in replies.into_iter().zip(answers) {
                                let _ = reply.send(Ok(answer));
                            }
                        }
                        Err(err) => {
                            let message = err.to_string();
                            for reply in replies {
                                let _ = reply.send(Err(StoreError::Db(message.clone())));
                            }
                        }
                    }
                }
            });
        }
        Batcher { tx }
    }

    /// Sends one request and waits for its answer.
    pub(crate) async fn call(&self, request: Req) -> Result<Resp, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((request, reply))
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}
