//! Lead triage: what a lead is about and whether it is worth a human's time.
//!
//! - `classify`: the tenant's category, with calibrated confidence and `needs_human`.
//! - `spam`: spam and bot-form detection (heuristic signals plus a learned part).
//! - `linear`, `lexical`: the shared learning pieces (logistic regression, TF-IDF n-grams).

pub mod classify;
pub mod lexical;
pub mod linear;
pub mod spam;

pub use self::classify::{CategoryConfig, CategoryModel, Example, Prediction, Scored, TrainError};
pub use self::spam::{SpamDetector, SpamInput, SpamVerdict};
