//! Chunking by tokens with `tiktoken-rs`: splits a [`Document`] into passages of about
//! `target_tokens`, never more than `max_tokens`, that overlap by about `overlap_tokens` and
//! carry the page title and their heading path.
//!
//! Owns: where passages break and their exact token counts. Must not know: HTML, URLs,
//! embeddings or storage; it reads only [`Document`] blocks.
//!
//! How it works, and why it is fast: every block is cut into units (sentences; lines for code;
//! token windows for a sentence longer than the target) and each unit is tokenised once.
//! Units are packed greedily by their token counts; a passage is a contiguous run of units, so
//! the overlap is simply the next passage starting a few units back. Where a passage ends is
//! chosen by preference: before a heading, else before a paragraph (block), else before a
//! sentence. The exact count of a passage is derived from its units' counts (see
//! `Chunker::exact_count`): only the words around block joins are tokenised again, never the
//! passage. For cl100k_base the counting itself skips tiktoken-rs's backtracking regex
//! (`count.rs`), so chunking costs less than one `encode_ordinary` of the document.
//!
//! Context decision: `Chunk::text` is the passage alone and `token_count` counts exactly that
//! text (what a prompt quoting the passage pays). The title and heading path are kept apart in
//! `title` and `heading_path`; `Chunk::embedding_text` prefixes them as `title > h1 > h2` for
//! the embedder, because a passage like "Click Save." embeds far better with its section name.

use std::ops::Range;

use tiktoken_rs::CoreBPE;

use count::Cl100kCounter;

use super::extract::{BlockKind, Document};
use crate::text::sentences::{self, NextWord};

mod count;

/// Settings of a [`Chunker`], as read from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkConfig {
    /// tiktoken encoding name: `cl100k_base` (default), `o200k_base`, `p50k_base`,
    /// `p50k_edit`, `r50k_base`.
    pub encoding: String,
    /// Size a passage grows to before it breaks, in tokens.
    pub target_tokens: usize,
    /// Tokens a passage repeats from the end of the previous one (sentence-granular, so about
    /// this many, never more). Not carried across a heading.
    pub overlap_tokens: usize,
    /// Hard ceiling on `Chunk::token_count`. At least `target_tokens`.
    pub max_tokens: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            encoding: "cl100k_base".to_string(),
            target_tokens: 256,
            overlap_tokens: 32,
            max_tokens: 320,
        }
    }
}

/// A configuration the chunker cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkConfigError {
    #[error("unknown tiktoken encoding {0:?}")]
    UnknownEncoding(String),
    #[error("target_tokens must be at least 8, got {0}")]
    TargetTooSmall(usize),
    #[error("overlap_tokens ({overlap}) must be less than half of target_tokens ({target})")]
    OverlapTooLarge { overlap: usize, target: usize },
    #[error("max_tokens ({max}) must be at least target_tokens ({target})")]
    MaxBelowTarget { max: usize, target: usize },
}

/// One passage of a document, ready to embed and to cite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position of the chunk in its document, from 0.
    pub index: usize,
    /// The passage itself: block texts joined by blank lines (single newlines between list
    /// items and between table rows).
    pub text: String,
    /// Headings enclosing the whole passage (the common prefix of its blocks' paths).
    pub heading_path: Vec<String>,
    /// Title of the document.
    pub title: Option<String>,
    /// Exact number of tokens of `text` by the configured encoding. At most `max_tokens`.
    pub token_count: usize,
    /// Indexes of the document blocks the passage takes text from (first and last may be
    /// partial).
    pub block_range: Range<usize>,
}

/// Splits documents into chunks. Cheap to share: the tokenizer is a process-wide singleton.
#[derive(Clone)]
pub struct Chunker {
    tokenizer: &'static CoreBPE,
    /// Exact counting without tiktoken-rs's slow regex, for cl100k_base (see `count.rs`).
    fast_counter: Option<&'static Cl100kCounter>,
    config: ChunkConfig,
}

impl std::fmt::Debug for Chunker {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Chunker")
            .field("config", &self.config)
            .finish()
    }
}

/// Longest text handed to the tokenizer in one unit. tiktoken's regex engine gives up (and
/// tiktoken-rs panics) on very long runs of one character; bounded units keep every call small.
const MAX_UNIT_BYTES: usize = 2048;

