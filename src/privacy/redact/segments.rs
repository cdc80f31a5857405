//! Which parts of a text the model tier still has to read, after the fast tier.
//!
//! A transformer costs thousands of times more per character than the patterns, and most text
//! cannot hold a name or an address the fast tier missed. The text is cut into segments (lines,
//! and sentences ending in `.`, `!` or `?` before whitespace); a segment goes to the model only
//! when it has an *open cue*: a word no fast-tier span covers that is
//! - capitalised (`Maria`, `LAPPEENRANTA`), unless it is the segment's first word and a common
//!   sentence opener (`The`, `Please`, `Hi`), or
//! - a house-number-like digit run (1 to 6 digits) followed by a word (`42 elm street`).
//!
//! Neighbouring open segments are joined into one range, so an address block over several lines
//! is read as a whole. Lower-case names after strong cues ("my name is višeslav") are the fast
//! tier's job; the gate does not look for them. Placeholders (`<PERSON_1>`) are never cues.

use super::entity::Entity;
use super::text::{ceil_boundary, floor_boundary, touches_placeholder};

/// Sentence openers that are capitalised only because they start a segment.
const OPENERS: &[&str] = &[
    "a",
    "about",
    "after",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "before",
    "but",
    "by",
    "can",
    "could",
    "dear",
    "did",
    "do",
    "does",
    "for",
    "from",
    "good",
    "great",
    "have",
    "hello",
    "hey",
    "hi",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "is",
    "it",
    "it's",
    "just",
    "let",
    "many",
    "may",
    "maybe",
    "my",
    "no",
    "not",
    "now",
    "of",
    "ok",
    "okay",
    "on",
    "once",
    "or",
    "our",
    "please",
    "regards",
    "should",
    "since",
    "so",
    "some",
    "sorry",
    "thank",
    "thanks",
    "that",
    "the",
    "there",
    "these",
    "they",
    "this",
    "to",
    "unfortunately",
    "we",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "yes",
    "you",
    "your",
];

/// Byte ranges of `text` (sorted, disjoint, on char boundaries) that the model should read, given
/// the fast tier's final spans `covered` (sorted by start, disjoint).
pub(super) fn open_ranges(text: &str, covered: &[Entity]) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut covered = covered.iter().peekable();
    for (start, end) in segments(text) {
        let segment = &text[start..end];
        let mut open = false;
        let mut first = true;
        let mut words = words(segment).peekable();
        while let Some((ws, we)) = words.next() {
            let (ws, we) = (start + ws, start + we);
            // skip the covered spans that end before this word
            while covered.next_if(|e| e.end <= ws).is_some() {}
            let is_covered = covered.peek().is_some_and(|e| e.start < we);
            let word = &text[ws..we];
            let is_first = std::mem::replace(&mut first, false);
            if is_covered || touches_placeholder(text, ws, we) || is_placeholder_word(text, ws, we)
            {
                continue;
            }
            let mut chars = word.chars();
            let initial = chars.next().unwrap_or(' ');
            let capitalised =
                initial.is_uppercase() && chars.next().is_some() && !(is_first && is_opener(word));
            let house_number = word.len() <= 6
                && word.bytes().all(|b| b.is_ascii_digit())
                && words.peek().is_some_and(|&(ns, _)| {
                    let gap = &segment[we - start..ns];
                    (gap == " " || gap == ", ")
                        && segment[ns..]
                            .chars()
                            .next()
                            .is_some_and(char::is_alphabetic)
                });
            if capitalised || house_number {
                open = true;
                break;
            }
        }
        if !open {
            continue;
        }
        match ranges.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    ranges
}

/// Lines, and sentences within them: each segment ends after a line break, or after `.!?` and
/// the whitespace that follows. Segments cover the whole text.
fn segments(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if b == b'\n' {
                break;
            }
            if matches!(b, b'.' | b'!' | b'?') && bytes.get(i).is_some_and(|c| *c == b' ') {
                while bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
                break;
            }
        }
        // all cut points are ASCII, so they are char boundaries
        let segment = (start, i);
        start = i;
        Some(segment)
    })
}

/// Alphanumeric runs (with inner apostrophes) of `segment`, as byte ranges into it.
fn words(segment: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = segment.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = chars.find(|(_, c)| c.is_alphanumeric())?;
        let mut end = segment.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() || c == '\'' || c == '’' {
                chars.next();
            } else {
                end = i;
                break;
            }
        }
        Some((start, end))
    })
}

fn is_opener(word: &str) -> bool {
    word.len() <= 13 && OPENERS.contains(&word.to_lowercase().as_str())
}

/// The upper-case word inside a placeholder such as `<PERSON_1>` or `<CREDIT_CARD_2>`.
fn is_placeholder_word(text: &str, start: usize, end: usize) -> bool {
    // placeholders are short: look at most this far either way
    const REACH: usize = 40;
    let is_label = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let before = text
        .get(floor_boundary(text, start.saturating_sub(REACH))..start)
        .unwrap_or("");
    let after = text
        .get(end..ceil_boundary(text, end.saturating_add(REACH)))
        .unwrap_or("");
    let opened = before
        .rfind('<')
        .is_some_and(|i| is_label(&before[i + 1..]));
    let closed = after.find('>').is_some_and(|i| is_label(&after[..i]));
    opened && closed
}

#[cfg(test)]
mod tests {
    use super::super::entity::EntityType;
    use super::*;

    fn entity(start: usize, end: usize) -> Entity {
        Entity {
            kind: EntityType::Person,
            start,
            end,
            score: 0.9,
        }
    }

    fn open<'a>(text: &'a str, covered: &[Entity]) -> Vec<&'a str> {
        open_ranges(text, covered)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn segments_cover_the_text() {
        let text = "Hi there. I live at 4 elm st.\nCall me! ok";
        let segments: Vec<&str> = segments(text).map(|(s, e)| &text[s..e]).collect();
        assert_eq!(
            segments,
            ["Hi there. ", "I live at 4 elm st.\n", "Call me! ", "ok"]
        );
    }

    #[test]
    fn only_segments_with_open_cues_are_read() {
        let text = "Thanks for the help. Please ask Maria about it.\nThe meeting is at noon.";
        assert_eq!(open(text, &[]), ["Please ask Maria about it.\n"]);
        // Maria already found by the fast tier: nothing left for the model
        assert!(open(text, &[entity(32, 37)]).is_empty());
        assert_eq!(
            open("I live at 42 elm street", &[]),
            ["I live at 42 elm street"]
        );
        assert!(open("tickets: 42. total 17", &[]).is_empty());
        assert!(open("", &[]).is_empty());
        assert!(open("12345 67890", &[]).is_empty());
    }

    #[test]
    fn address_blocks_stay_together_and_placeholders_are_not_cues() {
        let text = "send it to:\n28245 Puruntie 82\nLAPPEENRANTA\nthanks";
        assert_eq!(open(text, &[]), ["28245 Puruntie 82\nLAPPEENRANTA\n"]);
        assert!(open("ask <PERSON_1> or <CREDIT_CARD_2> now", &[]).is_empty());
    }

    #[test]
    fn multibyte_text_is_safe() {
        let text = "Grüße. Ärger mit Zoë?! 日本語 Ελληνικά. مرحبا";
        for (s, e) in open_ranges(text, &[]) {
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }
}
