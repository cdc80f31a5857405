//! Sentiment and urgency in en, de, es, fr, nl, it, pt from small hand-written lexicons (written
//! for this crate, no third-party word lists).
//!
//! Sentiment: word weights in -3..=3 (a trailing `*` in the lexicon matches a word prefix, for
//! inflections), a negator in the three words before flips and damps a weight, an intensifier
//! right before scales it, emoji and emoticons count as words, "!" amplifies; the sum is
//! squashed to -1..=1 (`x / sqrt(x² + 15)`, as VADER does). Urgency: cue phrases for urgency
//! words, deadlines, outages, "no rush", shouting and exclamation density, each with a reason.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// The direction of a sentiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Negative,
    Neutral,
    Positive,
}

/// Sentiment of a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: Polarity,
    /// -1..=1, two decimals.
    pub score: f32,
}

/// How soon someone should look at a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UrgencyLevel {
    Low,
    Normal,
    High,
}

/// Urgency of a text, with the cues that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Urgency {
    pub level: UrgencyLevel,
    /// Sum of the cue weights (0 without cues; negative for "no rush").
    pub score: f32,
    /// Machine-readable cue names such as `keyword:urgent`, `deadline:today`, `outage`,
    /// `exclamations`, `shouting`, `no_rush`; never the text around them.
    pub reasons: Vec<String>,
}

/// Scores at or beyond this are positive (or, negated, negative).
const POLARITY_THRESHOLD: f64 = 0.15;

/// Sentiment of `text` written in `lang` (ISO 639-1; English cues always apply too, and every
/// lexicon applies when the language is unknown).
pub fn sentiment(text: &str, lang: &str) -> Sentiment {
    let lexicons = lexicons_for(lang);
    let lower = normalize(text);
    let mut total = 0.0f64;

    // phrases first ("not working", "funktioniert nicht"): they would mislead word by word
    let mut rest = lower.clone();
    for (phrase, weight) in PHRASES {
        let mut from = 0;
        while let Some(pos) = find_word(&rest[from..], phrase).map(|p| p + from) {
            total += f64::from(*weight);
            rest.replace_range(pos..pos + phrase.len(), &" ".repeat(phrase.len()));
            from = pos + phrase.len();
        }
    }

    let tokens = tokenize(&rest);
    for (i, token) in tokens.iter().enumerate() {
        let Some(mut weight) = emoji_weight(token).or_else(|| word_weight(token, &lexicons)) else {
            continue;
        };
        let before = &tokens[i.saturating_sub(3)..i];
        if let Some(prev) = tokens.get(i.wrapping_sub(1)).filter(|_| i > 0) {
            if INTENSIFIERS.contains(&prev.as_str()) {
                weight *= 1.5;
            } else if DAMPENERS.contains(&prev.as_str()) {
                weight *= 0.5;
            }
        }
        if is_word(token) && before.iter().any(|w| NEGATORS.contains(&w.as_str())) {
            weight *= -0.6;
        }
        total += f64::from(weight);
    }
    let bangs = text.matches('!').count().min(4) as f64;
    if total != 0.0 {
        total += total.signum() * 0.3 * bangs;
    }
    let score = total / (total * total + 15.0).sqrt();
    let label = if score >= POLARITY_THRESHOLD {
        Polarity::Positive
    } else if score <= -POLARITY_THRESHOLD {
        Polarity::Negative
    } else {
        Polarity::Neutral
    };
    Sentiment {
        label,
        score: round2(score),
    }
}

