//! Language of a text as an ISO 639-1 code, written once for every layer, over whatlang's
//! trigram model (pure Rust).
//!
//! - [`detect_among`] (leads): trigrams restricted to an allow-list (by default en, de, es, fr,
//!   nl, it, pt), plus stop-word and greeting cues that decide short texts ("Hallo!",
//!   "Gracias") where trigrams have too little to go on; `und` when nothing is reliable.
//! - [`detect_any`] (pages): every language whatlang knows, `None` when unreliable.
//! - [`from_declared_tag`]: a declared tag (`<html lang="de-AT">`) reduced to its code.

use serde::Serialize;
use whatlang::Lang;

/// The languages detected unless the caller gives its own allow-list.
pub const DEFAULT_LANGUAGES: [&str; 7] = ["en", "de", "es", "fr", "nl", "it", "pt"];

/// The code reported when the language cannot be told.
pub const UNDETERMINED: &str = "und";

/// A detected language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Language {
    /// ISO 639-1 code, or `und`.
    pub code: String,
    /// 0..=1, two decimals; 0 for `und`.
    pub confidence: f32,
}

impl Language {
    fn undetermined() -> Self {
        Self {
            code: UNDETERMINED.to_string(),
            confidence: 0.0,
        }
    }
}

/// whatlang reads the whole input; a few kilobytes are plenty and keep big inputs cheap.
fn sample(text: &str) -> &str {
    &text[..text.floor_char_boundary(4096)]
}

/// `"de-AT"`, `"EN_us"`, `"pt"` become `"de"`, `"en"`, `"pt"`; anything else is `None`.
pub fn from_declared_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
    let is_two_letters = primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic());
    is_two_letters.then(|| primary.to_ascii_lowercase())
}

/// The language of a page's prose among every language whatlang knows; `None` when the text is
/// too short (under three words) or the guess unreliable.
pub fn detect_any(text: &str) -> Option<&'static str> {
    let sample = sample(text);
    if sample.split_whitespace().count() < 3 {
        return None;
    }
    let info = whatlang::detect(sample)?;
    if info.confidence() < 0.3 {
        return None;
    }
    TABLE
        .iter()
        .find(|(_, lang)| *lang == info.lang())
        .map(|(code, _)| *code)
}

/// Detects the language of a lead among [`DEFAULT_LANGUAGES`].
pub fn detect(text: &str) -> Language {
    detect_among(text, &DEFAULT_LANGUAGES)
}