impl Chunk {
    /// `"Title > Heading > Subheading"`, skipping a first heading equal to the title; empty
    /// when there is neither.
    pub fn context(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(title) = self.title.as_deref().filter(|title| !title.is_empty()) {
            parts.push(title);
        }
        for heading in &self.heading_path {
            if parts.last() != Some(&heading.as_str()) {
                parts.push(heading);
            }
        }
        parts.join(" > ")
    }

    /// The text to embed: the context line, a blank line, then the passage. Its token count is
    /// larger than `token_count`; count it with [`Chunker::count_tokens`] if it matters.
    pub fn embedding_text(&self) -> String {
        let context = self.context();
        if context.is_empty() {
            self.text.clone()
        } else {
            format!("{context}\n\n{}", self.text)
        }
    }
}

impl Chunker {
    /// Validates the configuration and loads the tokenizer (once per process per encoding).
    pub fn new(config: ChunkConfig) -> Result<Self, ChunkConfigError> {
        if config.target_tokens < 8 {
            return Err(ChunkConfigError::TargetTooSmall(config.target_tokens));
        }
        if config.overlap_tokens * 2 > config.target_tokens {
            return Err(ChunkConfigError::OverlapTooLarge {
                overlap: config.overlap_tokens,
                target: config.target_tokens,
            });
        }
        if config.max_tokens < config.target_tokens {
            return Err(ChunkConfigError::MaxBelowTarget {
                max: config.max_tokens,
                target: config.target_tokens,
            });
        }
        let tokenizer = match config.encoding.as_str() {
            "cl100k_base" => tiktoken_rs::cl100k_base_singleton(),
            "o200k_base" => tiktoken_rs::o200k_base_singleton(),
            "p50k_base" => tiktoken_rs::p50k_base_singleton(),
            "p50k_edit" => tiktoken_rs::p50k_edit_singleton(),
            "r50k_base" => tiktoken_rs::r50k_base_singleton(),
            other => return Err(ChunkConfigError::UnknownEncoding(other.to_string())),
        };
        let fast_counter = match config.encoding.as_str() {
            "cl100k_base" => Cl100kCounter::shared(tokenizer),
            _ => None,
        };
        Ok(Self {
            tokenizer,
            fast_counter,
            config,
        })
    }

    pub fn config(&self) -> &ChunkConfig {
        &self.config
    }

    /// Exact token count of `text` by the configured encoding.
    pub fn count_tokens(&self, text: &str) -> usize {
        match self.fast_counter {
            Some(counter) => counter.count(text),
            None => self.encode(text).len(),
        }
    }

    /// Splits a document into chunks. An empty document gives no chunk.
    pub fn chunk(&self, document: &Document) -> Vec<Chunk> {
        let mut units = self.units(document);
        let mut chunks = Vec::new();
        let mut start = 0;
        while start < units.len() {
            let planned_end = self.plan_end(&units, start);
            let (end, text, token_count) =
                self.fit_within_max(document, &units, start, planned_end);
            if token_count > self.config.max_tokens {
                // rare: a sentence counted after its space tokenises longer on its own; cut it
                // into windows, which are narrowed until they fit
                let windows = self.windows_of(document, &units[start]);
                units.splice(start..start + 1, windows);
                continue;
            }
            chunks.push(Chunk {
                index: chunks.len(),
                text,
                heading_path: common_heading_path(document, &units[start..end]),
                title: document.title.clone(),
                token_count,
                block_range: units[start].block..units[end - 1].block + 1,
            });
            start = self.next_start(&units, start, end);
        }
        chunks
    }

    /// Token windows of one unit (see [`Chunker::push_windows`]).
    fn windows_of(&self, document: &Document, unit: &Unit) -> Vec<Unit> {
        let mut windows = Vec::new();
        let block_text = document
            .blocks
            .get(unit.block)
            .map_or("", |block| block.text.as_str());
        let piece_text = block_text.get(unit.bytes.clone()).unwrap_or_default();
        let token_ids = self.encode(piece_text);
        let first_of_block = FirstOfBlock {
            starts_block: unit.starts_block,
            starts_section: unit.starts_section,
        };
        self.push_windows(
            &mut windows,
            unit.block,
            unit.bytes.clone(),
            piece_text,
            &token_ids,
            first_of_block,
        );
        windows
    }

