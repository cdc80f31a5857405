//! Local models: the one process-wide ONNX Runtime environment, the verified model cache, the
//! [`Embedder`] trait every embedding model implements, and the local all-MiniLM-L6-v2 embedder.
//!
//! `setup` fetches missing model files with the project's own fetch scripts (compiled in).
//!
//! Owns: loading model files and running them off the async threads. Must not know: tenants,
//! providers, chunking, stores or queues. Both `knowledge` and `privacy` build on it.

mod embed;
mod minilm;
mod model_cache;
pub mod onnx_runtime;
pub mod setup;

pub use self::embed::{EmbedError, Embedder};
pub use self::minilm::{LocalMiniLm, LocalMiniLmConfig};
pub use self::model_cache::{ModelCache, ModelFiles};
