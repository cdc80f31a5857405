//! Panic-free text helpers shared by the detectors: char-boundary-safe windows and neighbours.

/// The largest char boundary `<= i` (clamped to the text).
pub(super) fn floor_boundary(text: &str, i: usize) -> usize {
    text.floor_char_boundary(i.min(text.len()))
}

/// The smallest char boundary `>= i` (clamped to the text).
pub(super) fn ceil_boundary(text: &str, i: usize) -> usize {
    text.ceil_char_boundary(i.min(text.len()))
}

/// The char just before byte `i`, if any.
pub(super) fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i)?.chars().next_back()
}

/// The char starting at byte `i`, if any.
pub(super) fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

/// About `bytes` bytes of text before `i`, lower-cased (for context keywords). The window is
/// widened to whole words, so a word cut at its edge is not mistaken for a shorter one.
pub(super) fn context_before(text: &str, i: usize, bytes: usize) -> String {
    let end = floor_boundary(text, i);
    let mut start = floor_boundary(text, end.saturating_sub(bytes));
    while let Some(c) =
        char_before(text, start).filter(|&c| is_word_char(c) && end - start < bytes + 32)
    {
        start -= c.len_utf8();
    }
    text.get(start..end).unwrap_or("").to_lowercase()
}

/// About `bytes` bytes of text after `i`, lower-cased, widened to whole words.
pub(super) fn context_after(text: &str, i: usize, bytes: usize) -> String {
    let start = ceil_boundary(text, i);
    let mut end = ceil_boundary(text, start.saturating_add(bytes));
    while let Some(c) = char_at(text, end).filter(|&c| is_word_char(c) && end - start < bytes + 32)
    {
        end += c.len_utf8();
    }
    text.get(start..end).unwrap_or("").to_lowercase()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when the span `start..end` is not glued to a letter, digit or underscore on either side
/// (so the `PHONE` inside a `<PHONE_1>` placeholder is not the word "phone"). A placeholder
/// stands for a value, so touching one counts as glued: otherwise redacting a neighbour could
/// turn a fragment into a standalone match on the next pass.
pub(super) fn is_standalone(text: &str, start: usize, end: usize) -> bool {
    let glued = |c: Option<char>| c.is_some_and(is_word_char);
    !glued(char_before(text, start))
        && !glued(char_at(text, end))
        && !touches_placeholder(text, start, end)
}

/// True when a `<TYPE_N>`-shaped placeholder ends right at `start` or begins right at `end`.
pub(super) fn touches_placeholder(text: &str, start: usize, end: usize) -> bool {
    let is_placeholder = |inner: &str| {
        inner.rsplit_once('_').is_some_and(|(kind, n)| {
            !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        })
    };
    // placeholders are short: look at most this far
    const REACH: usize = 40;
    let before = text
        .get(floor_boundary(text, start.saturating_sub(REACH))..start)
        .unwrap_or("");
    let ends_with = before
        .strip_suffix('>')
        .and_then(|b| b.rfind('<').map(|i| &b[i + 1..]))
        .is_some_and(is_placeholder);
    let after = text
        .get(end..ceil_boundary(text, end.saturating_add(REACH)))
        .unwrap_or("");
    let starts_with = after
        .strip_prefix('<')
        .and_then(|a| a.find('>').map(|i| &a[..i]))
        .is_some_and(is_placeholder);
    ends_with || starts_with
}

/// True when the number at `start..end` continues into letters or further digit groups on either
/// side (part of a longer token such as an ID, a version string or another number).
pub(super) fn continues_number(text: &str, start: usize, end: usize) -> bool {
    let before = char_before(text, start);
    let after = char_at(text, end);
    let sep = |c: Option<char>| matches!(c, Some('.' | '-' | '/'));
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    // separators are one byte, so stepping over them stays on char boundaries
    let sep_then_digit_before = sep(before) && start > 0 && digit(char_before(text, start - 1));
    let sep_then_digit_after = sep(after) && digit(char_at(text, end + 1));
    before.is_some_and(char::is_alphanumeric)
        || after.is_some_and(char::is_alphanumeric)
        || sep_then_digit_before
        || sep_then_digit_after
        || touches_placeholder(text, start, end)
}

/// True when `haystack` contains any of the `words` as a whole word.
pub(super) fn has_word(haystack: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        haystack
            .match_indices(w)
            .any(|(i, _)| is_standalone(haystack, i, i + w.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_never_split_chars() {
        let s = "aé😀b";
        for i in 0..=s.len() + 2 {
            assert!(s.is_char_boundary(floor_boundary(s, i)));
            assert!(s.is_char_boundary(ceil_boundary(s, i)));
            let _ = context_before(s, i, 2);
            let _ = context_after(s, i, 2);
        }
    }

    #[test]
    fn standalone_and_words() {
        assert!(is_standalone("a 123 b", 2, 5));
        assert!(!is_standalone("a1234", 1, 4));
        assert!(has_word("my card no", &["card"]));
        assert!(!has_word("discard", &["card"]));
        assert!(!has_word("<credit_card_1>", &["card"]));
        assert!(!is_standalone("<PERSON_1>44 x", 10, 12));
        assert!(continues_number("a 12<EMAIL_3>", 2, 4));
        assert!(is_standalone("<b>44 x", 3, 5));
        assert_eq!(context_after("12 <PHONE_1> x", 2, 8), " <phone_1");
        assert_eq!(context_before("call me at 12", 11, 6), "me at ");
    }
}