    /// Where the passage starting at unit `start` should end (exclusive), by the estimates.
    fn plan_end(&self, units: &[Unit], start: usize) -> usize {
        let target = self.config.target_tokens;
        if units[start].is_window {
            return start + 1;
        }
        // prefix_tokens[i] = estimated tokens of units[start..start + i]
        let mut prefix_tokens = vec![0usize];
        let mut end = start;
        let mut stopped_at_heading = false;
        while end < units.len() {
            let unit = &units[end];
            let current = prefix_tokens.last().copied().unwrap_or(0);
            if end > start {
                if unit.is_window {
                    break;
                }
                if unit.starts_section && current >= target / 4 {
                    stopped_at_heading = true;
                    break;
                }
                let joined = current + joint_tokens(&units[end - 1], unit) + unit.tokens;
                if joined > target {
                    break;
                }
                prefix_tokens.push(joined);
            } else {
                prefix_tokens.push(unit.tokens);
            }
            end += 1;
        }
        let is_size_break = end < units.len() && !stopped_at_heading && !units[end].is_window;
        if !is_size_break {
            return end;
        }
        // look back for a better place: a heading, else a block (paragraph) boundary, as long
        // as the passage keeps a fair share of the target
        let best_at = |wanted: fn(&Unit) -> bool, min_tokens: usize| {
            (start + 1..end).rev().find(|&boundary| {
                wanted(&units[boundary]) && prefix_tokens[boundary - start] >= min_tokens
            })
        };
        best_at(|unit| unit.starts_section, target / 3)
            .or_else(|| best_at(|unit| unit.starts_block, target / 2))
            .unwrap_or(end)
    }

    /// Counts `units[start..end]` exactly and gives back trailing units while the count is
    /// above `max_tokens`; then builds the text. A single unit is returned whatever its count
    /// (the caller cuts it into windows in the rare case it is over).
    fn fit_within_max(
        &self,
        document: &Document,
        units: &[Unit],
        start: usize,
        planned_end: usize,
    ) -> (usize, String, usize) {
        let mut end = planned_end;
        loop {
            let token_count = self.exact_count(document, &units[start..end]);
            if token_count <= self.config.max_tokens || end == start + 1 {
                return (
                    end,
                    assemble_text(document, &units[start..end]),
                    token_count,
                );
            }
            end -= 1;
        }
    }

