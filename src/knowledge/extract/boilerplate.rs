//! Boilerplate learned across the pages of one site: a block whose text appears on at least
//! half of the pages (once at least three pages were seen) is site chrome that escaped the
//! tag, role and class rules ("Was this article helpful?", "Contact support", a repeated
//! promo), and is dropped.
//!
//! Usage in a crawl: `observe` every extracted page of a source, then `remove_from` each page
//! before chunking. A streaming caller may filter as it goes once `min_pages` pages were seen;
//! the first pages then keep their boilerplate, which costs a few duplicate chunks, not
//! correctness. One filter per site: never share one across tenants or sources.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{Block, BlockKind, Document};

/// Serialisable, so an incremental reindex can reuse what the full crawl learned (fingerprints
/// are `DefaultHasher` values: stable for one build of the worker; a new build relearns).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BoilerplateFilter {
    /// Pages observed so far.
    pages_seen: usize,
    /// For each block fingerprint, on how many observed pages it appeared (once per page).
    pages_with_block: HashMap<u64, usize>,
    /// Below this many observed pages nothing counts as boilerplate: two pages sharing a block
    /// prove nothing.
    min_pages: usize,
    /// Share of observed pages a block must appear on to be boilerplate.
    min_share: f64,
}

impl Default for BoilerplateFilter {
    fn default() -> Self {
        Self::new(3, 0.5)
    }
}

impl BoilerplateFilter {
    /// `min_pages` is raised to at least 2, `min_share` is clamped to `(0, 1]`.
    pub fn new(min_pages: usize, min_share: f64) -> Self {
        let min_share = if min_share.is_finite() {
            min_share.clamp(f64::EPSILON, 1.0)
        } else {
            0.5
        };
        Self {
            pages_seen: 0,
            pages_with_block: HashMap::new(),
            min_pages: min_pages.max(2),
            min_share,
        }
    }

    /// Counts the blocks of one page. Observe each page once.
    pub fn observe(&mut self, document: &Document) {
        self.pages_seen += 1;
        let distinct: HashSet<u64> = document.blocks.iter().map(fingerprint).collect();
        for block_fingerprint in distinct {
            *self.pages_with_block.entry(block_fingerprint).or_default() += 1;
        }
    }

    /// How many pages were observed.
    pub fn pages_seen(&self) -> usize {
        self.pages_seen
    }

    /// True when `block` appeared on enough of the observed pages to be site chrome.
    pub fn is_boilerplate(&self, block: &Block) -> bool {
        if self.pages_seen < self.min_pages {
            return false;
        }
        let pages_with_block = self
            .pages_with_block
            .get(&fingerprint(block))
            .copied()
            .unwrap_or(0);
        pages_with_block as f64 >= self.min_share * self.pages_seen as f64
    }

    /// The document without its boilerplate blocks. Headings left without any content under
    /// them stay: they still give the heading path of what follows.
    pub fn remove_from(&self, mut document: Document) -> Document {
        document.blocks.retain(|block| !self.is_boilerplate(block));
        document
    }
}

/// Identity of a block across pages: its kind and its case-folded text, not its position or
/// heading path (the same footer line sits under different headings on different pages).
fn fingerprint(block: &Block) -> u64 {
    let mut hasher = DefaultHasher::new();
    std::mem::discriminant(&block.kind).hash(&mut hasher);
    if let BlockKind::Heading { level } = block.kind {
        level.hash(&mut hasher);
    }
    block.text.to_lowercase().hash(&mut hasher);
    hasher.finish()
}
