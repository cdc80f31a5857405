//! `LocalMiniLm`: all-MiniLM-L6-v2 (int8 ONNX) run in-process by onnxruntime.
//!
//! Preprocessing and pooling follow sentence-transformers' all-MiniLM-L6-v2: WordPiece
//! tokenizer from its tokenizer.json, truncation to 256 tokens (the model's max_seq_length;
//! the tokenizer.json itself says 128 and pads to 128, both overridden here), mean pooling over
//! the attention mask, L2 normalisation, 384 dimensions.
//!
//! Throughput: texts are sorted by token count and cut into runs of at most `batch_size` texts
//! and `batch_tokens` padded tokens, each padded only to its own longest text (as
//! sentence-transformers' `encode` does), and runs go in parallel on several single-threaded
//! sessions, one per core (faster than one session with several intra-op threads on this
//! machine: see NOTES.md). Concurrent one-text calls (a triage job each) are coalesced into
//! shared runs by one thread, without waiting for company. Owns no I/O beyond loading files.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use async_trait::async_trait;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};
use tokio::sync::oneshot;

use super::{EmbedError, Embedder, ModelCache, onnx_runtime};

/// A batch's vectors with the batch's position, so parallel workers' output can be put in order.
type NumberedBatch = (usize, Vec<Vec<f32>>);

/// How the local model runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMiniLmConfig {
    /// Texts per model run, at most.
    pub batch_size: usize,
    /// Padded tokens per model run, at most (rows times the longest text's tokens; a text
    /// longer than this runs alone). Bounds the activations a run, and so the session's memory
    /// arena, needs: long chunks run two or three at a time, short leads many at a time.
    pub batch_tokens: usize,
    /// Longest input in tokens, special tokens included; longer texts are truncated.
    pub max_tokens: usize,
    /// Batches run at the same time, each on its own single-threaded session.
    pub parallel_batches: usize,
    /// Intra-op threads of each session.
    pub threads_per_batch: usize,
}

/// The local embedding model, ready to run. Cheap to clone; clones share the sessions.
#[derive(Clone)]
pub struct LocalMiniLm {
    inner: Arc<Inner>,
}

struct Inner {
    tokenizer: Tokenizer,
    /// One session per parallel batch. `Session::run` needs `&mut`, so each session is behind
    /// a mutex; a thread holds at most one session at a time (worker `i` of a call locks
    /// session `i`; a one-batch call a free one, else the next in turn), so concurrent calls
    /// queue per session and cannot deadlock.
    sessions: Vec<Mutex<Session>>,
    /// Round-robin turn for one-batch calls that find no free session.
    next_session: AtomicUsize,
    /// One-text calls waiting for the coalescing thread (started on the first such call).
    singles: OnceLock<std_mpsc::Sender<Single>>,
    config: LocalMiniLmConfig,
    pad_id: i64,
}

/// Texts are cut to this many bytes before tokenizing, so a huge input costs no more than a
/// normal one. 256 tokens of any real text fit in far fewer bytes; only input made mostly of
/// whitespace or control characters could lose tokens to this cut.
const MAX_TEXT_BYTES: usize = 64 * 1024;

impl LocalMiniLmConfig {
    /// The defaults for a machine with `cores` cores: one single-threaded batch per core.
    pub fn for_cores(cores: usize) -> Self {
        LocalMiniLmConfig {
            // On this CPU runs of 1-8 texts embed long texts as fast per text as runs of 32 and
            // short ones faster (525 vs 429 Bitext requests/s), and the arena keeps the
            // largest run's activations (see README, Knowledge: measured)
            batch_size: 8,
            batch_tokens: 512,
            max_tokens: 256,
            parallel_batches: cores.max(1),
            threads_per_batch: 1,
        }
    }
}

