//! The embedded queue: jobs as JSONL on an input stream (stdin), results as JSONL on an output
//! stream (stdout). Retries wait in memory; dead letters are written to
//! `<data-dir>/dead-letter.jsonl` and jobs cut short by a shutdown to `<data-dir>/unfinished.jsonl`
//! (feed that file back to `run` to finish them), so nothing read is lost.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use base64::Engine;
use serde_json::json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::{
    Delivery, Health, Message, Outgoing, Publisher, Queue, QueueError, Settle, Settlement,
};

type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// JSONL in, JSONL out.
pub struct StdioQueue {
    deliveries: Mutex<mpsc::Receiver<Delivery>>,
    shared: Arc<Shared>,
    reader: tokio::task::JoinHandle<()>,
}

struct Shared {
    out: Mutex<Writer>,
    dead_letter_path: PathBuf,
    unfinished_path: PathBuf,
    /// Cancelled by `stop_intake`: pending retries are then written to the unfinished file
    /// instead of coming back.
    stopping: CancellationToken,
    closed: AtomicBool,
}

struct StdioSettler {
    shared: Arc<Shared>,
    /// Lets a retry put the message back in line; holding it also keeps `receive` from
    /// reporting the end while this delivery is unsettled.
    requeue: mpsc::Sender<Delivery>,
}

impl StdioQueue {
    /// Starts reading `input`; lines longer than `max_line` bytes are cut there (the pipeline
    /// then dead-letters them as too large).
    pub fn new(
        input: impl AsyncBufRead + Unpin + Send + 'static,
        output: impl AsyncWrite + Unpin + Send + 'static,
        data_dir: PathBuf,
        max_line: usize,
    ) -> StdioQueue {
        let (tx, rx) = mpsc::channel(64);
        let shared = Arc::new(Shared {
            out: Mutex::new(Box::new(output)),
            dead_letter_path: data_dir.join("dead-letter.jsonl"),
            unfinished_path: data_dir.join("unfinished.jsonl"),
            stopping: CancellationToken::new(),
            closed: AtomicBool::new(false),
        });
        let reader = tokio::spawn(read_lines(input, max_line, tx, shared.clone()));
        StdioQueue {
            deliveries: Mutex::new(rx),
            shared,
            reader,
        }
    }

    /// The embedded queue on this process's stdin and stdout.
    pub fn stdio(data_dir: PathBuf, max_line: usize) -> StdioQueue {
        let input = tokio::io::BufReader::with_capacity(256 * 1024, tokio::io::stdin());
        StdioQueue::new(input, tokio::io::stdout(), data_dir, max_line)
    }
}

async fn read_lines(
    mut input: impl AsyncBufRead + Unpin,
    max_line: usize,
    tx: mpsc::Sender<Delivery>,
    shared: Arc<Shared>,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = tokio::select! {
            _ = shared.stopping.cancelled() => return,
            read = read_line_bounded(&mut input, max_line, &mut line) => read,
        };
        match read {
            Ok(false) => return,
            Ok(true) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(true) => {
                let message = Message::new(std::mem::take(&mut line));
                let settler = StdioSettler {
                    shared: shared.clone(),
                    requeue: tx.clone(),
                };
                if tx
                    .send(Delivery::new(message, Box::new(settler)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(err) => {
                tracing::error!(event = "stdin_read_failed", error = %err);
                return;
            }
        }
    }
}

/// Reads one line without its newline into `buf`, keeping at most `max + 1` bytes of it (enough
/// for the size check to see it is too long). Returns false at the end of the input.
async fn read_line_bounded(
    input: &mut (impl AsyncBufRead + Unpin),
    max: usize,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let mut any = false;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Ok(any);
        }
        any = true;
        let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len() + usize::from(found_newline);
        input.consume(used);
        if found_newline {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(true);
        }
    }
}

#[async_trait]
impl Publisher for StdioQueue {
    async fn publish(&self, event: &Outgoing) -> Result<(), QueueError> {
        self.shared.emit(event).await
    }
}

#[async_trait]
impl Queue for StdioQueue {
    async fn receive(&self) -> Option<Delivery> {
        self.deliveries.lock().await.recv().await
    }