/// Urgency of a lead: the subject counts as much as the body.
pub fn urgency(text: &str, subject: Option<&str>) -> Urgency {
    let mut all = String::new();
    if let Some(s) = subject {
        all.push_str(s);
        all.push_str(".\n");
    }
    all.push_str(text);
    // "Guten Morgen" greets, it is not a deadline
    let lower = normalize(&all).replace("guten morgen", "guten");
    let mut score = 0.0f32;
    let mut reasons = Vec::new();

    let calm = NO_RUSH.is_match(&lower);
    // "not urgent" must not count as "urgent"
    let without_calm = NO_RUSH.replace_all(&lower, " ");
    if calm {
        score -= 1.0;
        reasons.push("no_rush".to_string());
    }
    if let Some(m) = URGENT_WORD.find(&without_calm) {
        score += 2.0;
        reasons.push(format!("keyword:{}", canonical_urgent(m.as_str())));
    }
    for (re, weight, reason) in DEADLINES.iter() {
        if re.is_match(&without_calm) {
            score += weight;
            reasons.push(format!("deadline:{reason}"));
            break;
        }
    }
    if OUTAGE.is_match(&without_calm) {
        score += 2.0;
        reasons.push("outage".to_string());
    }
    let bangs = all.matches('!').count();
    let sentences = all
        .split(['.', '!', '?', '\n'])
        .filter(|s| !s.trim().is_empty())
        .count()
        .max(1);
    if all.contains("!!") || (bangs >= 3 && bangs * 2 >= sentences) {
        score += 0.5;
        reasons.push("exclamations".to_string());
    }
    let shouted = all
        .split_whitespace()
        .filter(|w| {
            let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
            letters.len() >= 4 && letters.iter().all(|c| c.is_uppercase())
        })
        .count();
    if shouted >= 2 {
        score += 0.5;
        reasons.push("shouting".to_string());
    }
    let level = if score >= 2.0 {
        UrgencyLevel::High
    } else if calm && score < 1.0 {
        UrgencyLevel::Low
    } else {
        UrgencyLevel::Normal
    };
    Urgency {
        level,
        score: (score * 100.0).round() / 100.0,
        reasons,
    }
}

fn round2(x: f64) -> f32 {
    ((x.clamp(-1.0, 1.0) * 100.0).round() / 100.0) as f32
}

/// Lower case, typographic apostrophes as ASCII.
fn normalize(text: &str) -> String {
    text.to_lowercase().replace(['’', '`'], "'")
}

/// Finds `phrase` in `text` at word boundaries.
fn find_word(text: &str, phrase: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = text.get(from..)?.find(phrase) {
        let start = from + p;
        let end = start + phrase.len();
        let ok_before = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let ok_after = text[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if ok_before && ok_after {
            return Some(start);
        }
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Words (letters, digits, apostrophes) and single emoji/emoticons.
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        let after = std::mem::replace(&mut prev, c);
        if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word).trim_end_matches('\'').to_string());
        }
        // an emoticon stands apart: "http://" and "10:30" hold none
        if matches!(c, ':' | ';') && !after.is_alphanumeric() {
            let mut emoticon = String::from(c);
            if chars.peek() == Some(&'-') {
                emoticon.push('-');
                chars.next();
            }
            if let Some(&n) = chars
                .peek()
                .filter(|n| matches!(**n, ')' | '(' | 'd' | 'p' | '/'))
            {
                emoticon.push(n);
                chars.next();
                out.push(emoticon);
            }
        } else if is_emoji(c) {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word.trim_end_matches('\'').to_string());
    }
    out
}

fn is_word(token: &str) -> bool {
    token.chars().next().is_some_and(char::is_alphanumeric)
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF)
}

fn emoji_weight(token: &str) -> Option<f32> {
    let w = match token {
        ":)" | ":-)" | ";)" | ";-)" | ":d" | ":-d" | ":p" => 1.5,
        ":(" | ":-(" | ":/" | ":-/" => -1.5,
        "😀" | "😃" | "😄" | "😁" | "😊" | "🙂" | "😉" | "👍" | "🙏" | "👏" | "💪" | "✅"
        | "🚀" => 1.5,
        "😍" | "🥰" | "❤" | "💙" | "💚" | "🎉" | "🥳" | "😻" | "🤩" => 2.0,
        "😞" | "😟" | "😕" | "🙁" | "☹" | "😒" | "😓" | "😔" | "👎" | "😬" => {
            -1.5
        }
        "😠" | "😡" | "🤬" | "😤" | "😢" | "😭" | "😩" | "😫" | "💩" | "🤯" => {
            -2.0
        }
        _ => return None,
    };
    Some(w)
}

