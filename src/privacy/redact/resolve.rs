//! Overlap resolution: turns the detectors' raw, overlapping candidates into the final spans.
//!
//! Fixed rules, applied in this order: a higher tier wins (validated beats pattern-with-context
//! beats context-only), then the longer span, then the higher score, then the earlier start.
//! A validated candidate that overlaps an accepted span is dropped whole (a partial card number
//! means nothing); any other loser is cut back to its longest free piece, kept when that is at
//! least half of it (an address whose tail ran into a card number keeps the address). Spans that
//! merely touch (`a.end == b.start`) are both kept, as separate entities.

use std::collections::BTreeMap;

use super::entity::{Entity, EntityType};

/// How a candidate was established; the order is the precedence in overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Tier {
    /// Only context and shape (names, addresses).
    Context,
    /// A pattern plus a context keyword, without a checksum (DOB, driver's licence, passwords).
    Pattern,
    /// A checksum or a parser accepted it (Luhn, mod-97, libphonenumber, IP parsing, key prefixes).
    Validated,
}

/// A detector's proposal, before overlap resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Candidate {
    pub kind: EntityType,
    pub start: usize,
    pub end: usize,
    pub score: f32,
    pub tier: Tier,
}

impl Candidate {
    pub fn new(kind: EntityType, start: usize, end: usize, score: f32, tier: Tier) -> Self {
        Self {
            kind,
            start,
            end,
            score,
            tier,
        }
    }
}

/// Resolves overlaps; the result is sorted by start and non-overlapping.
pub(super) fn resolve(text: &str, mut candidates: Vec<Candidate>) -> Vec<Entity> {
    candidates.retain(|c| c.start < c.end);
    candidates.sort_by(|a, b| {
        b.tier
            .cmp(&a.tier)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(b.score.total_cmp(&a.score))
            .then(a.start.cmp(&b.start))
            .then(a.kind.cmp(&b.kind))
    });
    // accepted spans keyed by start, never overlapping
    let mut accepted: BTreeMap<usize, Candidate> = BTreeMap::new();
    for c in candidates {
        let (start, end) = longest_free_piece(&accepted, c.start, c.end);
        let whole = (start, end) == (c.start, c.end);
        let (start, end) = trim_separators(text, start, end);
        let big_enough = 2 * (end.saturating_sub(start)) >= c.end - c.start;
        if start < end && (whole || (c.tier != Tier::Validated && big_enough)) {
            accepted.insert(start, Candidate { start, end, ..c });
        }
    }
    accepted
        .into_values()
        .map(|c| Entity {
            kind: c.kind,
            start: c.start,
            end: c.end,
            score: c.score,
        })
        .collect()
}

/// The longest part of `start..end` that no accepted span covers.
fn longest_free_piece(
    accepted: &BTreeMap<usize, Candidate>,
    start: usize,
    end: usize,
) -> (usize, usize) {
    // accepted spans are disjoint and sorted, so the overlapping ones are the last few before `end`
    let mut overlapping: Vec<&Candidate> = accepted
        .range(..end)
        .rev()
        .take_while(|(_, a)| a.end > start)
        .map(|(_, a)| a)
        .collect();
    overlapping.reverse();
    let mut best = (start, start);
    let mut free_from = start;
    for a in overlapping {
        if a.start > free_from && a.start - free_from > best.1 - best.0 {
            best = (free_from, a.start);
        }
        free_from = free_from.max(a.end);
    }
    if end > free_from && end - free_from > best.1 - best.0 {
        best = (free_from, end);
    }
    best
}

/// Shrinks a cut piece so it neither starts nor ends with spaces or separators.
fn trim_separators(text: &str, start: usize, end: usize) -> (usize, usize) {
    let is_sep = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '/');
    let Some(piece) = text.get(start..end) else {
        return (start, start);
    };
    let trimmed_start = piece.trim_start_matches(is_sep);
    let new_start = end - trimmed_start.len();
    let trimmed = trimmed_start.trim_end_matches(is_sep);
    (new_start, new_start + trimmed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(kind: EntityType, start: usize, end: usize, score: f32, tier: Tier) -> Candidate {
        Candidate::new(kind, start, end, score, tier)
    }

    const TEXT: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

    fn resolve(candidates: Vec<Candidate>) -> Vec<Entity> {
        super::resolve(TEXT, candidates)
    }

    #[test]
    fn validated_beats_longer_context() {
        let out = resolve(vec![
            cand(EntityType::StreetAddress, 0, 30, 0.9, Tier::Context),
            cand(EntityType::Phone, 10, 20, 0.5, Tier::Validated),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, EntityType::Phone);
    }

    #[test]
    fn losers_keep_their_longest_free_piece() {
        let out = resolve(vec![
            cand(EntityType::StreetAddress, 0, 30, 0.9, Tier::Context),
            cand(EntityType::CreditCard, 24, 30, 0.9, Tier::Validated),
            cand(EntityType::Phone, 20, 26, 0.9, Tier::Pattern),
        ]);
        let spans: Vec<_> = out.iter().map(|e| (e.kind, e.start, e.end)).collect();
        assert_eq!(
            spans,
            vec![
                (EntityType::StreetAddress, 0, 20),
                (EntityType::Phone, 20, 24),
                (EntityType::CreditCard, 24, 30)
            ]
        );
    }

    #[test]
    fn longer_beats_shorter_then_score() {
        let out = resolve(vec![
            cand(EntityType::Person, 0, 5, 0.9, Tier::Context),
            cand(EntityType::Person, 0, 10, 0.5, Tier::Context),
            cand(EntityType::StreetAddress, 20, 25, 0.4, Tier::Context),
            cand(EntityType::Person, 21, 29, 0.8, Tier::Context),
        ]);
        let spans: Vec<_> = out.iter().map(|e| (e.kind, e.start, e.end)).collect();
        assert_eq!(
            spans,
            vec![(EntityType::Person, 0, 10), (EntityType::Person, 21, 29)]
        );
    }

    #[test]
    fn adjacent_spans_stay_separate() {
        let out = resolve(vec![
            cand(EntityType::Email, 0, 5, 0.9, Tier::Validated),
            cand(EntityType::Phone, 5, 9, 0.9, Tier::Validated),
        ]);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn empty_candidates_are_dropped() {
        assert!(resolve(vec![cand(EntityType::Email, 3, 3, 1.0, Tier::Validated)]).is_empty());
    }
}