impl Default for LocalMiniLmConfig {
    /// Uses every core the process may run on.
    fn default() -> Self {
        Self::for_cores(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl LocalMiniLm {
    pub const MODEL_ID: &str = "all-minilm-l6-v2-int8";
    pub const DIMENSION: usize = 384;

    /// Loads the model, its tokenizer and onnxruntime from the model cache.
    pub fn load(cache: &ModelCache, config: LocalMiniLmConfig) -> Result<Self, EmbedError> {
        let files = cache.minilm()?;
        let library = cache.onnxruntime_library()?;
        let environment = onnx_runtime::environment(&library)?;

        let load_error = |message: String| EmbedError::ModelLoad {
            path: files.tokenizer.clone(),
            message,
        };
        let mut tokenizer =
            Tokenizer::from_file(&files.tokenizer).map_err(|err| load_error(err.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: config.max_tokens.max(2),
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|err| load_error(err.to_string()))?;
        tokenizer.with_padding(None); // we pad each batch ourselves
        let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(0).into();

        let sessions = (0..config.parallel_batches.max(1))
            .map(|_| {
                onnx_runtime::session(
                    &environment,
                    &files.model,
                    config.threads_per_batch,
                    onnx_runtime::Allocation::Arena,
                )
            })
            .map(|session| session.map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(LocalMiniLm {
            inner: Arc::new(Inner {
                tokenizer,
                sessions,
                next_session: AtomicUsize::new(0),
                singles: OnceLock::new(),
                config,
                pad_id,
            }),
        })
    }

    /// Embeds `texts` on the calling thread (and as many helper threads as parallel batches).
    /// Blocks for as long as the model runs: call it from a blocking context only; async
    /// callers use [`Embedder::embed`].
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.embed(texts)
    }

    pub fn config(&self) -> &LocalMiniLmConfig {
        &self.inner.config
    }
}

#[async_trait]
impl Embedder for LocalMiniLm {
    fn model_id(&self) -> &str {
        Self::MODEL_ID
    }

    fn dimension(&self) -> usize {
        Self::DIMENSION
    }

    fn batch_size(&self) -> usize {
        self.inner.config.batch_size * self.inner.sessions.len()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if let [text] = texts {
            return Ok(vec![self.embed_single(text.clone()).await?]);
        }
        let inner = Arc::clone(&self.inner);
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || inner.embed(&texts))
            .await
            .map_err(|err| EmbedError::Worker(err.to_string()))?
    }
}

/// One text waiting to be embedded with others, and where its vector goes.
type Single = (String, oneshot::Sender<Result<Vec<f32>, EmbedError>>);

impl LocalMiniLm {
    /// Embeds one text together with whatever other one-text calls are waiting (each triage job
    /// embeds one text; run alone, a batch of one leaves cores idle and pays a model run each).
    /// No call waits for others to arrive: the coalescing thread takes the first request and
    /// every request already queued behind it, up to one batch per session, and spreads them
    /// over the sessions. While it runs, new requests queue for the next round.
    async fn embed_single(&self, text: String) -> Result<Vec<f32>, EmbedError> {
        let (reply, answer) = oneshot::channel();
        let sender = self.inner.singles.get_or_init(|| {
            let (tx, rx) = std_mpsc::channel::<Single>();
            let inner = Arc::downgrade(&self.inner);
            std::thread::Builder::new()
                .name("embed-coalesce".into())
                .spawn(move || coalesce(&inner, &rx))
                .map(|_| ())
                .unwrap_or_else(|err| tracing::warn!(event = "embed_thread_failed", error = %err));
            tx
        });
        if sender.send((text, reply)).is_err() {
            return Err(EmbedError::Worker(
                "the embedding thread is gone".to_owned(),
            ));
        }
        answer
            .await
            .map_err(|_| EmbedError::Worker("the embedding thread dropped a request".to_owned()))?
    }
}

/// Cuts `order` (indices into `lengths`, the texts' token counts, longest first) into runs of
/// at most `rows` texts and `tokens` padded tokens (each run is padded to its first, longest
/// text).
fn token_batches<'a>(
    order: &'a [usize],
    lengths: &[usize],
    rows: usize,
    tokens: usize,
) -> Vec<&'a [usize]> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let longest = lengths.get(order[start]).copied().unwrap_or(1).max(1);
        let fit = (tokens / longest).clamp(1, rows.max(1));
        let end = (start + fit).min(order.len());
        batches.push(&order[start..end]);
        start = end;
    }
    batches
}

/// The coalescing thread: runs until the model is dropped (its sender goes with it).
fn coalesce(inner: &std::sync::Weak<Inner>, requests: &std_mpsc::Receiver<Single>) {
    while let Ok(first) = requests.recv() {
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let most = inner.config.batch_size.max(1) * inner.sessions.len();
        let mut waiting = vec![first];
        while waiting.len() < most {
            match requests.try_recv() {
                Ok(request) => waiting.push(request),
                Err(_) => break,
            }
        }
        let (texts, replies): (Vec<String>, Vec<_>) = waiting.into_iter().unzip();
        match inner.embed(&texts) {
            Ok(vectors) => {
                for (reply, vector) in replies.into_iter().zip(vectors) {
                    let _ = reply.send(Ok(vector));
                }
            }
            Err(err) => {
                let message = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(EmbedError::Inference(message.clone())));
                }
            }
        }
    }
}

