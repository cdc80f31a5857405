//! The local engine's reply suggestion: a reply composed only of sentences taken from the
//! retrieved knowledge passages (each cited), between a greeting by name and a closing in the
//! customer's language. Nothing else is asserted: when no passage is relevant enough, the reply
//! is a holding message and `needs_human` says why.

use std::collections::HashSet;

use serde::Serialize;

use crate::knowledge::store::SearchHit;
use crate::text::sentences::{self, NextWord};

/// One citation of the reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    pub url: String,
    pub title: Option<String>,
    pub chunk_id: String,
}

/// The `reply` object of a result, plus the routing flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub text: String,
    pub citations: Vec<Citation>,
    pub language: String,
    #[serde(skip)]
    pub needs_human: bool,
    #[serde(skip)]
    pub reasons: Vec<String>,
}

/// Dense similarity of the best passage below which nothing counts as an answer.
pub const MIN_RELEVANCE: f32 = 0.35;
/// Sentences taken into the reply at most.
const MAX_SENTENCES: usize = 3;

struct Phrases {
    greeting: &'static str,
    greeting_anonymous: &'static str,
    intro: &'static str,
    sources: &'static str,
    closing: &'static str,
    holding: &'static str,
}

fn phrases(language: &str) -> Phrases {
    match language {
        "de" => Phrases {
            greeting: "Hallo {name},",
            greeting_anonymous: "Hallo,",
            intro: "danke für Ihre Nachricht. Dazu steht in unserer Hilfe:",
            sources: "Quellen:",
            closing: "Viele Grüße",
            holding: "danke für Ihre Nachricht. Ein Kollege meldet sich in Kürze persönlich bei Ihnen.",
        },
        "es" => Phrases {
            greeting: "Hola {name}:",
            greeting_anonymous: "Hola:",
            intro: "gracias por su mensaje. Nuestra ayuda dice lo siguiente:",
            sources: "Fuentes:",
            closing: "Saludos cordiales",
            holding: "gracias por su mensaje. Un compañero le responderá personalmente en breve.",
        },
        "fr" => Phrases {
            greeting: "Bonjour {name},",
            greeting_anonymous: "Bonjour,",
            intro: "merci pour votre message. Voici ce qu'indique notre aide :",
            sources: "Sources :",
            closing: "Cordialement",
            holding: "merci pour votre message. Un collègue vous répondra personnellement très bientôt.",
        },
        "nl" => Phrases {
            greeting: "Hallo {name},",
            greeting_anonymous: "Hallo,",
            intro: "bedankt voor uw bericht. Dit staat in onze helpcentrum:",
            sources: "Bronnen:",
            closing: "Met vriendelijke groet",
            holding: "bedankt voor uw bericht. Een collega neemt binnenkort persoonlijk contact met u op.",
        },
        "it" => Phrases {
            greeting: "Ciao {name},",
            greeting_anonymous: "Buongiorno,",
            intro: "grazie per il messaggio. Ecco cosa dice la nostra guida:",
            sources: "Fonti:",
            closing: "Cordiali saluti",
            holding: "grazie per il messaggio. Un collega le risponderà personalmente a breve.",
        },
        "pt" => Phrases {
            greeting: "Olá {name},",
            greeting_anonymous: "Olá,",
            intro: "obrigado pela sua mensagem. A nossa ajuda diz o seguinte:",
            sources: "Fontes:",
            closing: "Com os melhores cumprimentos",
            holding: "obrigado pela sua mensagem. Um colega responderá pessoalmente em breve.",
        },
        _ => Phrases {
            greeting: "Hi {name},",
            greeting_anonymous: "Hi,",
            intro: "thanks for your message. Here is what our help center says:",
            sources: "Sources:",
            closing: "Best regards",
            holding: "thanks for your message. A colleague will get back to you personally shortly.",
        },
    }
}