    /// Exact token count of `assemble_text(units)` without tokenising it again.
    ///
    /// Why this is exact: in every tiktoken pattern no pre-token piece can contain a
    /// non-whitespace character followed by a space, and only whitespace runs look ahead, so
    /// for any texts `L` ending and `R` starting with non-whitespace,
    /// `count(L + " " + R) == count(L) + count(" " + R)`. Each unit was counted once, with the
    /// split space before it when it has one. Units joined by such a space just add up; at any
    /// other join (a block separator, a code line break) only the last word before and the
    /// first word after are tokenised again, together with the join. The property tests
    /// compare this with a full re-count on random text.
    fn exact_count(&self, document: &Document, units: &[Unit]) -> usize {
        if let [only] = units
            && !only.whole_is_spaced
        {
            return only.tokens;
        }
        if units.len() > 1 && units.iter().any(|unit| unit.is_window) {
            return self.count_tokens(&assemble_text(document, units));
        }
        let text_of = |unit: &Unit| {
            document
                .blocks
                .get(unit.block)
                .map_or("", |block| block.text.as_str())
        };
        let count_slice = |unit: &Unit, bytes: Range<usize>| {
            self.count_tokens(text_of(unit).get(bytes).unwrap_or_default())
        };
        let joined_by_split_space = |previous: &Unit, unit: &Unit| {
            unit.whole_is_spaced
                && previous.block == unit.block
                && previous.bytes.end + 1 == unit.bytes.start
        };

        let mut total = 0;
        let mut open = OpenSegment::Slice {
            count: 0,
            block: 0,
            bytes: 0..0,
        };
        for (position, unit) in units.iter().enumerate() {
            let previous = position.checked_sub(1).map(|index| &units[index]);
            let next = units.get(position + 1);
            let enters_by_split_space =
                previous.is_some_and(|previous| joined_by_split_space(previous, unit));
            let exit_extends = next.is_some_and(|next| !joined_by_split_space(unit, next));
            // the split space before the unit, when `whole` counted it
            let spaced_start = if unit.whole_is_spaced {
                unit.bytes.start - 1
            } else {
                unit.bytes.start
            };
            // first segment in the form `whole` counted it, and alone
            let first_as_counted = || count_slice(unit, spaced_start..unit.first_end);
            let first_alone = || count_slice(unit, unit.bytes.start..unit.first_end);

            // the unit's count from its start (or from after its first segment when the
            // first segment joins the open one) up to the end
            let mut rest = match previous {
                Some(_) if enters_by_split_space => {
                    total += self.close(std::mem::replace(&mut open, OpenSegment::empty()));
                    unit.tokens
                }
                Some(previous) => {
                    let gap = if previous.block == unit.block {
                        text_of(unit)
                            .get(previous.bytes.end..unit.bytes.start)
                            .unwrap_or_default()
                    } else {
                        let previous_kind =
                            document.blocks.get(previous.block).map(|block| &block.kind);
                        document
                            .blocks
                            .get(unit.block)
                            .map_or("\n\n", |block| separator(previous_kind, &block.kind))
                    };
                    let mut joined =
                        std::mem::replace(&mut open, OpenSegment::empty()).into_text(document);
                    joined.push_str(gap);
                    joined.push_str(
                        text_of(unit)
                            .get(unit.bytes.start..unit.first_end)
                            .unwrap_or_default(),
                    );
                    if unit.last_space.is_none() {
                        // one segment: the whole unit is now part of the open segment
                        open = OpenSegment::Joined(joined);
                        continue;
                    }
                    total += self.count_tokens(&joined);
                    unit.tokens.saturating_sub(first_as_counted())
                }
                None if unit.whole_is_spaced => {
                    unit.tokens.saturating_sub(first_as_counted()) + first_alone()
                }
                None => unit.tokens,
            };
            let open_start = match previous {
                Some(_) if enters_by_split_space => spaced_start,
                _ => unit.bytes.start,
            };
            if !exit_extends {
                total += rest;
                continue;
            }
            // the next join extends the last segment: keep it open instead of counting it here
            match unit.last_space {
                Some(last_space) => {
                    let tail = count_slice(unit, last_space..unit.bytes.end);
                    rest = rest.saturating_sub(tail);
                    total += rest;
                    open = OpenSegment::Slice {
                        count: tail,
                        block: unit.block,
                        bytes: last_space..unit.bytes.end,
                    };
                }
                None => {
                    open = OpenSegment::Slice {
                        count: rest,
                        block: unit.block,
                        bytes: open_start..unit.bytes.end,
                    };
                }
            }
        }
        total + self.close(open)
    }

    fn close(&self, open: OpenSegment) -> usize {
        match open {
            OpenSegment::Slice { count, .. } => count,
            OpenSegment::Joined(text) => self.count_tokens(&text),
        }
    }

    /// Where the passage after `units[start..end]` starts: a few units back for the overlap,
    /// but always after `start`, and not at all across a heading or after a token window.
    fn next_start(&self, units: &[Unit], start: usize, end: usize) -> usize {
        let next_is_new_section = units.get(end).is_none_or(|unit| unit.starts_section);
        if next_is_new_section || units[end - 1].is_window {
            return end;
        }
        let mut next = end;
        let mut overlap = 0;
        while next > start + 1 {
            let candidate = &units[next - 1];
            if candidate.is_window || overlap + candidate.tokens > self.config.overlap_tokens {
                break;
            }
            overlap += candidate.tokens;
            next -= 1;
            if candidate.starts_section {
                break;
            }
        }
        next
    }

