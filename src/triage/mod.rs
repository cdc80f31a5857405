//! Triage: each lead and conversation classified, summarised, mined for contact and deal
//! fields, routed to a team, and answered from the tenant's knowledge. The engines
//! (`engine::LocalEngine`, `openai::OpenAiEngine`) put the steps together.
//!
//! - `classify`: the tenant's category, with calibrated confidence and `needs_human`.
//! - `spam`: spam and bot-form detection (heuristic signals plus a learned part).
//! - `linear`, `lexical`: the shared learning pieces (logistic regression, TF-IDF n-grams).
//! - `route`, `reply`, `prompt`: routing rules, replies from passages, provider prompts.
//! - `clean`, `language`, `sentiment`, `summary`, `extract`, `text`: what the text of a lead says
//!   (pure functions, no tenants, queues or providers).

pub mod classify;
pub mod clean;
pub mod engine;
pub mod extract;
pub mod language;
pub mod lexical;
pub mod linear;
pub mod openai;
pub mod prompt;
pub mod reply;
pub mod route;
pub mod sentiment;
pub mod spam;
pub mod summary;
pub mod text;

pub use self::classify::{CategoryConfig, CategoryModel, Example, Prediction, Scored, TrainError};
pub use self::clean::{Cleaned, clean};
pub use self::extract::{Budget, ExtractInput, Extracted, Field, Source, extract};
pub use self::language::{Language, detect_language, detect_language_among};
pub use self::sentiment::{Polarity, Sentiment, Urgency, UrgencyLevel, sentiment, urgency};
pub use self::spam::{SpamDetector, SpamInput, SpamVerdict};
pub use self::summary::summarize;
pub use self::text::{TextAnalysis, analyze_lead};
