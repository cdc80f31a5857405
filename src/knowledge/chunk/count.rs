//! Fast exact token counting for `cl100k_base`: the same pre-tokenisation and BPE as
//! tiktoken-rs, without its cost. tiktoken-rs splits text with `fancy-regex` (a backtracking
//! engine, needed only for one `\s+(?!\S)` lookahead); here the `regex` crate's automaton runs a
//! lookahead-free equivalent of the pattern and the lookahead is applied by hand: a whitespace
//! run followed by a non-space gives its last character to the next piece. Pieces then go
//! through tiktoken-rs's own `byte_pair_split` with the same ranks. The property tests compare
//! every count with `tiktoken-rs` on random text.
//!
//! The cl100k pattern, and why the rewrite is equivalent: its possessive quantifiers
//! (`?+`, `++`, `{1,3}+`, `*+`) never change a match here (nothing after them can fail and
//! make a greedy quantifier give back), so they become greedy ones.

use std::sync::OnceLock;

use regex::Regex;
use rustc_hash::FxHashMap;
use tiktoken_rs::{CoreBPE, Rank};

/// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
/// with possessives made greedy and `\s+(?!\S)|\s` folded into `\s+` (fixed up in code).
const CL100K_LOOKAHEAD_FREE: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+$|\s*[\r\n]|\s+";

/// Counts cl100k_base tokens exactly; built once per process.
pub struct Cl100kCounter {
    pieces: Regex,
    ranks: FxHashMap<Vec<u8>, Rank>,
}

impl Cl100kCounter {
    /// The process-wide counter, built from the tiktoken-rs cl100k vocabulary on first use.
    pub fn shared(tokenizer: &CoreBPE) -> Option<&'static Cl100kCounter> {
        static COUNTER: OnceLock<Option<Cl100kCounter>> = OnceLock::new();
        COUNTER
            .get_or_init(|| Cl100kCounter::new(tokenizer))
            .as_ref()
    }

    fn new(tokenizer: &CoreBPE) -> Option<Self> {
        let pieces = Regex::new(CL100K_LOOKAHEAD_FREE).ok()?;
        let mut ranks = FxHashMap::default();
        // ordinary ranks of cl100k are 0..100256; decode_bytes fails past the vocabulary
        for rank in 0..100_256 {
            let bytes = tokenizer.decode_bytes(&[rank]).ok()?;
            ranks.insert(bytes, rank);
        }
        Some(Self { pieces, ranks })
    }

    /// Number of tokens `encode_ordinary(text)` would return.
    pub fn count(&self, text: &str) -> usize {
        let mut count = 0;
        let mut position = 0;
        while let Some(found) = self.pieces.find_at(text, position) {
            let mut end = found.end();
            let piece = found.as_str();
            // `\s+(?!\S)`: a run of two or more whitespace characters followed by a
            // non-whitespace one leaves its last character to the next piece. Only the `\s+`
            // branch: a run holding a line break was taken by `\s*[\r\n]` before it.
            let is_space_run = piece
                .chars()
                .all(|c| c.is_whitespace() && c != '\r' && c != '\n');
            if !piece.is_empty() && is_space_run {
                let followed_by_non_space = text[end..]
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_whitespace());
                let mut characters = piece.char_indices();
                let last_start = characters.next_back().map_or(0, |(offset, _)| offset);
                if followed_by_non_space && last_start > 0 {
                    end = found.start() + last_start;
                }
            }
            count += self.count_piece(&text.as_bytes()[found.start()..end]);
            position = end;
        }
        count
    }

    fn count_piece(&self, piece: &[u8]) -> usize {
        if piece.is_empty() {
            0
        } else if self.ranks.contains_key(piece) {
            1
        } else {
            tiktoken_rs::byte_pair_split(piece, &self.ranks).len()
        }
    }
}
