//! Triage: each lead and conversation classified, summarised, mined for contact and deal
//! fields, routed to a team, and answered from the tenant's knowledge. The engines
//! (`engine::LocalEngine`, `openai::OpenAiEngine`) put the steps together.
//!
//! - `classify`: the tenant's category, with calibrated confidence and `needs_human`.
//! - `spam`: spam and bot-form detection (heuristic signals plus a learned part).
//! - `linear`, `lexical`: the shared learning pieces (logistic regression, TF-IDF n-grams).
//! - `route`, `reply`, `prompt`: routing rules, replies from passages, provider prompts.

pub mod classify;
pub mod engine;
pub mod lexical;
pub mod linear;
pub mod openai;
pub mod prompt;
pub mod reply;
pub mod route;
pub mod spam;

pub use self::classify::{CategoryConfig, CategoryModel, Example, Prediction, Scored, TrainError};
pub use self::spam::{SpamDetector, SpamInput, SpamVerdict};
