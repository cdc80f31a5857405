//! The text side of triage in one call: clean, then language, sentiment, urgency, summary and
//! extraction of one lead, in that order (each step reads the cleaned body).

use serde::Serialize;

use super::clean::{Cleaned, clean};
use super::extract::{ExtractInput, Extracted, extract};
use super::language::{Language, detect_language};
use super::sentiment::{Sentiment, Urgency, sentiment, urgency};
use super::summary::summarize;
use crate::job::Lead;

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
pub fn analyze_lead(lead: &Lead) -> TextAnalysis {
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
    let extracted = extract(&ExtractInput {
        body: &cleaned.body,
        signature: cleaned.signature.as_deref(),
        subject,
        contact: lead.contact.as_ref(),
        fields: lead.fields.as_ref(),
        language: &language.code,
    });
    TextAnalysis {
        cleaned,
        language,
        sentiment,
        urgency,
        summary,
        extracted,
    }
}