impl Inner {
    /// Embeds `texts`, at least one run per session when there are enough texts (a call of
    /// three short texts uses both cores, not one run of three).
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let share = texts.len().div_ceil(self.sessions.len().max(1));
        self.embed_in_batches(texts, self.config.batch_size.min(share.max(1)))
    }

    /// Embeds `texts` in model runs of at most `batch_size` texts.
    fn embed_in_batches(
        &self,
        texts: &[String],
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<&str> = texts
            .iter()
            .map(|text| cut_at_char_boundary(text, MAX_TEXT_BYTES))
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|err| EmbedError::Tokenize(err.to_string()))?;

        // Longest first, so each batch pads little; `order[k]` is the input index of the k-th.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].len()));
        let lengths: Vec<usize> = encodings.iter().map(Encoding::len).collect();
        let batches = token_batches(&order, &lengths, batch_size, self.config.batch_tokens);

        let batch_vectors = self.run_batches(&batches, &encodings)?;

        let mut vectors = vec![Vec::new(); texts.len()];
        for (batch, batch_vectors) in batches.iter().zip(batch_vectors) {
            for (&index, vector) in batch.iter().zip(batch_vectors) {
                vectors[index] = vector;
            }
        }
        Ok(vectors)
    }

    /// Runs every batch, spread over the sessions; returns the vectors of each batch in order.
    fn run_batches(
        &self,
        batches: &[&[usize]],
        encodings: &[Encoding],
    ) -> Result<Vec<Vec<Vec<f32>>>, EmbedError> {
        let workers = self.sessions.len().min(batches.len());
        if workers <= 1 {
            // a small call (one lead's text) takes a free session, so concurrent jobs use every
            // core instead of queueing on the first session
            let mut session = self
                .sessions
                .iter()
                .find_map(|s| s.try_lock().ok())
                .unwrap_or_else(|| {
                    let turn = self.next_session.fetch_add(1, Ordering::Relaxed);
                    lock(&self.sessions[turn % self.sessions.len()])
                });
            return batches
                .iter()
                .map(|batch| self.run_batch(&mut session, batch, encodings))
                .collect();
        }

        // Each worker takes the next batch not yet taken, so a slow batch does not hold the others.
        let next_batch = AtomicUsize::new(0);
        let worker = |session: &Mutex<Session>| -> Result<Vec<NumberedBatch>, EmbedError> {
            let mut session = lock(session);
            let mut done = Vec::new();
            loop {
                let index = next_batch.fetch_add(1, Ordering::Relaxed);
                let Some(batch) = batches.get(index) else {
                    return Ok(done);
                };
                done.push((index, self.run_batch(&mut session, batch, encodings)?));
            }
        };
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = self.sessions[..workers]
                .iter()
                .map(|session| scope.spawn(|| worker(session)))
                .collect();
            handles.into_iter().map(|handle| handle.join()).collect()
        });

        let mut by_batch = vec![Vec::new(); batches.len()];
        for result in results {
            let done = result
                .map_err(|_| EmbedError::Worker("embedding thread panicked".to_owned()))??;
            for (index, vectors) in done {
                by_batch[index] = vectors;
            }
        }
        Ok(by_batch)
    }

    /// One model run over the texts `batch` (indices into `encodings`), padded to the longest.
    fn run_batch(
        &self,
        session: &mut Session,
        batch: &[usize],
        encodings: &[Encoding],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows = batch.len();
        let cols = batch
            .iter()
            .map(|&i| encodings[i].len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![self.pad_id; rows * cols];
        let mut mask = vec![0i64; rows * cols];
        let mut types = vec![0i64; rows * cols];
        for (row, &i) in batch.iter().enumerate() {
            let encoding = &encodings[i];
            let start = row * cols;
            for (t, ((&id, &m), &ty)) in encoding
                .get_ids()
                .iter()
                .zip(encoding.get_attention_mask())
                .zip(encoding.get_type_ids())
                .enumerate()
            {
                ids[start + t] = id.into();
                mask[start + t] = m.into();
                types[start + t] = ty.into();
            }
        }

        let shape = [rows, cols];
        let tensor = |data: Vec<i64>| {
            Tensor::from_array((shape, data)).map_err(|err| EmbedError::Inference(err.to_string()))
        };
        let outputs = session
            .run(ort::inputs![
                "input_ids" => tensor(ids)?,
                "attention_mask" => tensor(mask.clone())?,
                "token_type_ids" => tensor(types)?,
            ])
            .map_err(|err| EmbedError::Inference(err.to_string()))?;
        let (output_shape, hidden) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|err| EmbedError::Inference(err.to_string()))?;

        let expected = [rows as i64, cols as i64, LocalMiniLm::DIMENSION as i64];
        if **output_shape != expected {
            return Err(EmbedError::OutputShape {
                shape: output_shape.to_vec(),
                rows,
                cols,
                dimension: LocalMiniLm::DIMENSION,
            });
        }
        Ok(mean_pool_normalised(
            hidden,
            &mask,
            cols,
            LocalMiniLm::DIMENSION,
        ))
    }
}

