//! Which redaction tiers a deployment runs, and the redactor built from the model cache for it.

use std::path::Path;

use super::{ModelTierConfig, Redactor, RedactorConfig};
use crate::models::ModelCache;

/// Which redaction tiers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RedactTier {
    /// Patterns, checksums, context cues and name lists only
    Fast,
    /// The fast tier, plus the model tier (Rampart) where the model files are in the model cache
    Default,
    /// Like default, but the model reads every text whole (no gate): for measuring the gate
    Ungated,
}

impl Redactor {
    /// The redactor of a tier: name lists from `<models_dir>/names` when present, and the model
    /// tier (unless `tier` is `Fast`) when its files are in the model cache.
    pub fn for_tier(models_dir: &Path, tier: RedactTier) -> Redactor {
        let model = match tier {
            RedactTier::Fast => None,
            RedactTier::Default | RedactTier::Ungated => {
                ModelTierConfig::from_cache(&ModelCache::new(models_dir)).map(|m| ModelTierConfig {
                    gate: tier == RedactTier::Default,
                    ..m
                })
            }
        };
        Redactor::new(RedactorConfig {
            name_lists_dir: Some(ModelCache::new(models_dir).name_lists_dir()),
            model,
            ..RedactorConfig::default()
        })
    }
}