    async fn stop_intake(&self) {
        self.shared.stopping.cancel();
        self.reader.abort();
        let mut deliveries = self.deliveries.lock().await;
        while let Ok(delivery) = deliveries.try_recv() {
            let _ = delivery.settle(Settlement::Requeue).await;
        }
    }

    async fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        let _ = self.shared.out.lock().await.flush().await;
    }

    fn health(&self) -> Health {
        if self.shared.closed.load(Ordering::SeqCst) {
            Health::Closed
        } else {
            Health::Connected
        }
    }
}

impl Shared {
    async fn emit(&self, event: &Outgoing) -> Result<(), QueueError> {
        let mut out = self.out.lock().await;
        let io = |err: std::io::Error| QueueError::Io(err.to_string());
        out.write_all(&event.body).await.map_err(io)?;
        out.write_all(b"\n").await.map_err(io)?;
        out.flush().await.map_err(io)
    }

    async fn append(
        &self,
        path: &std::path::Path,
        line: serde_json::Value,
    ) -> Result<(), QueueError> {
        let io = |err: std::io::Error| QueueError::Io(format!("{}: {err}", path.display()));
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .map_err(io)?;
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        file.write_all(&bytes).await.map_err(io)?;
        file.sync_data().await.map_err(io)
    }

    /// Keeps a message that will not be processed now, as its original line.
    async fn keep_unfinished(&self, message: &Message) -> Result<(), QueueError> {
        let io = |err: std::io::Error| {
            QueueError::Io(format!("{}: {err}", self.unfinished_path.display()))
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.unfinished_path)
            .await
            .map_err(io)?;
        let mut bytes = message.body.clone();
        bytes.push(b'\n');
        file.write_all(&bytes).await.map_err(io)?;
        file.sync_data().await.map_err(io)
    }
}

#[async_trait]
impl Settle for StdioSettler {
    async fn settle(
        self: Box<Self>,
        message: &Message,
        settlement: Settlement,
    ) -> Result<(), QueueError> {
        let shared = &self.shared;
        match settlement {
            Settlement::Done { result } => shared.emit(&result).await,
            Settlement::Retry {
                delay,
                next_attempt,
                ..
            } => {
                let mut again = message.clone();
                again.attempt = next_attempt;
                again.redelivered = true;
                let shared = self.shared.clone();
                let requeue = self.requeue.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {
                            let settler = StdioSettler { shared: shared.clone(), requeue: requeue.clone() };
                            if let Err(returned) = requeue.send(Delivery::new(again, Box::new(settler))).await {
                                let _ = shared.keep_unfinished(&returned.0.message).await;
                            }
                        }
                        _ = shared.stopping.cancelled() => {
                            if let Err(err) = shared.keep_unfinished(&again).await {
                                tracing::error!(event = "unfinished_write_failed", error = %err);
                            }
                        }
                    }
                });
                Ok(())
            }
            Settlement::DeadLetter { failed, failure } => {
                let body = match std::str::from_utf8(&message.body) {
                    Ok(text) => json!({"body": text}),
                    Err(_) => {
                        json!({"body_base64": base64::engine::general_purpose::STANDARD.encode(&message.body)})
                    }
                };
                let record = json!({
                    "dead_at": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    "error": {"kind": failure.kind, "message": failure.message},
                    "attempts": message.attempt,
                    "message": body,
                });
                shared.append(&shared.dead_letter_path, record).await?;
                shared.emit(&failed).await
            }
            Settlement::Requeue => shared.keep_unfinished(message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_lines_are_cut_and_crlf_is_trimmed() {
        let mut input: &[u8] = b"short\r\n0123456789abcdef\nlast";
        let mut buf = Vec::new();
        assert!(read_line_bounded(&mut input, 8, &mut buf).await.unwrap());
        assert_eq!(buf, b"short");
        buf.clear();
        assert!(read_line_bounded(&mut input, 8, &mut buf).await.unwrap());
        assert_eq!(buf.len(), 9, "kept max + 1 bytes");
        buf.clear();
        assert!(read_line_bounded(&mut input, 8, &mut buf).await.unwrap());
        assert_eq!(buf, b"last");
        buf.clear();
        assert!(!read_line_bounded(&mut input, 8, &mut buf).await.unwrap());
    }
}
