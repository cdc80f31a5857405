//! Summary: one short line a busy salesperson can read, extracted from the lead's own words (so
//! in its language). Give it the cleaned body (see [`super::clean`]): the signature and quoted
//! chain are gone then; greetings, closings and pleasantries are never chosen here either.
//!
//! Sentences come from [`split_sentences`] (lines and paragraphs, terminal punctuation, common
//! abbreviations in the seven languages kept whole). Each candidate is scored on position,
//! content-word centrality (words it shares with the rest of the message and the subject), a
//! question or request cue, and a length factor; the best one is trimmed at a word boundary to
//! [`MAX_SUMMARY_CHARS`] with an ellipsis.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::text::sentences::{self, NextWord};

/// Longest summary, in characters, ellipsis included.
pub const MAX_SUMMARY_CHARS: usize = 160;

/// One line summarising `body`; the subject helps score and stands in for an empty body.
/// Empty when both are empty.
pub fn summarize(body: &str, subject: Option<&str>) -> String {
    let sentences = split_sentences(body);
    let candidates: Vec<String> = sentences
        .iter()
        .filter_map(|s| strip_form_label(s))
        .map(|s| strip_greeting_prefix(&s))
        .filter(|s| !is_filler(s))
        .collect();
    let subject = subject.map(str::trim).filter(|s| !s.is_empty());
    let chosen = best_sentence(&candidates, subject)
        .or_else(|| subject.map(str::to_string))
        .unwrap_or_default();
    truncate(&collapse_ws(&chosen), MAX_SUMMARY_CHARS)
}

/// The candidate with the highest score, if any.
fn best_sentence(candidates: &[String], subject: Option<&str>) -> Option<String> {
    if candidates.is_empty() {
        return None;
    }
    let words: Vec<Vec<String>> = candidates.iter().map(|s| content_words(s)).collect();
    let subject_words = subject.map(content_words).unwrap_or_default();
    let mut freq: HashMap<&str, u32> = HashMap::new();
    for sentence in &words {
        let mut seen: Vec<&str> = sentence.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *freq.entry(w).or_default() += 1;
        }
    }
    for w in &subject_words {
        *freq.entry(w.as_str()).or_default() += 1;
    }
    let centrality: Vec<f64> = words
        .iter()
        .map(|ws| {
            let shared: f64 = ws
                .iter()
                .map(|w| {
                    f64::from(
                        freq.get(w.as_str())
                            .copied()
                            .unwrap_or(1)
                            .saturating_sub(1)
                            .min(3),
                    )
                })
                .sum();
            shared / ((ws.len() + 1) as f64).sqrt()
        })
        .collect();
    let max_centrality = centrality.iter().copied().fold(0.0, f64::max);

    let mut best: Option<(f64, usize)> = None;
    for (i, sentence) in candidates.iter().enumerate() {
        let n_words = sentence.split_whitespace().count();
        let position = 1.0 / (1.0 + 0.5 * i as f64);
        let central = if max_centrality > 0.0 {
            centrality[i] / max_centrality
        } else {
            0.0
        };
        let cue = if REQUEST_CUE.is_match(&sentence.to_lowercase()) || sentence.contains('?') {
            1.0
        } else {
            0.0
        };
        let subject_overlap = if subject_words.is_empty() {
            0.0
        } else {
            let hits = subject_words
                .iter()
                .filter(|w| words[i].contains(w))
                .count();
            hits as f64 / subject_words.len() as f64
        };
        let length = match n_words {
            0..=2 => 0.2,
            3..=5 => 0.6,
            6..=30 => 1.0,
            31..=45 => 0.8,
            _ => 0.6,
        };
        let score = (0.35 * position + 0.3 * central + 0.25 * cue + 0.2 * subject_overlap) * length;
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, i));
        }
    }
    best.map(|(_, i)| candidates[i].clone())
}

