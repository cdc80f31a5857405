//! Reversible pseudonymisation for one job: values become typed placeholders (`<PERSON_1>`), the
//! same value the same placeholder, and provider output is restored on the way back. The
//! mapping lives only in this struct's memory and dies with it.
//!
//! Placeholders already in the input. Text can contain strings that look like ours (a user
//! pasting a redacted draft, a template with `<PERSON_1>`). Such "foreign" strings are left in
//! place verbatim, remembered, and their numbers are never issued by this job, so an issued
//! placeholder is never ambiguous. On restore, issued placeholders get their values back,
//! foreign strings stay as they were, and anything else placeholder-shaped (invented by the
//! provider, or mangled: `<PERSON_9>`, `<PERSON 1>`, `PERSON_1`, `[person-1]`) is replaced with
//! a neutral word and reported, so it never leaks into published text.
//!
//! A job redacts several texts with one pseudonymizer (form fields, prompt parts, stream
//! windows). When a later text holds, verbatim, a placeholder an earlier text was given, that
//! string is the user's, not ours: it is replaced by a fresh placeholder that restores to the
//! string itself (not counted as PII), so no placeholder in the output stands for two things.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::Redactor;
use super::bytes::decode_lossy;
use super::entity::{Entity, EntityType};

/// Most detection rounds in one [`Pseudonymizer::redact`] call. Most texts settle in one or two;
/// the model tier can take more, each placeholder changing what it sees next (found by the fuzz
/// target: a phone number, then two address pieces, then a surname, one a round).
const MAX_ROUNDS: usize = 8;

/// Anything placeholder-shaped: bracketed in any case and with a little spacing, or bare
/// upper-case with a number. Spacing is bounded, so a match is at most about 70 bytes: the stream
/// keeps more look-ahead than that and never cuts through one.
pub(super) static PLACEHOLDER_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    let loose: Vec<String> = EntityType::ALL
        .iter()
        .map(|t| t.name().replace('_', r"[\s_\-]?"))
        .collect();
    let bare: Vec<&str> = EntityType::ALL.iter().map(|t| t.name()).collect();
    let pattern = format!(
        r"(?:<|\[|\{{|\()\s{{0,4}}(?i:({loose}))(?:[\s_\-#]{{0,4}}(\d{{1,9}}))?\s{{0,4}}(?:>|\]|\}}|\))|\b({bare})[_\-]?(\d{{1,9}})\b",
        loose = loose.join("|"),
        bare = bare.join("|"),
    );
    Regex::new(&pattern).expect("static regex")
});

/// The output of [`Pseudonymizer::redact`].
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted {
    /// The text with every entity replaced by its placeholder.
    pub text: String,
    /// The replaced spans, offsets into the input.
    pub entities: Vec<Entity>,
    /// How many entities of each type were replaced (for audit records; holds no content).
    pub counts_by_type: BTreeMap<EntityType, usize>,
}

/// The output of [`Pseudonymizer::restore`].
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub text: String,
    /// Placeholder-shaped strings this job never issued, replaced by a neutral word.
    pub unknown: Vec<UnknownPlaceholder>,
}

/// A placeholder-shaped string in provider output that could not be restored.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownPlaceholder {
    /// The string as the provider wrote it.
    pub text: String,
    /// The entity type it names, which picked the neutral word.
    pub kind: EntityType,
    /// Byte offset in the text given to `restore`.
    pub start: usize,
}

/// One job's placeholder mapping. Not shared between jobs.
#[derive(Debug, Default)]
pub struct Pseudonymizer {
    /// (type, exact value) -> issued placeholder: the same value gets the same placeholder.
    issued_for: HashMap<(EntityType, String), String>,
    /// issued placeholder -> exact value, for restore.
    value_of: HashMap<String, String>,
    /// Last number issued per type.
    last_number: HashMap<EntityType, u64>,
    /// Numbers that foreign placeholder-like strings use; never issued, so ours stay unambiguous.
    reserved: HashSet<(EntityType, u64)>,
    /// Placeholder-like strings that came in with the input; restore keeps them verbatim.
    foreign: HashSet<String>,
    /// Placeholders issued in a later detection round, whose values can hold earlier
    /// placeholders: restore expands those values too. First-round values are input text and
    /// restore verbatim.
    nested: HashSet<String>,
}