/// Detects the language of a lead among `allow` (ISO 639-1 codes; unknown codes are ignored,
/// an empty or all-unknown list means the default list).
pub fn detect_among(text: &str, allow: &[&str]) -> Language {
    let mut langs: Vec<(&'static str, Lang)> =
        allow.iter().filter_map(|code| lookup(code)).collect();
    langs.dedup();
    if langs.is_empty() {
        langs = DEFAULT_LANGUAGES.iter().filter_map(|c| lookup(c)).collect();
    }
    let sample = sample(text);
    let words = word_tokens(sample);
    if words.is_empty() {
        return Language::undetermined();
    }

    let trigram = if langs.len() == 1 {
        None
    } else {
        let detector = whatlang::Detector::with_allowlist(langs.iter().map(|l| l.1).collect());
        detector.detect(sample).and_then(|info| {
            let code = langs.iter().find(|l| l.1 == info.lang())?.0;
            Some((code, info.confidence()))
        })
    };
    let cues = cue_scores(&words, &langs);
    let (cue_best, cue_hits, cue_second) = best_two(&cues);
    let short = words.len() < 6;

    let (code, confidence) = match (trigram, cue_best) {
        _ if langs.len() == 1 => (langs[0].0, if cue_hits > 0 { 0.9 } else { 0.5 }),
        (Some((t, c)), Some(q)) if t == q => {
            (t, (c.max(0.5) + 0.15 * cue_hits.min(3) as f64).min(1.0))
        }
        // short text: the cue words are better evidence than a handful of trigrams
        (_, Some(q)) if short && cue_hits > cue_second => {
            (q, (0.45 + 0.15 * cue_hits.min(3) as f64).min(0.9))
        }
        // trigrams of a short question are easily fooled ("How do I export my contacts?" looks
        // Portuguese to them); two or more cue words of one language and none of another win
        (Some((t, c)), Some(q)) if t != q && cue_hits >= 2 && cue_second == 0 && c < 0.8 => {
            (q, 0.6)
        }
        (Some((t, c)), _) if !short && c >= 0.25 => (t, c),
        // longer text whose trigrams are unsure: decisive cues take over
        (_, Some(q)) if cue_hits >= 2 && cue_hits >= 2 * cue_second => (q, 0.5),
        (Some((t, c)), _) if c >= 0.5 => (t, c * 0.8),
        _ => return Language::undetermined(),
    };
    Language {
        code: code.to_string(),
        confidence: round2(confidence),
    }
}

fn round2(x: f64) -> f32 {
    ((x.clamp(0.0, 1.0) * 100.0).round() / 100.0) as f32
}

/// ISO 639-1 codes to whatlang's ISO 639-3 languages: the languages the worker can tell.
/// whatlang may add languages in a minor release; they stay undetected until listed here.
const TABLE: &[(&str, Lang)] = &[
    ("eo", Lang::Epo),
    ("en", Lang::Eng),
    ("ru", Lang::Rus),
    ("zh", Lang::Cmn),
    ("es", Lang::Spa),
    ("pt", Lang::Por),
    ("it", Lang::Ita),
    ("bn", Lang::Ben),
    ("fr", Lang::Fra),
    ("de", Lang::Deu),
    ("uk", Lang::Ukr),
    ("ka", Lang::Kat),
    ("ar", Lang::Ara),
    ("hi", Lang::Hin),
    ("ja", Lang::Jpn),
    ("he", Lang::Heb),
    ("yi", Lang::Yid),
    ("pl", Lang::Pol),
    ("am", Lang::Amh),
    ("jv", Lang::Jav),
    ("ko", Lang::Kor),
    ("nb", Lang::Nob),
    ("da", Lang::Dan),
    ("sv", Lang::Swe),
    ("fi", Lang::Fin),
    ("tr", Lang::Tur),
    ("nl", Lang::Nld),
    ("hu", Lang::Hun),
    ("cs", Lang::Ces),
    ("el", Lang::Ell),
    ("bg", Lang::Bul),
    ("be", Lang::Bel),
    ("mr", Lang::Mar),
    ("kn", Lang::Kan),
    ("ro", Lang::Ron),
    ("sl", Lang::Slv),
    ("hr", Lang::Hrv),
    ("sr", Lang::Srp),
    ("mk", Lang::Mkd),
    ("lt", Lang::Lit),
    ("lv", Lang::Lav),
    ("et", Lang::Est),
    ("ta", Lang::Tam),
    ("vi", Lang::Vie),
    ("ur", Lang::Urd),
    ("th", Lang::Tha),
    ("gu", Lang::Guj),
    ("uz", Lang::Uzb),
    ("pa", Lang::Pan),
    ("az", Lang::Aze),
    ("id", Lang::Ind),
    ("te", Lang::Tel),
    ("fa", Lang::Pes),
    ("ml", Lang::Mal),
    ("or", Lang::Ori),
    ("my", Lang::Mya),
    ("ne", Lang::Nep),
    ("si", Lang::Sin),
    ("km", Lang::Khm),
    ("tk", Lang::Tuk),
    ("ak", Lang::Aka),
    ("zu", Lang::Zul),
    ("sn", Lang::Sna),
    ("af", Lang::Afr),
    ("la", Lang::Lat),
    ("sk", Lang::Slk),
    ("ca", Lang::Cat),
    ("tl", Lang::Tgl),
    ("hy", Lang::Hye),
    ("cy", Lang::Cym),
];

/// The supported code for `code` (any case, surrounding space ignored).
fn lookup(code: &str) -> Option<(&'static str, Lang)> {
    let code = code.trim().to_ascii_lowercase();
    TABLE.iter().find(|(c, _)| *c == code).copied()
}

/// Short, frequent words and greetings that are (mostly) specific to one language.
fn cue_words(code: &str) -> &'static [&'static str] {
    match code {
        "en" => &[
            "the", "and", "is", "are", "you", "your", "we", "our", "with", "for", "this", "that",
            "have", "hi", "hello", "hey", "thanks", "thank", "please", "would", "could", "can",
            "what", "how", "not", "it's", "i'm", "don't", "regards", "cheers", "dear", "of", "to",
            "my", "morning", "yes", "will", "was", "do", "come", "as",
        ],
        "de" => &[
            "der", "die", "das", "und", "ist", "sind", "nicht", "ich", "wir", "sie", "ihr", "ihre",
            "mit", "für", "bitte", "danke", "hallo", "guten", "tag", "grüße", "gruß", "ein",
            "eine", "einen", "auch", "noch", "möchte", "können", "könnten", "haben", "vielen",
            "dank", "sehr", "geehrte", "geehrter", "liebe", "lieber", "moin", "servus", "tschüss",
            "wie", "was", "ja", "nein", "mein", "wird", "er",
        ],
        "es" => &[
            "el", "la", "los", "las", "y", "es", "son", "que", "de", "del", "por", "para", "con",
            "hola", "gracias", "buenos", "buenas", "días", "tardes", "saludos", "usted", "ustedes",
            "quisiera", "necesito", "nosotros", "estoy", "está", "muchas", "favor", "una", "un",
            "pero", "como", "qué", "mi", "sí", "muy", "estimado", "estimada", "hay", "también",
        ],
        "fr" => &[
            "le",
            "la",
            "les",
            "et",
            "est",
            "sont",
            "je",
            "nous",
            "vous",
            "votre",
            "vos",
            "pour",
            "avec",
            "dans",
            "des",
            "du",
            "une",
            "un",
            "bonjour",
            "bonsoir",
            "salut",
            "merci",
            "cordialement",
            "madame",
            "monsieur",
            "s'il",
            "plaît",
            "pas",
            "ne",
            "c'est",
            "j'ai",
            "oui",
            "très",
            "mais",
            "aussi",
            "au",
            "aux",
            "sur",
            "qui",
        ],
        "nl" => &[
            "de",
            "het",
            "een",
            "en",
            "is",
            "zijn",
            "ik",
            "wij",
            "we",
            "jullie",
            "u",
            "uw",
            "met",
            "voor",
            "van",
            "niet",
            "hoi",
            "hallo",
            "goedemorgen",
            "goedemiddag",
            "bedankt",
            "dank",
            "groeten",
            "groet",
            "graag",
            "alstublieft",
            "alsjeblieft",
            "ook",
            "nog",
            "wel",
            "kunnen",
            "zou",
            "mijn",
            "wat",
            "hoe",
            "ja",
            "nee",
            "beste",
            "geachte",
            "vriendelijke",
            "op",
            "er",
            "dat",
        ],
        "it" => &[
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "e",
            "è",
            "sono",
            "che",
            "di",
            "del",
            "della",
            "per",
            "con",
            "ciao",
            "buongiorno",
            "buonasera",
            "salve",
            "grazie",
            "saluti",
            "cordiali",
            "vorrei",
            "abbiamo",
            "non",
            "una",
            "un",
            "anche",
            "come",
            "mi",
            "sì",
            "molto",
            "gentile",
            "egregio",
            "prego",
            "perché",
            "questo",
            "questa",
        ],
        "pt" => &[
            "o",
            "os",
            "as",
            "e",
            "é",
            "são",
            "que",
            "de",
            "do",
            "da",
            "dos",
            "das",
            "para",
            "com",
            "olá",
            "ola",
            "obrigado",
            "obrigada",
            "bom",
            "dia",
            "boa",
            "tarde",
            "atenciosamente",
            "cumprimentos",
            "você",
            "vocês",
            "gostaria",
            "preciso",
            "não",
            "uma",
            "um",
            "também",
            "como",
            "meu",
            "minha",
            "sim",
            "muito",
            "prezado",
            "prezada",
            "está",
            "estou",
        ],
        _ => &[],
    }
}

