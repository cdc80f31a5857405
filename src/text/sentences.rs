//! Sentence boundaries, written once for every layer: chunking (help-center and OCR text, often
//! all lowercase), lead summaries (people's prose, where a new sentence starts with a capital)
//! and the local reply (passage text).

use std::ops::Range;

/// What must follow a sentence end (after whitespace) for the boundary to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextWord {
    /// Anything: help-center and OCR text is often all lowercase.
    Any,
    /// A capital, a digit, an opening quote or bracket, or a letter of a script without case
    /// (Arabic, CJK, Hebrew...): people's prose, where "approx. 20 units" or "3 p.m. today"
    /// must not be cut.
    Capitalised,
}

/// Byte ranges of the sentences of `text`, trimmed of surrounding whitespace. A sentence ends
/// after a run of `.`, `!`, `?`, `…` or a CJK stop (plus closing quotes or brackets) followed by
/// whitespace, unless the run is a single `.` after an abbreviation ("e.g.", "Fig.", "z.B.",
/// "J."). A CJK stop ends a sentence even without whitespace after it.
pub fn ranges(text: &str, next_word: NextWord) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut sentence_start = text.len() - text.trim_start().len();
    let mut characters = text.char_indices().peekable();
    while let Some((position, character)) = characters.next() {
        if !is_terminal(character) {
            continue;
        }
        let mut only_one_period = character == '.';
        let mut cjk_stop = is_cjk_stop(character);
        let mut sentence_end = position + character.len_utf8();
        while let Some(&(next_position, next)) = characters.peek() {
            if is_terminal(next) {
                only_one_period = false;
                cjk_stop |= is_cjk_stop(next);
            } else if !is_closing(next) {
                break;
            }
            sentence_end = next_position + next.len_utf8();
            characters.next();
        }
        if only_one_period && is_abbreviation(&text[sentence_start..position]) {
            continue;
        }
        let rest = &text[sentence_end..];
        let after_space = rest.trim_start();
        let has_space = after_space.len() < rest.len();
        if after_space.is_empty() || (!has_space && !cjk_stop) {
            continue;
        }
        if next_word == NextWord::Capitalised && !cjk_stop && !starts_sentence(after_space) {
            continue;
        }
        if sentence_end > sentence_start {
            out.push(sentence_start..sentence_end);
        }
        sentence_start = sentence_end + (rest.len() - after_space.len());
    }
    let tail = text[sentence_start..].trim_end();
    if !tail.is_empty() {
        out.push(sentence_start..sentence_start + tail.len());
    }
    out
}

/// The sentences of `text` as string slices (see [`ranges`]).
pub fn split(text: &str, next_word: NextWord) -> Vec<&str> {
    ranges(text, next_word)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

fn is_terminal(character: char) -> bool {
    // `؟` Arabic question mark, `۔` Urdu full stop, `।` Devanagari danda
    matches!(character, '.' | '!' | '?' | '…' | '؟' | '۔' | '।') || is_cjk_stop(character)
}

fn is_cjk_stop(character: char) -> bool {
    matches!(character, '。' | '！' | '？')
}

fn is_closing(character: char) -> bool {
    matches!(character, '"' | '\'' | ')' | ']' | '»' | '”' | '’')
}

fn starts_sentence(rest: &str) -> bool {
    rest.chars().next().is_some_and(|first| {
        first.is_uppercase()
            || first.is_ascii_digit()
            || matches!(first, '"' | '¿' | '¡' | '«' | '(' | '“' | '[')
            || (first.is_alphabetic() && !first.is_lowercase())
    })
}

/// True when the last word of `before_period` is an abbreviation: it has an inner period
/// ("e.g", "U.S", "z.B"), is a single letter ("J. Smith"), or is a common short form in one of
/// the languages the worker reads.
pub fn is_abbreviation(before_period: &str) -> bool {
    let last_word = before_period
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or_default()
        .trim_start_matches(['"', '\'', '«', '“']);
    if last_word.is_empty() {
        return false;
    }
    let is_single_letter =
        last_word.chars().count() == 1 && last_word.chars().all(char::is_alphabetic);
    let has_inner_period = last_word.contains('.');
    is_single_letter
        || has_inner_period
        || ABBREVIATIONS.contains(&last_word.to_lowercase().as_str())
}

const ABBREVIATIONS: &[&str] = &[
    // English and technical
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "approx", "inc", "ltd", "co",
    "corp", "no", "nr", "tel", "fax", "ca", "cf", "fig", "figs", "eq", "eqs", "resp",
    // German, Spanish, French, Dutch, Italian, Portuguese
    "bzw", "usw", "inkl", "evtl", "ggf", "sog", "vgl", "str", "abs", "geb", "hr", "fr", "sra",
    "srta", "dña", "ud", "uds", "pág", "núm", "av", "aprox", "mme", "mlle", "env", "dhr", "mevr",
    "bijv", "enz", "ong", "sig", "sigg", "dott", "ing", "avv", "ecc", "pag", "sto", "exmo", "exma",
    // months
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "okt", "nov", "dec",
    "dez", "dic", "déc",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_without_breaking_abbreviations() {
        let text = "Open the app, e.g. on a phone. then tap Fig. 2 to continue! (J. Smith said so.) lowercase too . Done";
        assert_eq!(
            split(text, NextWord::Any),
            [
                "Open the app, e.g. on a phone.",
                "then tap Fig. 2 to continue!",
                "(J. Smith said so.)",
                "lowercase too .",
                "Done"
            ]
        );
        assert_eq!(split("字。字！ 字", NextWord::Any), ["字。", "字！", "字"]);
        assert!(split("   ", NextWord::Any).is_empty());
    }

    #[test]
    fn capitalised_rule_keeps_lowercase_continuations() {
        let text =
            "We need approx. 20 units by 3 p.m. tomorrow. Can you help?! Ja, bitte. z.B. morgen";
        assert_eq!(
            split(text, NextWord::Capitalised),
            [
                "We need approx. 20 units by 3 p.m. tomorrow.",
                "Can you help?!",
                "Ja, bitte. z.B. morgen"
            ]
        );
        // scripts without case start sentences too
        assert_eq!(
            split("شكرا لكم. هل يمكنكم المساعدة؟", NextWord::Capitalised),
            ["شكرا لكم.", "هل يمكنكم المساعدة؟"]
        );
    }

    #[test]
    fn runs_of_terminals_end_once() {
        assert_eq!(
            split("Wait... what? Really!? yes", NextWord::Any),
            ["Wait...", "what?", "Really!?", "yes"]
        );
    }
}