const NEGATORS: &[&str] = &[
    // en
    "not",
    "no",
    "never",
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "wasn't",
    "aren't",
    "won't",
    "can't",
    "cannot",
    "couldn't",
    "shouldn't",
    "wouldn't",
    "nothing",
    "hardly",
    "without",
    // de
    "nicht",
    "kein",
    "keine",
    "keinen",
    "keiner",
    "keinem",
    "nie",
    "niemals",
    "nichts",
    "ohne",
    // es
    "nunca",
    "jamás",
    "ni",
    "nada",
    "sin",
    // fr ("ne … pas": either word negates)
    "ne",
    "pas",
    "jamais",
    "rien",
    "sans",
    "n'est",
    "n'ai",
    "n'a",
    "n'y",
    // nl
    "niet",
    "geen",
    "nooit",
    "niets",
    "zonder",
    // it
    "non",
    "mai",
    "niente",
    "nessun",
    "nessuno",
    "nessuna",
    "senza",
    // pt
    "não",
    "nao",
    "nem",
    "nenhum",
    "nenhuma",
    "sem",
];

const INTENSIFIERS: &[&str] = &[
    "very",
    "really",
    "so",
    "extremely",
    "totally",
    "absolutely",
    "incredibly",
    "super",
    "truly",
    "sehr",
    "wirklich",
    "total",
    "äußerst",
    "extrem",
    "echt",
    "absolut",
    "besonders",
    "muy",
    "realmente",
    "súper",
    "sumamente",
    "totalmente",
    "très",
    "vraiment",
    "trop",
    "tellement",
    "extrêmement",
    "zeer",
    "erg",
    "heel",
    "ontzettend",
    "molto",
    "davvero",
    "veramente",
    "estremamente",
    "troppo",
    "muito",
    "bastante",
    "extremamente",
    "tão",
];

const DAMPENERS: &[&str] = &[
    "slightly",
    "somewhat",
    "bit",
    "little",
    "etwas",
    "bisschen",
    "ziemlich",
    "poco",
    "algo",
    "peu",
    "assez",
    "beetje",
    "enigszins",
    "po'",
    "abbastanza",
    "pouco",
    "meio",
];

/// Multi-word cues, matched before single words.
const PHRASES: &[(&str, f32)] = &[
    ("not working", -2.0),
    ("doesn't work", -2.0),
    ("does not work", -2.0),
    ("stopped working", -2.0),
    ("not happy", -2.0),
    ("not satisfied", -2.0),
    ("waste of money", -3.0),
    ("waste of time", -2.5),
    ("charged twice", -1.5),
    ("would like", 0.0),
    ("i'd like", 0.0),
    ("we'd like", 0.0),
    ("like to", 0.0),
    ("thank you", 1.5),
    ("thanks a lot", 2.0),
    ("looking forward", 1.5),
    ("funktioniert nicht", -2.0),
    ("geht nicht", -1.5),
    ("nicht zufrieden", -2.0),
    ("vielen dank", 1.5),
    ("freue mich", 1.5),
    ("freuen uns", 1.5),
    ("no funciona", -2.0),
    ("no estoy satisfecho", -2.0),
    ("muchas gracias", 1.5),
    ("ne fonctionne pas", -2.0),
    ("ne marche pas", -2.0),
    ("pas satisfait", -2.0),
    ("merci beaucoup", 1.5),
    ("werkt niet", -2.0),
    ("niet tevreden", -2.0),
    ("hartelijk dank", 1.5),
    ("non funziona", -2.0),
    ("non sono soddisfatto", -2.0),
    ("grazie mille", 1.5),
    ("não funciona", -2.0),
    ("nao funciona", -2.0),
    ("não estou satisfeito", -2.0),
    ("muito obrigado", 1.5),
    ("muito obrigada", 1.5),
];

type Lexicon = &'static [(&'static str, f32)];