/// Mean of the token vectors under the attention mask, then scaled to unit length.
/// `hidden` is `[rows, cols, dimension]` and `mask` `[rows, cols]`, both row-major.
/// A row with no unmasked token (impossible with this tokenizer) gives a zero vector.
fn mean_pool_normalised(
    hidden: &[f32],
    mask: &[i64],
    cols: usize,
    dimension: usize,
) -> Vec<Vec<f32>> {
    let rows = mask.len() / cols.max(1);
    (0..rows)
        .map(|row| {
            let mut sum = vec![0f32; dimension];
            let mut count = 0f32;
            for t in 0..cols {
                if mask[row * cols + t] == 0 {
                    continue;
                }
                count += 1.0;
                let token = &hidden[(row * cols + t) * dimension..][..dimension];
                sum.iter_mut().zip(token).for_each(|(s, &h)| *s += h);
            }
            // Same clamps as sentence-transformers (1e-9) and torch's normalize (1e-12).
            let mean: Vec<f32> = sum.iter().map(|s| s / count.max(1e-9)).collect();
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            mean.iter().map(|v| v / norm).collect()
        })
        .collect()
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a char boundary.
fn cut_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    &text[..text.floor_char_boundary(max_bytes)]
}

/// A session whose previous user panicked is still usable: a run leaves no state behind.
fn lock(session: &Mutex<Session>) -> MutexGuard<'_, Session> {
    session
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_hold_few_long_texts_and_many_short_ones() {
        let lengths = [256, 256, 256, 200, 16, 16, 16, 16, 16, 8];
        let order: Vec<usize> = (0..lengths.len()).collect();
        let runs: Vec<usize> = token_batches(&order, &lengths, 4, 512)
            .iter()
            .map(|r| r.len())
            .collect();
        assert_eq!(runs, vec![2, 2, 4, 2]);
        // a text longer than the budget runs alone; nothing is lost
        let runs = token_batches(&[0, 1], &[900, 10], 8, 512);
        assert_eq!(runs, vec![&[0][..], &[1][..]]);
        assert!(token_batches(&[], &[], 8, 512).is_empty());
    }

    #[test]
    fn mean_pool_ignores_padding_and_normalises() {
        // two rows of 3 tokens, dimension 2; the second row has one padding token
        let hidden = [
            1.0, 0.0, 3.0, 0.0, 9.0, 9.0, 0.0, 2.0, 0.0, 4.0, 100.0, 100.0,
        ];
        let mask = [1, 1, 1, 1, 1, 0];
        let vectors = mean_pool_normalised(&hidden, &mask, 3, 2);
        let expected_first = {
            let (x, y) = (13.0f32 / 3.0, 9.0f32 / 3.0);
            let n = (x * x + y * y).sqrt();
            [x / n, y / n]
        };
        assert!((vectors[0][0] - expected_first[0]).abs() < 1e-6);
        assert!((vectors[0][1] - expected_first[1]).abs() < 1e-6);
        assert_eq!(vectors[1], vec![0.0, 1.0]);
    }

    #[test]
    fn mean_pool_of_fully_masked_row_is_zero_not_nan() {
        let vectors = mean_pool_normalised(&[1.0, 2.0], &[0], 1, 2);
        assert_eq!(vectors, vec![vec![0.0, 0.0]]);
    }

    #[test]
    fn cut_keeps_whole_chars() {
        assert_eq!(cut_at_char_boundary("héllo", 2), "h");
        assert_eq!(cut_at_char_boundary("héllo", 3), "hé");
        assert_eq!(cut_at_char_boundary("short", 100), "short");
        assert_eq!(cut_at_char_boundary("€", 2), "");
    }
}