    /// Cuts every block into units and tokenises each once.
    fn units(&self, document: &Document) -> Vec<Unit> {
        let mut units = Vec::new();
        for (block_index, block) in document.blocks.iter().enumerate() {
            let is_heading = matches!(block.kind, BlockKind::Heading { .. });
            let is_code = matches!(block.kind, BlockKind::Code { .. });
            let pieces = if is_code {
                code_lines(&block.text)
            } else {
                sentences::ranges(&block.text, NextWord::Any)
            };
            let mut is_first_of_block = true;
            for piece in pieces
                .into_iter()
                .flat_map(|piece| bounded_pieces(&block.text, piece))
            {
                let piece_text = &block.text[piece.clone()];
                let (first_end, last_space) = split_spaces(&block.text, piece.clone());
                // counted with the split space before it when there is one: that is how it
                // joins the previous sentence of its paragraph inside a passage
                let whole_is_spaced =
                    piece.start > 0 && is_split_space(&block.text, piece.start - 1);
                let counted_start = if whole_is_spaced {
                    piece.start - 1
                } else {
                    piece.start
                };
                let tokens = self.count_tokens(&block.text[counted_start..piece.end]);
                if tokens <= self.config.target_tokens {
                    units.push(Unit {
                        block: block_index,
                        bytes: piece,
                        tokens,
                        starts_block: is_first_of_block,
                        starts_section: is_first_of_block && is_heading,
                        is_window: false,
                        first_end,
                        last_space,
                        whole_is_spaced,
                    });
                } else {
                    let first_of_block = FirstOfBlock {
                        starts_block: is_first_of_block,
                        starts_section: is_first_of_block && is_heading,
                    };
                    let token_ids = self.encode(piece_text);
                    self.push_windows(
                        &mut units,
                        block_index,
                        piece,
                        piece_text,
                        &token_ids,
                        first_of_block,
                    );
                }
                is_first_of_block = false;
            }
        }
        units
    }

    /// A unit too long for one passage (a giant sentence, a minified line) becomes token
    /// windows of up to `target_tokens`. Windows end before a word (a token that starts with
    /// whitespace) when the window has one, so words stay whole, and the next window starts
    /// at a word about `overlap_tokens` back. A window's slice re-tokenises to a slightly
    /// different count than the tokens it was cut from, so each is counted exactly and
    /// narrowed until it fits `max_tokens`.
    fn push_windows(
        &self,
        units: &mut Vec<Unit>,
        block: usize,
        piece: Range<usize>,
        piece_text: &str,
        tokens: &[u32],
        first_of_block: FirstOfBlock,
    ) {
        // byte offset where each token starts (the tokens spell the text exactly, byte by byte)
        let mut token_starts = Vec::with_capacity(tokens.len() + 1);
        let mut offset = 0;
        for token in tokens {
            token_starts.push(offset.min(piece_text.len()));
            offset += self
                .tokenizer
                .decode_bytes(std::slice::from_ref(token))
                .map(|bytes| bytes.len())
                .unwrap_or(0);
        }
        token_starts.push(piece_text.len());
        let token_count = tokens.len();
        let starts_word = |token: usize| {
            token == token_count
                || piece_text
                    .get(token_starts[token]..)
                    .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        };

        let mut first_token = 0;
        let mut is_first_window = true;
        loop {
            let start_byte = trim_start_at(
                piece_text,
                piece_text.floor_char_boundary(token_starts[first_token]),
            );
            let mut window_tokens = self.config.target_tokens;
            let (end_token, end_byte, exact_tokens) = loop {
                let limit = (first_token + window_tokens).min(token_count);
                let end_token = (first_token + 1..=limit)
                    .rev()
                    .find(|token| starts_word(*token))
                    .unwrap_or(limit);
                let mut end_byte = piece_text.floor_char_boundary(token_starts[end_token]);
                end_byte = start_byte
                    + piece_text[start_byte..end_byte.max(start_byte)]
                        .trim_end()
                        .len();
                if end_byte <= start_byte {
                    end_byte = piece_text.ceil_char_boundary(start_byte + 1);
                }
                let exact_tokens = self.count_tokens(&piece_text[start_byte..end_byte]);
                if exact_tokens <= self.config.max_tokens || window_tokens <= 1 {
                    break (end_token, end_byte, exact_tokens);
                }
                window_tokens -=
                    (exact_tokens - self.config.max_tokens).clamp(1, window_tokens - 1);
            };
            units.push(Unit {
                block,
                bytes: piece.start + start_byte..piece.start + end_byte,
                tokens: exact_tokens,
                starts_block: first_of_block.starts_block && is_first_window,
                starts_section: first_of_block.starts_section && is_first_window,
                is_window: true,
                first_end: piece.start + end_byte,
                last_space: None,
                whole_is_spaced: false,
            });
            let rest_is_blank = piece_text[end_byte..].trim().is_empty();
            if end_token >= token_count || rest_is_blank {
                break;
            }
            // the next window starts at a word about `overlap_tokens` back; without a word start
            // in the overlap it starts where this one ended (no overlap, but no split word)
            let wanted = end_token
                .saturating_sub(self.config.overlap_tokens)
                .max(first_token + 1);
            let lowest = wanted
                .saturating_sub(self.config.overlap_tokens)
                .max(first_token + 1);
            let overlap_start = (lowest..=wanted).rev().find(|token| starts_word(*token));
            first_token = overlap_start.unwrap_or(end_token);
            is_first_window = false;
        }
    }