/// Splits a lead into sentences: blank lines and short lines end one, and inside a line the
/// shared splitter cuts where a capitalised word follows (`text::sentences`).
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut segments: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                segments.push(std::mem::take(&mut current));
            }
            continue;
        }
        let starts_item = BULLET.is_match(line);
        if starts_item && !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(BULLET.replace(line, "").trim());
        // a short line (greeting, list entry, form field) or one ending a sentence stands alone
        let ends = line.ends_with(['.', '!', '?', ':', '…']);
        if line.chars().count() < 45 || ends {
            segments.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
        .iter()
        .flat_map(|s| sentences::split(s, NextWord::Capitalised))
        .filter(|s| s.chars().any(char::is_alphanumeric))
        .map(str::to_string)
        .collect()
}

static BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:[-*•·–]|\d{1,2}[.)])\s+").expect("static regex"));

const GREETINGS: &str = r"hi|hello|hey|dear|good morning|good afternoon|good evening|greetings|hallo|guten tag|guten morgen|guten abend|sehr geehrte|sehr geehrter|sehr geehrtes|liebe|lieber|moin|servus|hola|buenos días|buenos dias|buenas tardes|buenas noches|estimado|estimada|estimados|querido|querida|bonjour|bonsoir|salut|madame|monsieur|cher|chère|chers|hoi|beste|geachte|goedemorgen|goedemiddag|goedenavond|ciao|buongiorno|buonasera|salve|gentile|gentili|egregio|egregia|caro|cara|olá|ola|bom dia|boa tarde|boa noite|prezado|prezada|prezados";

/// A greeting with what follows it up to its comma ("Hi team,", "Sehr geehrte Damen und
/// Herren,").
static GREETING_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)^(?:{GREETINGS})\b[^,.!:?]{{0,25}}[,!:]\s*")).expect("static regex")
});
static GREETING_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)^(?:{GREETINGS})\b[^.!?,]{{0,40}}[,.!:]?$")).expect("static regex")
});
static FILLER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:i hope (?:this|you|all)|hope (?:you|this|all)|ich hoffe,? (?:es geht|sie|ihr|du)|espero que (?:est[ée]s?|se encuentre|te encuentres)|j'esp[èe]re que (?:vous|tu)|ik hoop dat (?:het|u|je|jullie)|spero che (?:tu|lei|stia|stiate)|espero que (?:esteja|você|voce|estejam)|(?:thanks|thank you|many thanks|thanks again|thx|danke|vielen dank|besten dank|gracias|muchas gracias|merci|merci beaucoup|bedankt|dank u|dank je|grazie|obrigad[oa]|muito obrigad[oa])\b[^?]{0,40}$|(?:best|kind|warm)? ?regards\b|mit freundlichen|saludos|cordialement|met vriendelijke|cordiali saluti|atenciosamente)")
        .expect("static regex")
});
static REQUEST_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:could you|can you|would you|would like|we need|i need|we want|i want|looking for|interested in|please|quote|pricing|price|demo|trial|help|problem|issue|error|invoice|refund|könnten sie|können sie|ich möchte|wir möchten|wir brauchen|ich brauche|bitte|suchen|interessiert|angebot|preis|problem|fehler|rechnung|podrían|podría|puede|quisiera|me gustaría|necesito|necesitamos|por favor|buscamos|interesad[oa]|cotización|presupuesto|precio|factura|pourriez|pouvez|je voudrais|nous souhaitons|j'aimerais|besoin|s'il vous plaît|devis|tarif|prix|facture|kunt u|kunnen jullie|ik wil|wij willen|we willen|graag|offerte|prijs|nodig|factuur|potreste|potete|vorrei|vorremmo|abbiamo bisogno|per favore|preventivo|prezzo|fattura|poderiam|podem|gostaria|precisamos|preciso|orçamento|preço|fatura)\b")
        .expect("static regex")
});

/// Drops leading greetings ("Hi, we are …" becomes "We are …"; "Hola, buenas tardes." goes).
fn strip_greeting_prefix(sentence: &str) -> String {
    let mut s = sentence.trim().to_string();
    for _ in 0..3 {
        if GREETING_ONLY.is_match(&s) {
            return String::new();
        }
        let rest = GREETING_PREFIX.replace(&s, "").into_owned();
        if rest.len() == s.len() {
            return s;
        }
        let mut chars = rest.chars();
        s = match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => return String::new(),
        };
    }
    s
}

