//! What triage learns from a tenant's settings: the category classifier (`classify`) and the spam
//! detector (`spam`), on the shared pieces `linear` (L-BFGS logistic regression with offsets,
//! temperature fitting) and `lexical` (hashed TF-IDF word and character n-grams).
//!
//! Owns: training and scoring, deterministic for the same settings. Must not know: where the
//! embeddings come from (an `Embedder` is handed in), queues, stores or providers.

pub mod classify;
pub(crate) mod lexical;
pub(crate) mod linear;
pub mod spam;