const EN: Lexicon = &[
    ("good", 1.5),
    ("great", 2.5),
    ("excellent", 3.0),
    ("amazing", 3.0),
    ("awesome", 3.0),
    ("love", 2.5),
    ("loved", 2.5),
    ("like", 1.0),
    ("happy", 2.0),
    ("glad", 1.5),
    ("pleased", 1.5),
    ("thanks", 1.5),
    ("thank", 1.5),
    ("appreciate*", 2.0),
    ("helpful", 2.0),
    ("perfect", 2.5),
    ("fantastic", 3.0),
    ("wonderful", 3.0),
    ("impressed", 2.5),
    ("interested", 1.0),
    ("excited", 2.0),
    ("recommend*", 1.5),
    ("nice", 1.5),
    ("easy", 1.0),
    ("fast", 1.0),
    ("smooth", 1.0),
    ("satisfied", 1.5),
    ("bad", -2.0),
    ("terrible", -3.0),
    ("awful", -3.0),
    ("horrible", -3.0),
    ("worst", -3.0),
    ("hate", -3.0),
    ("angry", -2.5),
    ("annoyed", -2.0),
    ("annoying", -2.0),
    ("frustrat*", -2.5),
    ("disappoint*", -2.5),
    ("unhappy", -2.0),
    ("upset", -2.0),
    ("broken", -2.0),
    ("problem*", -1.0),
    ("issue*", -1.0),
    ("error*", -1.0),
    ("fail*", -1.5),
    ("bug*", -1.0),
    ("slow", -1.5),
    ("crash*", -2.0),
    ("useless", -2.5),
    ("unacceptable", -3.0),
    ("ridiculous", -2.5),
    ("complain*", -2.0),
    ("refund", -1.0),
    ("cancel*", -1.0),
    ("poor", -2.0),
    ("wrong", -1.5),
    ("unfortunately", -1.0),
    ("confus*", -1.0),
    ("stuck", -1.5),
    ("congratulations", 2.0),
    ("congrats", 2.0),
    ("scam", -3.0),
    ("sorry", -0.5),
    ("worried", -1.5),
    ("lost", -1.0),
];

const DE: Lexicon = &[
    ("gut", 1.5),
    ("super", 2.0),
    ("toll", 2.5),
    ("prima", 2.0),
    ("klasse", 2.5),
    ("ausgezeichnet", 3.0),
    ("hervorragend", 3.0),
    ("perfekt", 2.5),
    ("zufrieden", 1.5),
    ("begeistert", 3.0),
    ("freue", 1.5),
    ("froh", 1.5),
    ("danke", 1.5),
    ("dank", 1.0),
    ("hilfreich", 2.0),
    ("schnell", 1.0),
    ("einfach", 1.0),
    ("interessiert", 1.0),
    ("empfehle*", 1.5),
    ("schlecht", -2.0),
    ("schlimm", -2.5),
    ("furchtbar", -3.0),
    ("schrecklich", -3.0),
    ("katastroph*", -3.0),
    ("ärgerlich", -2.0),
    ("verärgert", -2.5),
    ("enttäusch*", -2.5),
    ("unzufrieden", -2.0),
    ("frustrier*", -2.5),
    ("kaputt", -2.0),
    ("fehler*", -1.0),
    ("problem*", -1.0),
    ("langsam", -1.5),
    ("abgestürzt", -2.0),
    ("absturz", -2.0),
    ("nutzlos", -2.5),
    ("inakzeptabel", -3.0),
    ("unverschämt", -3.0),
    ("beschwerde*", -2.0),
    ("leider", -1.0),
    ("falsch", -1.5),
    ("ärger*", -2.0),
    ("mangelhaft", -2.0),
    ("betrug", -3.0),
    ("doppelt", -0.5),
    ("storn*", -1.0),
];

const ES: Lexicon = &[
    ("bueno", 1.5),
    ("buena", 1.5),
    ("bien", 1.0),
    ("genial", 2.5),
    ("excelente", 3.0),
    ("perfecto", 2.5),
    ("encanta", 2.5),
    ("encantado", 2.0),
    ("encantada", 2.0),
    ("feliz", 2.0),
    ("contento", 1.5),
    ("contenta", 1.5),
    ("satisfecho", 1.5),
    ("gracias", 1.5),
    ("agradec*", 1.5),
    ("útil", 2.0),
    ("fantástico", 3.0),
    ("maravilloso", 3.0),
    ("interesado", 1.0),
    ("interesada", 1.0),
    ("rápido", 1.0),
    ("malo", -2.0),
    ("mala", -2.0),
    ("mal", -1.5),
    ("terrible", -3.0),
    ("horrible", -3.0),
    ("pésimo", -3.0),
    ("peor", -2.5),
    ("enfadado", -2.5),
    ("molest*", -2.0),
    ("decepcion*", -2.5),
    ("frustra*", -2.5),
    ("roto", -2.0),
    ("error*", -1.0),
    ("problema*", -1.0),
    ("fallo*", -1.5),
    ("lento", -1.5),
    ("inaceptable", -3.0),
    ("queja*", -2.0),
    ("reclamación", -2.0),
    ("lamentablemente", -1.0),
    ("desafortunadamente", -1.0),
    ("estafa", -3.0),
    ("inútil", -2.5),
    ("cobrado", -0.5),
];