static FORM_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\p{L}[\p{L} _-]{1,24}):\s+(.+)$").expect("static regex"));

/// Labels of the free-text field of a form: what follows them is the message.
const MESSAGE_LABELS: &[&str] = &[
    "message",
    "your message",
    "comments",
    "comment",
    "details",
    "inquiry",
    "enquiry",
    "request",
    "nachricht",
    "ihre nachricht",
    "mitteilung",
    "kommentar",
    "anfrage",
    "mensaje",
    "su mensaje",
    "tu mensaje",
    "comentarios",
    "consulta",
    "commentaire",
    "votre message",
    "demande",
    "bericht",
    "uw bericht",
    "vraag",
    "opmerking",
    "messaggio",
    "il tuo messaggio",
    "richiesta",
    "mensagem",
    "sua mensagem",
    "pedido",
];

/// Labels of contact and detail fields of a form: such a line is not the message.
const FIELD_LABELS: &[&str] = &[
    "name",
    "full name",
    "first name",
    "last name",
    "email",
    "e-mail",
    "phone",
    "telephone",
    "mobile",
    "company",
    "website",
    "subject",
    "budget",
    "country",
    "city",
    "vorname",
    "nachname",
    "telefon",
    "handy",
    "firma",
    "unternehmen",
    "webseite",
    "betreff",
    "land",
    "stadt",
    "nombre",
    "apellido",
    "apellidos",
    "correo",
    "teléfono",
    "telefono",
    "móvil",
    "empresa",
    "asunto",
    "presupuesto",
    "país",
    "ciudad",
    "nom",
    "prénom",
    "courriel",
    "téléphone",
    "entreprise",
    "société",
    "objet",
    "pays",
    "ville",
    "naam",
    "voornaam",
    "achternaam",
    "telefoon",
    "bedrijf",
    "onderwerp",
    "plaats",
    "nome",
    "cognome",
    "azienda",
    "oggetto",
    "città",
    "paese",
    "sobrenome",
    "telefone",
    "telemóvel",
    "assunto",
    "orçamento",
    "cidade",
];

/// A form line: "Mensaje: Hola, …" becomes "Hola, …"; "Nombre: Lucía" goes.
fn strip_form_label(sentence: &str) -> Option<String> {
    if let Some(c) = FORM_LABEL.captures(sentence.trim()) {
        let label = c[1].trim().to_lowercase();
        if MESSAGE_LABELS.contains(&label.as_str()) {
            return Some(c[2].to_string());
        }
        if FIELD_LABELS.contains(&label.as_str()) {
            return None;
        }
    }
    Some(sentence.to_string())
}

fn is_filler(sentence: &str) -> bool {
    let s = sentence.trim();
    s.split_whitespace().count() < 2 || FILLER.is_match(s)
}

/// Lower-case words of three letters or more that are not function words.
fn content_words(text: &str) -> Vec<String> {
    crate::text::language::word_tokens(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !crate::text::language::is_function_word(w))
        .collect()
}

fn collapse_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` to at most `max` characters at a word boundary, with an ellipsis.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let limit = max.saturating_sub(1);
    let cut: String = text.chars().take(limit).collect();
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(p) if p > limit / 2 => &cut[..p],
        _ => cut.as_str(),
    };
    let trimmed = at_word.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–(".contains(c));
    format!("{trimmed}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_do_not_split() {
        let s = split_sentences("Wir brauchen z.B. 20 Lizenzen. Dr. Meier ruft an. Gut!");
        assert_eq!(
            s,
            vec![
                "Wir brauchen z.B. 20 Lizenzen.",
                "Dr. Meier ruft an.",
                "Gut!"
            ]
        );
    }

    #[test]
    fn greeting_never_chosen() {
        let s = summarize(
            "Hi team,\n\nWe would like a quote for 20 seats.\n\nThanks!",
            None,
        );
        assert_eq!(s, "We would like a quote for 20 seats.");
    }

    #[test]
    fn truncates_at_word() {
        let long = "word ".repeat(100);
        let t = truncate(long.trim(), 20);
        assert!(t.chars().count() <= 20);
        assert!(t.ends_with('…'));
    }
}
