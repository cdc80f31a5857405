//! Where two layers that must not know each other meet: the privacy layer's redactor and gate
//! behind the knowledge layer's ports, and the vector stores behind the export's chunk source.
//! Only the composition root builds these.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::OpenAiConfig;
use crate::contract::tenant::TenantSettings;
use crate::knowledge::index::{PiiScanner, ScannedText};
use crate::knowledge::service::{EmbedPurpose, ExternalEmbedder, ExternalEmbeddings};
use crate::knowledge::store::VectorStore;
use crate::models::{EmbedError, Embedder};
use crate::privacy::audit::Purpose;
use crate::privacy::export::{ChunkRecord, ChunkSource};
use crate::privacy::gate::{
    Gate, GatedEmbedder, OPENAI, openai_embedding_dimension, openai_embedding_model_id,
};
use crate::privacy::redact::{Pseudonymizer, Redactor};

/// The redactor as the indexer's PII scanner.
pub struct RedactorPii(pub Arc<Redactor>);

impl PiiScanner for RedactorPii {
    fn scan(&self, texts: &[&str], redact: bool) -> Vec<ScannedText> {
        let mut pseudonymizer = Pseudonymizer::new();
        texts
            .iter()
            .map(|text| {
                let entities = self.0.detect(text);
                let types = entities.iter().map(|e| e.kind.name().to_owned()).collect();
                let redacted = (redact && !entities.is_empty())
                    .then(|| pseudonymizer.redact(&self.0, text).text);
                ScannedText { types, redacted }
            })
            .collect()
    }
}

/// The provider's embeddings through the privacy gate, for the tenants the gate allows.
pub struct GateEmbeddings {
    pub gate: Arc<Gate>,
    pub config: OpenAiConfig,
}

impl ExternalEmbeddings for GateEmbeddings {
    fn embedder_for(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        purpose: EmbedPurpose,
    ) -> Option<Arc<dyn ExternalEmbedder>> {
        if !self.gate.allows(tenant) {
            return None;
        }
        let purpose = match purpose {
            EmbedPurpose::Index => Purpose::EmbedKnowledge,
            EmbedPurpose::Query => Purpose::EmbedQuery,
        };
        match GatedEmbedder::new(self.gate.clone(), tenant.clone(), job_id, purpose) {
            Ok(gated) => Some(Arc::new(ProviderEmbedder(gated))),
            Err(err) => {
                tracing::warn!(event = "provider_embedder_unavailable", error = %err);
                None
            }
        }
    }

    fn collection(&self) -> Option<(String, usize)> {
        if !self.gate.is_configured() {
            return None;
        }
        openai_embedding_dimension(&self.config)
            .map(|dim| (openai_embedding_model_id(&self.config), dim))
    }
}

/// A gated embedder as the knowledge layer's external embedder.
struct ProviderEmbedder(GatedEmbedder);

#[async_trait]
impl Embedder for ProviderEmbedder {
    fn model_id(&self) -> &str {
        self.0.model_id()
    }

    fn dimension(&self) -> usize {
        self.0.dimension()
    }

    fn batch_size(&self) -> usize {
        self.0.batch_size()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.0.embed(texts).await
    }
}

impl ExternalEmbedder for ProviderEmbedder {
    fn provider(&self) -> &str {
        OPENAI
    }

    fn redactions(&self) -> BTreeMap<String, u32> {
        self.0.usage().redactions
    }
}

/// The vector stores as the training export's chunk source.
pub struct StoreChunks(pub Vec<Arc<dyn VectorStore>>);

#[async_trait]
impl ChunkSource for StoreChunks {
    async fn chunks(&self, tenant_id: &str) -> Result<Vec<ChunkRecord>, String> {
        let mut records = Vec::new();
        for store in &self.0 {
            let chunks = store.chunks(tenant_id).await.map_err(|e| e.to_string())?;
            records.extend(chunks.into_iter().map(|chunk| ChunkRecord {
                source_id: chunk.source_id,
                url: chunk.url,
                title: chunk.title,
                heading_path: chunk.heading_path,
                language: chunk.language,
                text: chunk.text,
                training_opt_in: chunk.training_opt_in,
            }));
        }
        Ok(records)
    }
}