const FR: Lexicon = &[
    ("bon", 1.5),
    ("bonne", 1.5),
    ("bien", 1.0),
    ("super", 2.0),
    ("génial", 2.5),
    ("excellent", 3.0),
    ("parfait", 2.5),
    ("adore", 2.5),
    ("heureux", 2.0),
    ("heureuse", 2.0),
    ("content", 1.5),
    ("contente", 1.5),
    ("satisfait", 1.5),
    ("ravi", 2.0),
    ("ravie", 2.0),
    ("merci", 1.5),
    ("remercie", 1.5),
    ("utile", 2.0),
    ("formidable", 3.0),
    ("intéressé", 1.0),
    ("intéressée", 1.0),
    ("rapide", 1.0),
    ("mauvais", -2.0),
    ("mauvaise", -2.0),
    ("mal", -1.5),
    ("terrible", -3.0),
    ("horrible", -3.0),
    ("pire", -2.5),
    ("nul", -2.5),
    ("fâché", -2.5),
    ("énervé", -2.5),
    ("déçu", -2.5),
    ("déçue", -2.5),
    ("décevant", -2.5),
    ("frustr*", -2.5),
    ("cassé", -2.0),
    ("erreur*", -1.0),
    ("problème*", -1.0),
    ("panne", -2.0),
    ("lent", -1.5),
    ("inacceptable", -3.0),
    ("plainte", -2.0),
    ("malheureusement", -1.0),
    ("arnaque", -3.0),
    ("inutile", -2.5),
];

const NL: Lexicon = &[
    ("goed", 1.5),
    ("geweldig", 3.0),
    ("uitstekend", 3.0),
    ("perfect", 2.5),
    ("top", 2.0),
    ("mooi", 1.5),
    ("blij", 2.0),
    ("tevreden", 1.5),
    ("bedankt", 1.5),
    ("dank", 1.0),
    ("handig", 1.5),
    ("fantastisch", 3.0),
    ("prima", 1.5),
    ("snel", 1.0),
    ("leuk", 1.5),
    ("geïnteresseerd", 1.0),
    ("slecht", -2.0),
    ("vreselijk", -3.0),
    ("verschrikkelijk", -3.0),
    ("boos", -2.5),
    ("teleurgesteld", -2.5),
    ("teleurstellend", -2.5),
    ("gefrustreerd", -2.5),
    ("kapot", -2.0),
    ("fout*", -1.0),
    ("probleem", -1.0),
    ("problemen", -1.0),
    ("storing", -2.0),
    ("traag", -1.5),
    ("onacceptabel", -3.0),
    ("klacht*", -2.0),
    ("helaas", -1.0),
    ("oplichting", -3.0),
    ("nutteloos", -2.5),
];

