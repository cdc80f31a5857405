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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::Redactor;
use super::bytes::decode_lossy;
use super::entity::{Entity, EntityType};

/// Most detection rounds in one [`Pseudonymizer::redact`] call.
const MAX_ROUNDS: usize = 3;

/// Anything placeholder-shaped: bracketed in any case and spacing, or bare upper-case with a number.
static PLACEHOLDER_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    let loose: Vec<String> = EntityType::ALL
        .iter()
        .map(|t| t.name().replace('_', r"[\s_\-]?"))
        .collect();
    let bare: Vec<&str> = EntityType::ALL.iter().map(|t| t.name()).collect();
    let pattern = format!(
        r"(?:<|\[|\{{|\()\s*(?i:({loose}))(?:[\s_\-#]*(\d{{1,9}}))?\s*(?:>|\]|\}}|\))|\b({bare})[_\-]?(\d{{1,9}})\b",
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
        let (mut result, outs) = self.replace_tracked(text, entities);
        // per round: the round's entities (in its input) and their placeholders' spans in its output
        let mut rounds = vec![(result.entities.clone(), outs)];
        for _ in 1..MAX_ROUNDS {
            let current = std::mem::take(&mut result.text);
            let (again, outs) = self.replace_tracked(&current, redactor.detect(&current));
            result.text = again.text;
            if again.entities.is_empty() {
                break;
            }
            for e in &again.entities {
                let (start, end) =
                    rounds
                        .iter()
                        .rev()
                        .fold((e.start, e.end), |(s, en), (ents, outs)| {
                            (
                                to_input(s, ents, outs, false),
                                to_input(en, ents, outs, true),
                            )
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
            rounds.push((again.entities, outs));
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
    /// them) with placeholders, also returning where each placeholder sits in the output.
    fn replace_tracked(
        &mut self,
        text: &str,
        entities: Vec<Entity>,
    ) -> (Redacted, Vec<(usize, usize)>) {
        let existing: Vec<(usize, usize)> = PLACEHOLDER_LIKE
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        for &(start, end) in &existing {
            let literal = text.get(start..end).unwrap_or("");
            if !self.value_of.contains_key(literal) {
                self.reserve(literal);
            }
        }
        // an entity wholly inside an existing placeholder is that placeholder, not new PII
        let entities: Vec<Entity> = entities
            .into_iter()
            .filter(|e| !existing.iter().any(|&(s, en)| s <= e.start && e.end <= en))
            .collect();

        let mut out = String::with_capacity(text.len());
        let mut counts_by_type = BTreeMap::new();
        let mut outs = Vec::with_capacity(entities.len());
        let mut pos = 0;
        for e in &entities {
            let (Some(before), Some(value)) = (text.get(pos..e.start), text.get(e.start..e.end))
            else {
                continue;
            };
            out.push_str(before);
            let placeholder = self.placeholder_for(e.kind, value);
            outs.push((out.len(), out.len() + placeholder.len()));
            out.push_str(&placeholder);
            *counts_by_type.entry(e.kind).or_insert(0) += 1;
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
                entities,
                counts_by_type,
            },
            outs,
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
                let nested = depth > 1 && PLACEHOLDER_LIKE.is_match(value);
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

    fn placeholder_for(&mut self, kind: EntityType, value: &str) -> String {
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

/// Maps an offset in a round's output back to its input, given the round's entities (input
/// spans) and their placeholders' output spans. An offset inside a placeholder maps to the
/// start or, for an end offset, the end of the value it stands for.
fn to_input(offset: usize, entities: &[Entity], outs: &[(usize, usize)], is_end: bool) -> usize {
    let preceding = if is_end {
        outs.partition_point(|&(s, _)| s < offset)
    } else {
        outs.partition_point(|&(s, _)| s <= offset)
    };
    let Some(i) = preceding.checked_sub(1) else {
        return offset;
    };
    let (Some(&(_, out_end)), Some(e)) = (outs.get(i), entities.get(i)) else {
        return offset;
    };
    match offset.checked_sub(out_end) {
        Some(after) => e.end + after,
        None if is_end => e.end,
        None => e.start,
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
