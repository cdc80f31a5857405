//! The [`Embedder`] contract and its errors. Implementations: `super::LocalMiniLm` (in-process
//! ONNX, the default, no service or key) and `privacy::gate::GatedEmbedder` (OpenAI-compatible,
//! only through the privacy gate).

use std::path::PathBuf;

use async_trait::async_trait;

/// A model that turns texts into vectors of a fixed dimension.
///
/// Contract for every implementation:
/// - one vector per input text, in input order, each of [`Embedder::dimension`] values;
/// - an empty input gives an empty output, without touching the model;
/// - any string is valid input (empty, whitespace, very long, any Unicode): bad input never
///   panics, too-long input is truncated the way the model was trained;
/// - `embed` never blocks the async runtime: CPU-bound work runs off the async threads.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// Identifies the model and its preprocessing; vectors of different ids never mix.
    fn model_id(&self) -> &str;

    /// Number of values in every vector.
    fn dimension(&self) -> usize;

    /// How many texts a caller should hand over per call for good throughput.
    fn batch_size(&self) -> usize {
        32
    }

    /// Embeds `texts`, one vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Why embedding failed, and how a job treats it.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model files are not in the cache (or fail their check): a setup problem, not a
    /// job problem. The worker refuses to start the local embedder until it is fixed.
    #[error("model files missing or unreadable in {dir}: {missing}; run scripts/fetch-models.sh")]
    ModelMissing { dir: PathBuf, missing: String },

    /// libonnxruntime could not be loaded or initialised (wrong version, missing file):
    /// a setup problem, like `ModelMissing`.
    #[error("cannot load onnxruntime from {path}: {message}")]
    Runtime { path: PathBuf, message: String },

    /// The ONNX model or tokenizer file exists but could not be loaded: a setup problem.
    #[error("cannot load {path}: {message}")]
    ModelLoad { path: PathBuf, message: String },

    /// Tokenizing a text failed. Not expected for any `String`; the job fails the batch.
    #[error("tokenization failed: {0}")]
    Tokenize(String),

    /// The model run failed (e.g. out of memory). The job may retry the batch.
    #[error("inference failed: {0}")]
    Inference(String),

    /// The model returned something that is not `[batch, tokens, dimension]`: the model file
    /// is not the one this code was written for. A setup problem.
    #[error("unexpected model output shape {shape:?}, expected [{rows}, {cols}, {dimension}]")]
    OutputShape {
        shape: Vec<i64>,
        rows: usize,
        cols: usize,
        dimension: usize,
    },

    /// An external provider (through the privacy gate) refused or failed. `retryable` when a
    /// later attempt can succeed (rate limits, 5xx, timeouts).
    #[error("embedding provider: {message}")]
    Provider { retryable: bool, message: String },

    /// The blocking worker thread died (a panic in native code or a cancelled task). The job
    /// may retry the batch.
    #[error("embedding worker failed: {0}")]
    Worker(String),
}

impl EmbedError {
    /// Whether retrying the same call later can succeed; otherwise the setup must change first.
    pub fn is_retryable(&self) -> bool {
        match self {
            EmbedError::Inference(_) | EmbedError::Worker(_) => true,
            EmbedError::Provider { retryable, .. } => *retryable,
            EmbedError::ModelMissing { .. }
            | EmbedError::Runtime { .. }
            | EmbedError::ModelLoad { .. }
            | EmbedError::Tokenize(_)
            | EmbedError::OutputShape { .. } => false,
        }
    }
}