const IT: Lexicon = &[
    ("buono", 1.5),
    ("buona", 1.5),
    ("bene", 1.0),
    ("ottimo", 2.5),
    ("ottima", 2.5),
    ("eccellente", 3.0),
    ("perfetto", 2.5),
    ("fantastico", 3.0),
    ("adoro", 2.5),
    ("felice", 2.0),
    ("contento", 1.5),
    ("contenta", 1.5),
    ("soddisfatto", 1.5),
    ("soddisfatta", 1.5),
    ("grazie", 1.5),
    ("ringrazio", 1.5),
    ("utile", 2.0),
    ("interessato", 1.0),
    ("interessata", 1.0),
    ("veloce", 1.0),
    ("cattivo", -2.0),
    ("male", -1.5),
    ("terribile", -3.0),
    ("orribile", -3.0),
    ("pessimo", -3.0),
    ("peggio", -2.5),
    ("arrabbiato", -2.5),
    ("arrabbiata", -2.5),
    ("delus*", -2.5),
    ("frustra*", -2.5),
    ("rotto", -2.0),
    ("errore", -1.0),
    ("errori", -1.0),
    ("problema", -1.0),
    ("problemi", -1.0),
    ("guasto", -2.0),
    ("lento", -1.5),
    ("inaccettabile", -3.0),
    ("reclamo", -2.0),
    ("purtroppo", -1.0),
    ("truffa", -3.0),
    ("inutile", -2.5),
];

const PT: Lexicon = &[
    ("bom", 1.5),
    ("boa", 1.5),
    ("bem", 1.0),
    ("ótimo", 2.5),
    ("ótima", 2.5),
    ("excelente", 3.0),
    ("perfeito", 2.5),
    ("adoro", 2.5),
    ("feliz", 2.0),
    ("contente", 1.5),
    ("satisfeito", 1.5),
    ("satisfeita", 1.5),
    ("obrigado", 1.5),
    ("obrigada", 1.5),
    ("agradeço", 1.5),
    ("útil", 2.0),
    ("fantástico", 3.0),
    ("maravilhoso", 3.0),
    ("interessado", 1.0),
    ("interessada", 1.0),
    ("rápido", 1.0),
    ("ruim", -2.0),
    ("mau", -2.0),
    ("má", -2.0),
    ("terrível", -3.0),
    ("horrível", -3.0),
    ("péssimo", -3.0),
    ("pior", -2.5),
    ("irritado", -2.5),
    ("chateado", -2.0),
    ("decepcion*", -2.5),
    ("frustra*", -2.5),
    ("quebrado", -2.0),
    ("erro", -1.0),
    ("erros", -1.0),
    ("problema*", -1.0),
    ("falha*", -1.5),
    ("lento", -1.5),
    ("inaceitável", -3.0),
    ("reclamação", -2.0),
    ("infelizmente", -1.0),
    ("golpe", -3.0),
    ("inútil", -2.5),
];

fn lexicons_for(lang: &str) -> Vec<Lexicon> {
    let own = match lang {
        "en" => None,
        "de" => Some(DE),
        "es" => Some(ES),
        "fr" => Some(FR),
        "nl" => Some(NL),
        "it" => Some(IT),
        "pt" => Some(PT),
        _ => return vec![EN, DE, ES, FR, NL, IT, PT],
    };
    // own language first: its weight wins when a word is in both ("mal", "super")
    own.into_iter().chain([EN]).collect()
}

fn word_weight(word: &str, lexicons: &[Lexicon]) -> Option<f32> {
    for lexicon in lexicons {
        for &(entry, weight) in *lexicon {
            let hit = match entry.strip_suffix('*') {
                Some(prefix) => word.starts_with(prefix),
                None => word == entry,
            };
            if hit {
                return Some(weight);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// urgency cues (matched on lower-cased text; all languages at once, the cues rarely collide)

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

static NO_RUSH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:no rush|no hurry|not urgent|no urgency|whenever (?:you|it) (?:can|suits|is convenient)|when(?:ever)? you have (?:a moment|time)|at your (?:earliest )?convenience|keine eile|nicht dringend|eilt nicht|wenn sie zeit haben|sin prisa|no es urgente|no corre prisa|cuando pueda|pas urgent|rien ne presse|pas pressé|quand vous aurez le temps|geen haast|niet dringend|geen spoed|nessuna fretta|non è urgente|con calma|sem pressa|não é urgente|nao e urgente|quando puder)\b",
    )
});
static URGENT_WORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:urgent|urgently|urgency|asap|a\.s\.a\.p|as soon as possible|emergency|immediately|right away|critical|dringend|dringlich|eilig|eilt|sofort|umgehend|so schnell wie möglich|notfall|urgente|urgentemente|lo antes posible|cuanto antes|inmediatamente|de inmediato|emergencia|urgence|d'urgence|immédiatement|au plus vite|dès que possible|le plus rapidement possible|spoed|zo snel mogelijk|z\.s\.m|onmiddellijk|meteen|il prima possibile|al più presto|subito|immediatamente|urgenza|emergenza|o mais rápido possível|o quanto antes|imediatamente|com urgência|urgência)\b",
    )
});

