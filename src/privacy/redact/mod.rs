//! The PII redactor: the fast tier (validated pattern detectors, context rules for names and
//! addresses), the optional model tier (a BERT token classifier for the names and addresses the
//! cues miss, run only where the fast tier left a cue open), overlap resolution, reversible
//! pseudonymisation and bounded-memory streaming.
//!
//! Owns: what counts as PII in free text and where it is. Must not know: tenants, providers,
//! queues or storage; the caller decides what to do with the spans and placeholders.
//!
//! Entry points: [`Redactor`] (built once, shared) finds [`Entity`] spans; [`Pseudonymizer`]
//! (one per job) replaces them with placeholders and restores them in provider output.

mod bytes;
mod detectors;
mod entity;
pub mod eval;
mod model;
mod names;
mod pseudonym;
mod resolve;
mod segments;
mod stream;
mod text;
mod tier;

use std::path::PathBuf;

use self::detectors::Detectors;
use self::model::ModelTagger;
use self::resolve::{Candidate, Tier};

pub use self::bytes::{LossyText, decode_lossy};
pub use self::entity::{Entity, EntityType};
pub use self::model::{ModelError, ModelTierConfig};
pub use self::names::{NameListError, NameLists};
pub use self::pseudonym::{Pseudonymizer, Redacted, Restored, UnknownPlaceholder};
pub use self::stream::{StreamSummary, StreamWindow, redact_stream, redact_stream_with};
pub use self::tier::RedactTier;

/// Regions tried, in order, for phone numbers written without an international prefix.
pub const DEFAULT_PHONE_REGIONS: [&str; 8] = ["US", "CA", "GB", "DE", "FR", "ES", "NL", "IT"];

/// Configuration of a [`Redactor`], as the worker's config layer hands it over.
#[derive(Debug, Clone)]
pub struct RedactorConfig {
    /// ISO 3166 alpha-2 regions for national phone numbers (see [`DEFAULT_PHONE_REGIONS`]).
    pub phone_regions: Vec<String>,
    /// Folder holding `first_names.txt` and `last_names.txt` (one name a line), as written by
    /// `scripts/fetch-name-lists.sh`. `None`, or a folder without the files, means context cues
    /// only: the redactor still works, with lower recall on bare names.
    pub name_lists_dir: Option<PathBuf>,
    /// The model tier. `None` (the library default): fast tier only. The worker's `redact` and
    /// `eval redact` commands turn it on when the model files are in the model cache
    /// ([`ModelTierConfig::from_cache`]).
    pub model: Option<ModelTierConfig>,
}

impl Default for RedactorConfig {
    fn default() -> Self {
        Self {
            phone_regions: DEFAULT_PHONE_REGIONS
                .iter()
                .map(|r| r.to_string())
                .collect(),
            name_lists_dir: None,
            model: None,
        }
    }
}

impl RedactorConfig {
    /// The detector triage uses to find a lead's e-mail addresses and phone numbers: more
    /// national phone regions than the default, no name lists, no model tier.
    pub fn contact_fields() -> RedactorConfig {
        let mut phone_regions: Vec<String> = DEFAULT_PHONE_REGIONS
            .iter()
            .map(|r| r.to_string())
            .collect();
        phone_regions.extend(["PT", "AT", "CH", "BE", "IE"].map(String::from));
        RedactorConfig {
            phone_regions,
            name_lists_dir: None,
            model: None,
        }
    }
}

/// A problem with a [`RedactorConfig`]; see [`Redactor::try_new`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A phone region that libphonenumber does not know: a typo in the config, fix it.
    #[error("unknown phone region {0:?}")]
    UnknownPhoneRegion(String),
    /// The name lists folder exists but could not be read: fix the path or re-run the fetch script.
    #[error("name lists: {0}")]
    NameLists(#[from] NameListError),
    /// The model tier is configured but its files or ONNX Runtime could not be loaded.
    #[error("model tier: {0}")]
    Model(#[from] ModelError),
}

/// The detector set, compiled once. `Send + Sync`; share it behind an `Arc`.
pub struct Redactor {
    detectors: Detectors,
    model: Option<ModelTagger>,
}

/// What the model tier has read so far (no content): for measuring the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelStats {
    /// Bytes of text the model read.
    pub bytes_tagged: usize,
    /// Model windows (rows of at most `max_tokens` tokens) run.
    pub windows: usize,
}

impl Redactor {
    /// Builds the redactor, never failing: unknown phone regions are skipped, unreadable
    /// name lists fall back to empty ones and a model tier that cannot be loaded is left out (with
    /// a warning in the log). Use [`Redactor::try_new`] to surface those problems.
    pub fn new(cfg: RedactorConfig) -> Self {
        let regions = cfg
            .phone_regions
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        let names = cfg
            .name_lists_dir
            .as_deref()
            .and_then(|dir| NameLists::load(dir).ok())
            .unwrap_or_else(NameLists::empty);
        let model = cfg.model.and_then(|m| {
            ModelTagger::load(m)
                .inspect_err(
                    |err| tracing::warn!(error = %err, "model tier not loaded; fast tier only"),
                )
                .ok()
        });
        Self::with_parts(regions, names, model)
    }