/// Cue hits per allowed language. A word shared by several languages counts for none of them
/// when it is among their cues (e.g. "de", "la"), except to break a tie later.
fn cue_scores(words: &[String], langs: &[(&'static str, Lang)]) -> Vec<(&'static str, u32)> {
    let mut scores: Vec<(&'static str, u32)> = langs.iter().map(|l| (l.0, 0)).collect();
    for word in words {
        let owners: Vec<usize> = langs
            .iter()
            .enumerate()
            .filter(|(_, l)| cue_words(l.0).contains(&word.as_str()))
            .map(|(i, _)| i)
            .collect();
        if owners.len() == 1 {
            scores[owners[0]].1 += 1;
        }
    }
    scores
}

/// The best language by cue hits, its hits and the runner-up's hits.
fn best_two(scores: &[(&'static str, u32)]) -> (Option<&'static str>, u32, u32) {
    let mut sorted: Vec<&(&str, u32)> = scores.iter().collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.1));
    let first = sorted.first().copied();
    let second = sorted.get(1).map_or(0, |s| s.1);
    match first {
        Some(&(code, hits)) if hits > 0 => (Some(code), hits, second),
        _ => (None, 0, second),
    }
}

/// True for a frequent function word or greeting of one of the seven languages (lower case).
pub(crate) fn is_function_word(word: &str) -> bool {
    DEFAULT_LANGUAGES
        .iter()
        .any(|code| cue_words(code).contains(&word))
}

/// Lower-case words (letters and apostrophes).
pub(crate) fn word_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(['\'', '’']).replace('’', "'").to_lowercase())
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphabetic))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_greetings() {
        assert_eq!(detect("Hallo, danke!").code, "de");
        assert_eq!(detect("Muchas gracias").code, "es");
        assert_eq!(detect("").code, "und");
        assert_eq!(detect("1234 !!!").code, "und");
    }

    #[test]
    fn pages_and_declared_tags() {
        assert_eq!(from_declared_tag("de-AT").as_deref(), Some("de"));
        assert_eq!(from_declared_tag("EN_us").as_deref(), Some("en"));
        assert_eq!(from_declared_tag("deu"), None);
        assert_eq!(
            detect_any("Wir liefern Ihre Pakete schnell und zuverlässig in ganz Deutschland."),
            Some("de")
        );
        assert_eq!(detect_any("two words"), None);
    }

    #[test]
    fn short_english_questions() {
        for q in [
            "How do I export my contacts?",
            "How do I export my contacts to a CSV file?",
            "Can I change my plan later?",
            "Where can I find my invoices?",
        ] {
            assert_eq!(detect(q).code, "en", "{q}");
        }
    }
}
