//! The fast-tier PII redactor: validated pattern detectors, context rules for names and addresses,
//! overlap resolution, reversible pseudonymisation and bounded-memory streaming.
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
mod names;
mod pseudonym;
mod resolve;
mod stream;
mod text;

use std::path::PathBuf;

use self::detectors::Detectors;

pub use self::bytes::{LossyText, decode_lossy};
pub use self::entity::{Entity, EntityType};
pub use self::names::{NameListError, NameLists};
pub use self::pseudonym::{Pseudonymizer, Redacted, Restored, UnknownPlaceholder};
pub use self::stream::{StreamSummary, redact_stream};

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
}

impl Default for RedactorConfig {
    fn default() -> Self {
        Self {
            phone_regions: DEFAULT_PHONE_REGIONS
                .iter()
                .map(|r| r.to_string())
                .collect(),
            name_lists_dir: None,
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
}

/// The detector set, compiled once. `Send + Sync`; share it behind an `Arc`.
pub struct Redactor {
    detectors: Detectors,
}

impl Redactor {
    /// Builds the redactor, never failing: unknown phone regions are skipped and unreadable
    /// name lists fall back to empty ones. Use [`Redactor::try_new`] to surface those problems.
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
        Self::with_parts(regions, names)
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
        Ok(Self::with_parts(regions, names))
    }

    fn with_parts(regions: Vec<phonenumber::country::Id>, names: NameLists) -> Self {
        Self {
            detectors: Detectors::new(regions, names),
        }
    }

    /// Finds PII spans: sorted by start, non-overlapping, UTF-8 byte offsets into `text`.
    pub fn detect(&self, text: &str) -> Vec<Entity> {
        resolve::resolve(text, self.detectors.candidates(text))
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
