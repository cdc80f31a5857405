//! Triage of a lead's text: the local, deterministic, no-network engine. Cleaning first
//! ([`clean`]), then language, sentiment and urgency, a one-line summary and field extraction.
//!
//! Owns: what the text of a lead says. Must not know: tenants, queues, providers or storage.
//! Every function here is pure, never panics on any input and never logs content.

pub mod clean;
pub mod extract;
pub mod language;
pub mod sentiment;
pub mod summary;
pub mod text;

pub use self::clean::{Cleaned, clean};
pub use self::extract::{Budget, ExtractInput, Extracted, Field, Source, extract};
pub use self::language::{Language, detect_language, detect_language_among};
pub use self::sentiment::{Polarity, Sentiment, Urgency, UrgencyLevel, sentiment, urgency};
pub use self::summary::summarize;
pub use self::text::{TextAnalysis, analyze_lead};