fn canonical_urgent(m: &str) -> String {
    let m = m.trim_end_matches('.');
    match m {
        "a.s.a.p" | "as soon as possible" => "asap".to_string(),
        other => other.replace(' ', "_"),
    }
}

const WEEKDAYS: &str = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|miércoles|miercoles|jueves|viernes|sábado|domingo|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|segunda|terça|quarta|quinta|sexta";

static DEADLINES: LazyLock<Vec<(Regex, f32, &'static str)>> = LazyLock::new(|| {
    vec![
        (
            re(
                r"\b(?:today|tonight|this morning|this afternoon|end of (?:the )?day|by eod|eod|within (?:the next )?(?:\d+|a few|few|two|24|48) hours?|heute|heute noch|noch heute|heute abend|bis heute|innerhalb von \d+ stunden|hoy|esta tarde|esta mañana|hoy mismo|en las próximas \d+ horas|aujourd'hui|ce soir|ce matin|dans la journée|vandaag|vanavond|vanmiddag|binnen \d+ uur|oggi|stasera|entro stasera|in giornata|entro \d+ ore|hoje|hoje ainda|ainda hoje|esta noite|dentro de \d+ horas)\b",
            ),
            2.0,
            "today",
        ),
        (
            re(r"\b(?:tomorrow|bis morgen|morgen früh|mañana|demain|morgen|domani|amanhã)\b"),
            1.5,
            "tomorrow",
        ),
        (
            re(&format!(
                r"\b(?:by|before|until|no later than|bis|vor|spätestens|para el|antes del|antes de|hasta el|avant|d'ici|au plus tard|voor|uiterlijk|vóór|entro|prima di|até|antes de)\s+(?:(?:this|next|diesen|nächsten|kommenden|este|el|ce|le|deze|volgende|questo|il|esta|a|la)\s+)?(?:{WEEKDAYS})\b"
            )),
            1.0,
            "weekday",
        ),
        (
            re(
                r"\b(?:deadline|frist|plazo|fecha límite|date limite|échéance|termijn|scadenza|prazo)\b",
            ),
            1.0,
            "deadline",
        ),
    ]
});

static OUTAGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:(?:is|are|was|went|been|site|server|servers|app|system|website|service|api|platform|everything|production|prod) down|outage|not working|doesn't work|does not work|stopped working|can't log ?in|cannot log ?in|can't access|cannot access|unable to (?:log ?in|access)|crash(?:ed|es|ing)?|error 5\d\d|50[0234] error|ausfall|ausgefallen|funktioniert nicht|geht nicht mehr|nicht erreichbar|stürzt ab|abgestürzt|kein zugriff|kann mich nicht anmelden|está caído|esta caido|caído|se cayó|no funciona|no puedo acceder|no puedo entrar|fuera de servicio|caída del servicio|en panne|panne|ne fonctionne pas|ne marche plus|ne marche pas|hors service|impossible de me connecter|inaccessible|storing|werkt niet|ligt eruit|ligt plat|kan niet inloggen|onbereikbaar|non funziona|fuori servizio|non riesco ad accedere|non raggiungibile|è giù|fora do ar|não funciona|nao funciona|caiu|não consigo acessar|não consigo entrar|pane)\b",
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_flips() {
        assert_eq!(sentiment("This is good", "en").label, Polarity::Positive);
        assert_eq!(
            sentiment("This is not good", "en").label,
            Polarity::Negative
        );
        assert_eq!(
            sentiment("Das ist nicht gut", "de").label,
            Polarity::Negative
        );
    }

    #[test]
    fn not_urgent_is_low() {
        let u = urgency("No rush, this is not urgent at all.", None);
        assert_eq!(u.level, UrgencyLevel::Low);
        let u = urgency("Our site is down, please help ASAP", None);
        assert_eq!(u.level, UrgencyLevel::High);
    }
}