impl Pseudonymizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Detects and replaces PII in `text`.
    ///
    /// Context rules can find new evidence once neighbours became placeholders (a keyword moves
    /// closer, a glued word becomes standalone), so the output is scanned again, up to
    /// [`MAX_ROUNDS`] times, until nothing new turns up: redacting redacted text changes nothing.
    /// A later round's value may contain an earlier placeholder; restore expands it recursively.
    pub fn redact(&mut self, redactor: &Redactor, text: &str) -> Redacted {
        self.redact_detected(redactor, text, redactor.detect(text))
    }

    /// [`Pseudonymizer::redact`] with the first round's entities already detected (the stream
    /// detects them with the previous window as context); the later rounds are the same.
    pub(super) fn redact_detected(
        &mut self,
        redactor: &Redactor,
        text: &str,
        entities: Vec<Entity>,
    ) -> Redacted {
        let (mut result, spans) = self.replace_tracked(text, entities, true);
        // per round: the replaced spans in its input and their placeholders' spans in its output
        let mut rounds = vec![spans];
        for _ in 1..MAX_ROUNDS {
            let current = std::mem::take(&mut result.text);
            let (again, spans) = self.replace_tracked(&current, redactor.detect(&current), false);
            result.text = again.text;
            if again.entities.is_empty() {
                break;
            }
            for e in &again.entities {
                let (start, end) = rounds
                    .iter()
                    .rev()
                    .fold((e.start, e.end), |(s, en), spans| {
                        (to_input(s, spans, false), to_input(en, spans, true))
                    });
                let swallowed: Vec<Entity> = result
                    .entities
                    .iter()
                    .filter(|old| start <= old.start && old.end <= end)
                    .copied()
                    .collect();
                for old in &swallowed {
                    if let Some(n) = result.counts_by_type.get_mut(&old.kind) {
                        *n -= 1;
                    }
                }
                result
                    .entities
                    .retain(|old| !(start <= old.start && old.end <= end));
                result.entities.push(Entity { start, end, ..*e });
                *result.counts_by_type.entry(e.kind).or_insert(0) += 1;
            }
            result.counts_by_type.retain(|_, n| *n > 0);
            result.entities.sort_by_key(|e| e.start);
            rounds.push(spans);
        }
        result
    }

    /// Like [`Pseudonymizer::redact`] on arbitrary bytes, decoded lossily (U+FFFD for invalid
    /// sequences). `text` is the redacted decoded text; entity offsets are into `bytes`.
    pub fn redact_bytes(&mut self, redactor: &Redactor, bytes: &[u8]) -> Redacted {
        let decoded = decode_lossy(bytes);
        let mut redacted = self.redact(redactor, decoded.text());
        for e in &mut redacted.entities {
            e.start = decoded.original_offset(e.start);
            e.end = decoded.original_offset(e.end);
        }
        redacted
    }

    /// Replaces the given entities (sorted, non-overlapping, as [`Redactor::detect`] returns
    /// them) with placeholders. Also returns every replaced span: (input span, placeholder's
    /// output span), in order. `first_round`: `text` is input, not a previous round's output, so
    /// placeholders of earlier calls found in it are the user's strings (see the module doc).
    fn replace_tracked(
        &mut self,
        text: &str,
        entities: Vec<Entity>,
        first_round: bool,
    ) -> (Redacted, Vec<Span>) {
        let existing: Vec<(usize, usize)> = PLACEHOLDER_LIKE
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        let mut collisions = Vec::new();
        for &(start, end) in &existing {
            let literal = text.get(start..end).unwrap_or("");
            if !self.value_of.contains_key(literal) {
                self.reserve(literal);
            } else if first_round {
                collisions.push((start, end));
            }
        }
        // an entity wholly inside an existing placeholder is that placeholder, not new PII
        let entities: Vec<Entity> = entities
            .into_iter()
            .filter(|e| !existing.iter().any(|&(s, en)| s <= e.start && e.end <= en))
            .collect();
        // (span, counted as PII); a colliding string that an entity overlaps goes with the entity
        let mut replacements: Vec<(Entity, bool)> = entities.iter().map(|e| (*e, true)).collect();
        for (start, end) in collisions {
            if entities.iter().any(|e| e.start < end && start < e.end) {
                continue;
            }
            let kind = PLACEHOLDER_LIKE
                .captures(text.get(start..end).unwrap_or(""))
                .and_then(|c| placeholder_kind(&c))
                .unwrap_or(EntityType::Person);
            let span = Entity {
                kind,
                start,
                end,
                score: 1.0,
            };
            replacements.push((span, false));
        }
        replacements.sort_by_key(|(e, _)| e.start);

        let mut out = String::with_capacity(text.len());
        let mut replaced = Vec::with_capacity(entities.len());
        let mut counts_by_type = BTreeMap::new();
        let mut spans = Vec::with_capacity(replacements.len());
        let mut pos = 0;
        for (e, counted) in replacements {
            let (Some(before), Some(value)) = (text.get(pos..e.start), text.get(e.start..e.end))
            else {
                continue;
            };
            out.push_str(before);
            let placeholder = self.placeholder_for(e.kind, value, !first_round);
            spans.push(Span {
                input: (e.start, e.end),
                output: (out.len(), out.len() + placeholder.len()),
            });
            out.push_str(&placeholder);
            if counted {
                *counts_by_type.entry(e.kind).or_insert(0) += 1;
                replaced.push(e);
            }
            pos = e.end;
        }
        out.push_str(text.get(pos..).unwrap_or(""));

        // strings that only look like placeholders once spans are replaced are foreign too
        let shaped: Vec<String> = PLACEHOLDER_LIKE
            .find_iter(&out)
            .map(|m| m.as_str().to_owned())
            .collect();
        for literal in shaped {
            if !self.value_of.contains_key(&literal) {
                self.foreign.insert(literal);
            }
        }
        (
            Redacted {
                text: out,
                entities: replaced,
                counts_by_type,
            },
            spans,
        )
    }

    /// Puts issued placeholders back; keeps foreign ones; neutralises and reports the rest.
    pub fn restore(&self, text: &str) -> Restored {
        let mut unknown = Vec::new();
        let text = self.restore_into(text, MAX_ROUNDS, &mut unknown);
        Restored { text, unknown }
    }

    /// Restores `text`; values issued in a later redaction round may hold earlier placeholders,
    /// so values are restored too, `depth` levels deep.
    fn restore_into(
        &self,
        text: &str,
        depth: usize,
        unknown: &mut Vec<UnknownPlaceholder>,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for c in PLACEHOLDER_LIKE.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            out.push_str(text.get(pos..m.start()).unwrap_or(""));
            pos = m.end();
            let literal = m.as_str();
            if let Some(value) = self.value_of.get(literal) {
                let nested = depth > 1 && self.nested.contains(literal);
                if nested {
                    out.push_str(&self.restore_into(value, depth - 1, unknown));
                } else {
                    out.push_str(value);
                }
            } else if self.foreign.contains(literal) {
                out.push_str(literal);
            } else {
                let kind = placeholder_kind(&c).unwrap_or(EntityType::Person);
                out.push_str(kind.neutral_word());
                unknown.push(UnknownPlaceholder {
                    text: literal.to_owned(),
                    kind,
                    start: m.start(),
                });
            }
        }
        out.push_str(text.get(pos..).unwrap_or(""));
        out
    }

    /// The placeholder of `value`, issued now if it has none; `nested`: the value is a later
    /// round's and may hold earlier placeholders.
    fn placeholder_for(&mut self, kind: EntityType, value: &str, nested: bool) -> String {
        if let Some(p) = self.issued_for.get(&(kind, value.to_owned())) {
            return p.clone();
        }
        let mut n = self.last_number.get(&kind).copied().unwrap_or(0);
        loop {
            n += 1;
            if !self.reserved.contains(&(kind, n)) {
                break;
            }
        }
        self.last_number.insert(kind, n);
        let placeholder = format!("<{}_{n}>", kind.name());
        self.issued_for
            .insert((kind, value.to_owned()), placeholder.clone());
        self.value_of.insert(placeholder.clone(), value.to_owned());
        if nested {
            self.nested.insert(placeholder.clone());
        }
        placeholder
    }

    /// Records a foreign placeholder-like literal and keeps its number out of circulation.
    fn reserve(&mut self, literal: &str) {
        if let Some(c) = PLACEHOLDER_LIKE.captures(literal)
            && let Some(kind) = placeholder_kind(&c)
            && let Some(n) = c.get(2).or(c.get(4)).and_then(|m| m.as_str().parse().ok())
        {
            self.reserved.insert((kind, n));
        }
        self.foreign.insert(literal.to_owned());
    }
}