    /// tiktoken-rs panics when its regex engine gives up (very long runs of one character).
    /// Units are bounded so that should not happen; if it still does, the text is encoded in
    /// two halves instead of taking the process down.
    fn encode(&self, text: &str) -> Vec<u32> {
        let attempt = std::panic::catch_unwind(|| self.tokenizer.encode_ordinary(text));
        match attempt {
            Ok(tokens) => tokens,
            Err(_) if text.len() > 1 => {
                let middle = text.floor_char_boundary(text.len() / 2).max(1);
                let middle = text.ceil_char_boundary(middle);
                let mut tokens = self.encode(&text[..middle]);
                tokens.extend(self.encode(&text[middle..]));
                tokens
            }
            Err(_) => Vec::new(),
        }
    }
}

/// A slice of one block, tokenised once.
#[derive(Debug, Clone)]
struct Unit {
    block: usize,
    /// Byte range in the block's text.
    bytes: Range<usize>,
    tokens: usize,
    /// First unit of its block: a paragraph boundary.
    starts_block: bool,
    /// First unit of a heading block: a section boundary.
    starts_section: bool,
    /// A token window of an over-long unit: always a passage of its own.
    is_window: bool,
    /// The unit cut at its first and last split spaces (see [`is_split_space`]): the first
    /// segment ends at `first_end` (a block byte offset); with two or more segments the last
    /// one starts at the space `last_space`.
    first_end: usize,
    last_space: Option<usize>,
    /// `tokens` counts the split space just before the unit (it follows the previous sentence
    /// of its paragraph); false for the first unit of a block and for windows.
    whole_is_spaced: bool,
}

/// The piece of a passage whose count is not settled yet while counting it: it may still grow
/// across a join that is not a split space.
enum OpenSegment {
    /// A slice of one block, already counted.
    Slice {
        count: usize,
        block: usize,
        bytes: Range<usize>,
    },
    /// Text spanning one or more joins, counted when closed.
    Joined(String),
}

impl OpenSegment {
    fn empty() -> Self {
        OpenSegment::Slice {
            count: 0,
            block: 0,
            bytes: 0..0,
        }
    }

    fn into_text(self, document: &Document) -> String {
        match self {
            OpenSegment::Slice { block, bytes, .. } => document
                .blocks
                .get(block)
                .and_then(|block| block.text.get(bytes))
                .unwrap_or_default()
                .to_string(),
            OpenSegment::Joined(text) => text,
        }
    }
}

/// A space with non-whitespace on both sides: tokenisation is additive across it.
fn is_split_space(text: &str, index: usize) -> bool {
    text.as_bytes().get(index) == Some(&b' ')
        && text[..index]
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace())
        && text
            .get(index + 1..)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| !c.is_whitespace())
}

/// For the unit `range` of `text`: where its first segment ends (the first split space, or
/// the end) and where its last segment starts (the last split space, if it has two or more).
fn split_spaces(text: &str, range: Range<usize>) -> (usize, Option<usize>) {
    let unit_text = &text[range.clone()];
    let mut spaces = unit_text
        .match_indices(' ')
        .map(|(offset, _)| range.start + offset);
    let first = spaces.find(|index| is_split_space_within(text, *index, &range));
    let Some(first) = first else {
        return (range.end, None);
    };
    let last = unit_text
        .rmatch_indices(' ')
        .map(|(offset, _)| range.start + offset)
        .find(|index| is_split_space_within(text, *index, &range))
        .unwrap_or(first);
    (first, Some(last))
}