/// Composes a reply from ranked passages. `best_dense` is the dense similarity of the best
/// passage to the question (the relevance gate); `name` greets the sender when known.
pub fn compose(
    question: &str,
    hits: &[SearchHit],
    best_dense: f32,
    name: Option<&str>,
    language: &str,
) -> Reply {
    let words = |language: &str| phrases(language);
    let p = words(language);
    let first_name = name
        .and_then(|n| n.split_whitespace().next())
        .filter(|n| n.chars().any(char::is_alphabetic));
    let greeting = match first_name {
        Some(n) => p.greeting.replace("{name}", n),
        None => p.greeting_anonymous.to_owned(),
    };
    let mut reasons = Vec::new();
    let question_terms = terms(question);
    let mut picked: Vec<(String, usize)> = Vec::new();
    let mut citations: Vec<Citation> = Vec::new();
    if hits.is_empty() {
        reasons.push("no knowledge passage found for the question".to_owned());
    } else if best_dense < MIN_RELEVANCE {
        reasons.push(format!(
            "best knowledge passage is not relevant enough (similarity {best_dense:.2} < {MIN_RELEVANCE})"
        ));
    } else {
        // Passages in the customer's language first, keeping rank order otherwise.
        let mut ordered: Vec<&SearchHit> = hits.iter().take(5).collect();
        ordered.sort_by_key(|h| h.payload.language.as_deref() != Some(language));
        let mut candidates: Vec<(f32, usize, String, usize)> = Vec::new();
        for (rank, hit) in ordered.iter().enumerate() {
            for (position, sentence) in sentences(&hit.payload.text).into_iter().enumerate() {
                let overlap = terms(&sentence).intersection(&question_terms).count();
                if overlap == 0 || sentence.chars().count() < 25 {
                    continue;
                }
                let score = overlap as f32 / (1.0 + rank as f32 * 0.5 + position as f32 * 0.1);
                candidates.push((score, rank, sentence, position));
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, rank, sentence, _) in candidates.into_iter().take(MAX_SENTENCES) {
            let hit = ordered[rank];
            let index = match citations.iter().position(|c| c.chunk_id == hit.chunk_id) {
                Some(i) => i,
                None => {
                    citations.push(Citation {
                        url: hit.payload.url.clone(),
                        title: hit.payload.title.clone(),
                        chunk_id: hit.chunk_id.clone(),
                    });
                    citations.len() - 1
                }
            };
            picked.push((sentence, index + 1));
        }
        if picked.is_empty() {
            reasons.push("no sentence of the retrieved passages answers the question".to_owned());
        }
    }
    let needs_human = picked.is_empty();
    let text = if needs_human {
        citations.clear();
        format!("{greeting}\n\n{}\n\n{}", p.holding, p.closing)
    } else {
        let body: Vec<String> = picked.iter().map(|(s, i)| format!("- {s} [{i}]")).collect();
        let sources: Vec<String> = citations
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "[{}] {}{}",
                    i + 1,
                    c.title
                        .as_deref()
                        .map(|t| format!("{t}: "))
                        .unwrap_or_default(),
                    c.url
                )
            })
            .collect();
        format!(
            "{greeting}\n\n{}\n{}\n\n{}\n\n{}\n{}",
            p.intro,
            body.join("\n"),
            p.closing,
            p.sources,
            sources.join("\n")
        )
    };
    Reply {
        text,
        citations,
        language: language.to_owned(),
        needs_human,
        reasons,
    }
}

/// Content words of a text: lowercase alphanumeric runs of 3+ characters, without the most
/// common function words of the supported languages, crudely stemmed (plural `s`).
fn terms(text: &str) -> HashSet<String> {
    const STOP: &[&str] = &[
        "the", "and", "for", "you", "your", "are", "can", "how", "what", "with", "this", "that",
        "from", "our", "have", "has", "not", "but", "all", "any", "was", "will", "would", "could",
        "does", "did", "there", "their", "about", "into", "when", "which", "who", "why", "where",
        "der", "die", "das", "und", "ist", "ich", "wie", "kann", "mit", "den", "ein", "eine",
        "los", "las", "que", "por", "para", "una", "con", "les", "des", "est", "pour", "une",
        "dans", "het", "een", "van", "voor", "che", "per", "non", "uma", "com", "não", "please",
        "thanks", "thank", "hello", "hi", "hey", "regards",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| {
            if w.len() > 4 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_owned()
            } else {
                w
            }
        })
        .collect()
}

/// Sentences of a passage: its lines (list markers dropped), each cut by the shared splitter.
fn sentences(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.trim().trim_start_matches(['-', '*', '•']).trim())
        .flat_map(|line| sentences::split(line, NextWord::Any))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::store::ChunkPayload;

    fn hit(text: &str, url: &str) -> SearchHit {
        SearchHit {
            chunk_id: format!("id-{url}"),
            score: 0.5,
            payload: ChunkPayload {
                tenant_id: "acme".into(),
                source_id: "help".into(),
                url: url.into(),
                title: Some("Export".into()),
                heading_path: vec![],
                text: text.into(),
                token_count: 10,
                chunk_index: 0,
                content_hash: String::new(),
                page_hash: String::new(),
                etag: None,
                last_modified: None,
                sitemap_lastmod: None,
                language: Some("en".into()),
                fetched_at: String::new(),
                pii_tags: vec![],
                training_opt_in: false,
            },
        }
    }

    #[test]
    fn reply_uses_only_passage_sentences_with_citations() {
        let hits = [hit(
            "To export contacts, open Contacts and choose Export CSV. The file arrives by e-mail. Our office dog is called Rex.",
            "https://help/export",
        )];
        let reply = compose(
            "How do I export my contacts?",
            &hits,
            0.7,
            Some("Maria Lopez"),
            "en",
        );
        assert!(!reply.needs_human);
        assert!(reply.text.starts_with("Hi Maria,"));
        assert!(
            reply
                .text
                .contains("open Contacts and choose Export CSV. [1]")
        );
        assert!(!reply.text.contains("Rex"));
        assert_eq!(reply.citations.len(), 1);
    }

    #[test]
    fn irrelevant_knowledge_needs_a_human() {
        let hits = [hit(
            "Pricing plans start at 10 dollars.",
            "https://help/pricing",
        )];
        let reply = compose("Wie exportiere ich Kontakte?", &hits, 0.1, None, "de");
        assert!(reply.needs_human);
        assert!(reply.citations.is_empty());
        assert!(reply.text.starts_with("Hallo,"));
    }
}