/// One replacement of a round: the replaced span in the round's input and the placeholder's
/// span in its output (byte offsets).
#[derive(Debug, Clone, Copy)]
struct Span {
    input: (usize, usize),
    output: (usize, usize),
}

/// Maps an offset in a round's output back to its input, given the round's replacements. An
/// offset inside a placeholder maps to the start or, for an end offset, the end of the value it
/// stands for.
fn to_input(offset: usize, spans: &[Span], is_end: bool) -> usize {
    let preceding = if is_end {
        spans.partition_point(|s| s.output.0 < offset)
    } else {
        spans.partition_point(|s| s.output.0 <= offset)
    };
    let Some(span) = preceding.checked_sub(1).and_then(|i| spans.get(i)) else {
        return offset;
    };
    match offset.checked_sub(span.output.1) {
        Some(after) => span.input.1 + after,
        None if is_end => span.input.1,
        None => span.input.0,
    }
}

/// The entity type a placeholder-like match names (`CREDIT CARD` and `credit-card` included).
fn placeholder_kind(c: &regex::Captures<'_>) -> Option<EntityType> {
    let name = c.get(1).or(c.get(3))?.as_str();
    let normalised: String = name
        .chars()
        .map(|ch| if ch.is_alphabetic() { ch } else { '_' })
        .collect();
    EntityType::from_name(&normalised)
}