/// A split space strictly inside the unit (its neighbours belong to the unit too).
fn is_split_space_within(text: &str, index: usize, range: &Range<usize>) -> bool {
    index > range.start && index + 1 < range.end && is_split_space(text, index)
}

/// Whether a piece is the first of its block, and so a paragraph or section boundary.
#[derive(Debug, Clone, Copy)]
struct FirstOfBlock {
    starts_block: bool,
    starts_section: bool,
}

/// Estimated tokens added by joining two units: a newline separator between blocks is about
/// one token; a space inside a block merges into the next word's token.
fn joint_tokens(previous: &Unit, next: &Unit) -> usize {
    usize::from(previous.block != next.block)
}

/// Text of a run of units: consecutive units of one block are one slice of the block's text
/// (keeping its own spacing); blocks are joined by a blank line, or one newline between two
/// list items or two table rows.
fn assemble_text(document: &Document, units: &[Unit]) -> String {
    let mut text = String::new();
    let mut index = 0;
    while index < units.len() {
        let block_index = units[index].block;
        let mut last = index;
        while last + 1 < units.len() && units[last + 1].block == block_index {
            last += 1;
        }
        let Some(block) = document.blocks.get(block_index) else {
            break;
        };
        if index > 0 {
            let previous_kind = document
                .blocks
                .get(units[index - 1].block)
                .map(|block| &block.kind);
            text.push_str(separator(previous_kind, &block.kind));
        }
        let range = units[index].bytes.start..units[last].bytes.end.max(units[index].bytes.start);
        text.push_str(block.text.get(range).unwrap_or_default());
        index = last + 1;
    }
    text
}

fn separator(previous: Option<&BlockKind>, next: &BlockKind) -> &'static str {
    match (previous, next) {
        (Some(BlockKind::ListItem { .. }), BlockKind::ListItem { .. }) => "\n",
        (Some(BlockKind::TableRow), BlockKind::TableRow) => "\n",
        _ => "\n\n",
    }
}

/// The longest heading path shared by every block the units come from.
fn common_heading_path(document: &Document, units: &[Unit]) -> Vec<String> {
    let mut paths = units
        .iter()
        .filter_map(|unit| document.blocks.get(unit.block))
        .map(|block| &block.heading_path);
    let Some(first) = paths.next() else {
        return Vec::new();
    };
    let mut shared = first.len();
    for path in paths {
        shared = shared.min(first.iter().zip(path).take_while(|(a, b)| a == b).count());
    }
    first[..shared].to_vec()
}

/// Byte ranges of the non-blank lines of a code block (leading indentation kept).
fn code_lines(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut line_start = 0;
    for line in text.split('\n') {
        let content = line.trim_end();
        if !content.trim_start().is_empty() {
            ranges.push(line_start..line_start + content.len());
        }
        line_start += line.len() + 1;
    }
    ranges
}

/// Cuts a range longer than [`MAX_UNIT_BYTES`] at spaces (else at character boundaries) so
/// no single tokenizer call sees a huge input.
fn bounded_pieces(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = range.start;
    while range.end - start > MAX_UNIT_BYTES {
        let limit = text.floor_char_boundary(start + MAX_UNIT_BYTES);
        let window = &text[start..limit];
        // cut before a space and start the next piece after it, else cut mid-word
        let (piece_end, next_start) = match window.rfind(' ') {
            Some(space) if space > MAX_UNIT_BYTES / 2 => (start + space, start + space + 1),
            _ if limit > start => (limit, limit),
            _ => {
                let next_character = text.ceil_char_boundary(start + 1);
                (next_character, next_character)
            }
        };
        pieces.push(start..piece_end);
        start = next_start;
    }
    if range.end > start {
        pieces.push(start..range.end);
    }
    pieces
}

/// `index` moved forward past whitespace.
fn trim_start_at(text: &str, index: usize) -> usize {
    let rest = &text[index..];
    index + (rest.len() - rest.trim_start().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_spaces_need_non_whitespace_on_both_sides() {
        let text = "ab  cd ef\ngh ij";
        assert_eq!(split_spaces(text, 0..text.len()), (6, Some(12)));
        assert_eq!(split_spaces("word", 0..4), (4, None));
    }
}