    /// Like [`Redactor::new`], but reports an unknown phone region or unreadable name lists.
    /// A missing name-lists folder is not an error (the lists are optional).
    pub fn try_new(cfg: RedactorConfig) -> Result<Self, ConfigError> {
        let regions = cfg
            .phone_regions
            .iter()
            .map(|r| {
                r.parse()
                    .map_err(|_| ConfigError::UnknownPhoneRegion(r.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let names = match cfg.name_lists_dir.as_deref() {
            Some(dir) if dir.exists() => NameLists::load(dir)?,
            _ => NameLists::empty(),
        };
        let model = cfg.model.map(ModelTagger::load).transpose()?;
        Ok(Self::with_parts(regions, names, model))
    }

    fn with_parts(
        regions: Vec<phonenumber::country::Id>,
        names: NameLists,
        model: Option<ModelTagger>,
    ) -> Self {
        Self {
            detectors: Detectors::new(regions, names),
            model,
        }
    }

    /// Whether the model tier is loaded.
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// What the model tier has read since the redactor was built (zero without it).
    pub fn model_stats(&self) -> ModelStats {
        self.model
            .as_ref()
            .map_or_else(ModelStats::default, |m| ModelStats {
                bytes_tagged: m.bytes_tagged.load(std::sync::atomic::Ordering::Relaxed),
                windows: m.windows_run.load(std::sync::atomic::Ordering::Relaxed),
            })
    }

    /// Finds PII spans: sorted by start, non-overlapping, UTF-8 byte offsets into `text`.
    ///
    /// With the model tier: the fast tier runs first; the model reads only the segments where an
    /// open cue is left (see `gate.rs`), and its spans join the fast tier's candidates at the
    /// context tier, so validated and keyword-pattern entities win where they overlap, and a
    /// model name or address that overlaps a context-rule span of its type is widened to cover
    /// both (the longer of the two then wins). If the model fails at run time (not expected),
    /// the fast tier's result is returned and the failure logged.
    pub fn detect(&self, text: &str) -> Vec<Entity> {
        let candidates = self.detectors.candidates(text);
        let Some(model) = &self.model else {
            return resolve::resolve(text, candidates);
        };
        let fast = resolve::resolve(text, candidates.clone());
        let ranges = if model.config().gate {
            segments::open_ranges(text, &fast)
        } else {
            vec![(0, text.len())]
        };
        if ranges.is_empty() {
            return fast;
        }
        let spans = match model.tag(text, &ranges) {
            Ok(spans) => spans,
            Err(message) => {
                tracing::warn!(error = %message, "model tier failed; fast tier only");
                return fast;
            }
        };
        if spans.is_empty() {
            return fast;
        }
        let mut all = candidates;
        let fast_context: Vec<Candidate> = all
            .iter()
            .filter(|c| c.tier == Tier::Context)
            .copied()
            .collect();
        for span in spans {
            let (start, end) = trim_to_word(text, span.start, span.end);
            if start >= end
                || !self::text::is_standalone(text, start, end)
                || has_markup(&text[start..end])
            {
                continue;
            }
            // widen over context-rule spans of the same type it overlaps
            let (start, end) = fast_context
                .iter()
                .filter(|c| c.kind == span.kind && c.start < end && start < c.end)
                .fold((start, end), |(s, e), c| (s.min(c.start), e.max(c.end)));
            all.push(Candidate::new(
                span.kind,
                start,
                end,
                span.score,
                Tier::Context,
            ));
        }
        resolve::resolve(text, all)
    }

    /// Like [`Redactor::detect`] on arbitrary bytes: decodes lossily (invalid sequences become
    /// U+FFFD) and reports offsets against the original bytes.
    pub fn detect_bytes(&self, bytes: &[u8]) -> Vec<Entity> {
        let decoded = decode_lossy(bytes);
        self.detect(decoded.text())
            .into_iter()
            .map(|e| Entity {
                start: decoded.original_offset(e.start),
                end: decoded.original_offset(e.end),
                ..e
            })
            .collect()
    }
}

/// Shrinks a model span to start and end on a letter or digit.
fn trim_to_word(text: &str, start: usize, end: usize) -> (usize, usize) {
    let Some(piece) = text.get(start..end) else {
        return (start, start);
    };
    let trimmed_start = piece.trim_start_matches(|c: char| !c.is_alphanumeric());
    let new_start = end - trimmed_start.len();
    let trimmed = trimmed_start.trim_end_matches(|c: char| !c.is_alphanumeric());
    (new_start, new_start + trimmed.len())
}

/// Placeholder or markup brackets: a model span never includes them.
fn has_markup(piece: &str) -> bool {
    piece.contains(['<', '>'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn redactor_is_send_and_sync() {
        assert_send_sync::<Redactor>();
    }

    #[test]
    fn try_new_rejects_unknown_region() {
        let cfg = RedactorConfig {
            phone_regions: vec!["XX".into()],
            ..RedactorConfig::default()
        };
        assert!(matches!(
            Redactor::try_new(cfg),
            Err(ConfigError::UnknownPhoneRegion(_))
        ));
    }

    #[test]
    fn empty_text_has_no_entities() {
        assert!(
            Redactor::new(RedactorConfig::default())
                .detect("")
                .is_empty()
        );
    }

    #[test]
    fn detect_bytes_reports_original_offsets() {
        let redactor = Redactor::new(RedactorConfig::default());
        let mut bytes = b"\xff\xfe mail ".to_vec();
        bytes.extend_from_slice(b"jo@example.com \xc3");
        let found = redactor.detect_bytes(&bytes);
        assert_eq!(found.len(), 1);
        assert_eq!(&bytes[found[0].start..found[0].end], b"jo@example.com");
    }
}