#[cfg(test)]
mod tests {
    use super::super::RedactorConfig;
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(RedactorConfig::default())
    }

    #[test]
    fn same_value_same_placeholder_and_round_trip() {
        let r = redactor();
        let mut p = Pseudonymizer::new();
        let text = "Mail jo@example.com or ann@example.org, again jo@example.com.";
        let red = p.redact(&r, text);
        assert_eq!(red.text, "Mail <EMAIL_1> or <EMAIL_2>, again <EMAIL_1>.");
        assert_eq!(red.counts_by_type.get(&EntityType::Email), Some(&3));
        assert_eq!(p.restore(&red.text).text, text);
    }

    #[test]
    fn foreign_placeholders_are_kept_and_never_reissued() {
        let r = redactor();
        let mut p = Pseudonymizer::new();
        let text = "Template <EMAIL_1> and PERSON_2, real: jo@example.com";
        let red = p.redact(&r, text);
        assert_eq!(red.text, "Template <EMAIL_1> and PERSON_2, real: <EMAIL_2>");
        let restored = p.restore(&red.text);
        assert_eq!(restored.text, text);
        assert!(restored.unknown.is_empty());
    }

    #[test]
    fn a_later_text_holding_an_issued_placeholder_gets_its_own() {
        let r = redactor();
        let mut p = Pseudonymizer::new();
        let first = p.redact(&r, "write to jo@example.com");
        assert_eq!(first.text, "write to <EMAIL_1>");
        // the user pasted a redacted draft: their "<EMAIL_1>" is not jo@example.com
        let second = p.redact(&r, "my draft says <EMAIL_1>, mail ann@example.org");
        assert_eq!(second.text, "my draft says <EMAIL_2>, mail <EMAIL_3>");
        assert_eq!(second.counts_by_type.get(&EntityType::Email), Some(&1));
        assert_eq!(second.entities.len(), 1);
        let restored = p.restore(&format!("{} / {}", first.text, second.text));
        assert_eq!(
            restored.text,
            "write to jo@example.com / my draft says <EMAIL_1>, mail ann@example.org"
        );
        assert!(restored.unknown.is_empty());
    }

    #[test]
    fn invented_or_mangled_placeholders_never_leak() {
        let r = redactor();
        let mut p = Pseudonymizer::new();
        let red = p.redact(&r, "write to jo@example.com");
        assert_eq!(red.text, "write to <EMAIL_1>");
        let reply =
            "Dear <PERSON_9>, we wrote to <EMAIL_1> and <EMAIL 1> and EMAIL_1 and [credit card 2].";
        let restored = p.restore(reply);
        assert_eq!(
            restored.text,
            "Dear the person, we wrote to jo@example.com and the email address and the email address and the card."
        );
        let kinds: Vec<_> = restored
            .unknown
            .iter()
            .map(|u| (u.kind, u.text.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EntityType::Person, "<PERSON_9>"),
                (EntityType::Email, "<EMAIL 1>"),
                (EntityType::Email, "EMAIL_1"),
                (EntityType::CreditCard, "[credit card 2]"),
            ]
        );
    }

    #[test]
    fn redact_bytes_keeps_original_offsets() {
        let r = redactor();
        let mut p = Pseudonymizer::new();
        let bytes = b"\xe9t\xe9 jo@example.com";
        let red = p.redact_bytes(&r, bytes);
        assert_eq!(red.text, "\u{fffd}t\u{fffd} <EMAIL_1>");
        assert_eq!(
            &bytes[red.entities[0].start..red.entities[0].end],
            b"jo@example.com"
        );
    }
}
