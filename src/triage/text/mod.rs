//! What the text of a lead says, in pure functions (no tenants, queues, models or providers):
//! cleaning (quoted chains, signatures, HTML), language, sentiment and urgency, the summary, and
//! extraction of contact and deal fields; [`analyze_lead`] runs them on one lead, in that order
//! (each step reads the cleaned body).

pub mod clean;
pub mod extract;
pub mod sentiment;
pub mod summary;

use serde::Serialize;

use self::clean::{Cleaned, clean};
use self::extract::{ExtractInput, Extracted, extract};
use self::sentiment::{Sentiment, Urgency, sentiment, urgency};
use self::summary::summarize;
use crate::contract::job::Lead;
use crate::privacy::redact::Redactor;
use crate::text::language::{Language, detect as detect_language};

/// Everything the text engine says about one lead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextAnalysis {
    pub cleaned: Cleaned,
    pub language: Language,
    pub sentiment: Sentiment,
    pub urgency: Urgency,
    pub summary: String,
    pub extracted: Extracted,
}

/// Runs the whole text engine on a lead (`payload.lead` of `lead.process`).
pub fn analyze_lead(lead: &Lead, contacts: &Redactor) -> TextAnalysis {
    let subject = lead.subject.as_deref().filter(|s| !s.trim().is_empty());
    let cleaned = clean(&lead.body);
    // the subject is short but often the clearest sentence; it helps a short body
    let for_language = match subject {
        Some(s) => format!("{s}\n{}", cleaned.body),
        None => cleaned.body.clone(),
    };
    let language = detect_language(&for_language);
    let sentiment = sentiment(&cleaned.body, &language.code);
    let urgency = urgency(&cleaned.body, subject);
    let summary = summarize(&cleaned.body, subject);
    let extracted = extract(
        contacts,
        &ExtractInput {
            body: &cleaned.body,
            signature: cleaned.signature.as_deref(),
            subject,
            contact: lead.contact.as_ref(),
            fields: lead.fields.as_ref(),
            language: &language.code,
        },
    );
    TextAnalysis {
        cleaned,
        language,
        sentiment,
        urgency,
        summary,
        extracted,
    }
}
