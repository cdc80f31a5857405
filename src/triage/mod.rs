//! Triage: each lead and conversation classified, summarised, mined for contact and deal
//! fields, routed to a team, and answered from the tenant's knowledge.
//!
//! - `text`: what the text of a lead says (pure functions, no tenants, queues or providers).
//! - `learn`: the tenant's category classifier and the spam detector, with the shared learning
//!   pieces (logistic regression, TF-IDF n-grams).
//! - `engine`: the engines behind one trait (`LocalEngine`, the OpenAI-compatible
//!   `provider::OpenAiEngine`) and the provider prompts.
//! - `route`, `reply`: routing rules, replies composed from retrieved passages.
//! - `grounding`: every answer checked against the lead before it is stored or published.
//!
//! Owns: what a lead means for the tenant. Must not know: queues, the job store or the runtime;
//! providers are reached only through `privacy::gate`.

pub mod engine;
pub mod grounding;
pub mod learn;
pub mod reply;
pub mod route;
pub mod text;

pub use self::learn::classify::{
    CategoryConfig, CategoryModel, Example, Prediction, Scored, TrainError,
};
pub use self::learn::spam::{SpamDetector, SpamInput, SpamVerdict};
pub use self::text::clean::{Cleaned, clean};
pub use self::text::extract::{Budget, ExtractInput, Extracted, Field, Source, extract};
pub use self::text::sentiment::{Polarity, Sentiment, Urgency, UrgencyLevel, sentiment, urgency};
pub use self::text::summary::summarize;
pub use self::text::{TextAnalysis, analyze_lead};
pub use crate::text::language::{
    Language, detect as detect_language, detect_among as detect_language_among,
};
