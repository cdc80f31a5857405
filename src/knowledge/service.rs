//! The knowledge service a worker runs: which embedder and which store a tenant's chunks use,
//! indexing, search and deletion, on one shared local model and one store per embedding model.
//!
//! A tenant whose settings allow the external provider (`ai.external`, `ai.provider = "openai"`)
//! has its chunks and queries embedded by the provider through the privacy gate; every other
//! tenant uses the local model. Vectors of different models never share a store: each model id
//! has its own collection, so switching a tenant's provider needs a reindex (its old chunks stay
//! searchable only under the old provider).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::chunk::{ChunkConfig, Chunker};
use super::crawl::CrawlConfig;
use super::index::PiiScanner;
use super::index::{IndexError, IndexProgress, IndexReport, IndexTarget, Indexer, SourceSpec};
use super::store::{SearchHit, SearchMode, SearchQuery, StoreError, VectorStore};
use crate::config::Config;
use crate::contract::event::Privacy;
use crate::contract::job::ReindexMode;
use crate::contract::tenant::TenantSettings;
use crate::models::{EmbedError, Embedder, LocalMiniLm, LocalMiniLmConfig, ModelCache};

/// Why a knowledge operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chunker configuration is invalid: a setup problem.
    #[error("chunker: {0}")]
    Chunker(String),
}

impl KnowledgeError {
    pub fn is_retryable(&self) -> bool {
        match self {
            KnowledgeError::Index(err) => err.is_retryable(),
            KnowledgeError::Embed(err) => err.is_retryable(),
            KnowledgeError::Store(err) => err.is_retryable(),
            KnowledgeError::Chunker(_) => false,
        }
    }
}

/// What an embedding is for (the audit log of an external provider records it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedPurpose {
    /// Chunks of a source being indexed.
    Index,
    /// A query or a lead, for search or classification.
    Query,
}

/// Embeddings outside the process (an AI provider), as the composition root wires them. The
/// knowledge layer knows only that a tenant may have its own embedder and what it reported;
/// refusal, redaction and audit are the implementation's (the privacy gate).
pub trait ExternalEmbeddings: Send + Sync {
    /// The provider's embedder for this tenant and job, or `None` when the tenant's content
    /// stays in the process.
    fn embedder_for(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        purpose: EmbedPurpose,
    ) -> Option<Arc<dyn ExternalEmbedder>>;

    /// The (model id, dimension) of the provider's collection, when a provider is configured,
    /// so that erasure reaches it too.
    fn collection(&self) -> Option<(String, usize)>;
}

/// An external embedder that reports what it sent.
pub trait ExternalEmbedder: Embedder {
    /// The provider's name, for the result's `privacy` block.
    fn provider(&self) -> &str;
    /// Entities replaced by placeholders before sending, by type, so far.
    fn redactions(&self) -> std::collections::BTreeMap<String, u32>;
}

/// An embedder chosen for one tenant and job, and the store its vectors live in.
pub struct Route {
    pub embedder: Arc<dyn Embedder>,
    pub store: Arc<dyn VectorStore>,
    /// Set when the provider was used, so the caller can fill the result's `privacy` block.
    pub external: Option<Arc<dyn ExternalEmbedder>>,
}

impl Route {
    /// The `privacy` block of an indexing run on this route: what went to the provider, or
    /// what was redacted in the stored chunks when the tenant asks for that.
    pub fn privacy(&self, tenant: &TenantSettings, report: &IndexReport) -> Privacy {
        let mut privacy = Privacy {
            training_opt_in: tenant.ai.training_opt_in,
            ..Privacy::default()
        };
        if let Some(external) = &self.external {
            privacy.external_ai = true;
            privacy.provider = Some(external.provider().to_owned());
            privacy.redactions = external.redactions();
        } else if tenant.ai.redact_knowledge {
            privacy.redactions = report.pii.clone();
        }
        privacy
    }
}

/// The knowledge side of one worker process.
pub struct Knowledge {
    config: Config,
    external: Arc<dyn ExternalEmbeddings>,
    indexer: Indexer,
    local: OnceCell<Arc<LocalMiniLm>>,
    stores: Mutex<HashMap<String, Arc<dyn VectorStore>>>,
}

impl Knowledge {
    pub fn new(
        config: &Config,
        external: Arc<dyn ExternalEmbeddings>,
        pii: Arc<dyn PiiScanner>,
    ) -> Result<Knowledge, KnowledgeError> {
        let chunker = Chunker::new(ChunkConfig::default())
            .map_err(|err| KnowledgeError::Chunker(err.to_string()))?;
        Ok(Knowledge {
            config: config.clone(),
            external,
            indexer: Indexer::new(
                CrawlConfig::default(),
                Arc::new(chunker),
                pii,
                config.data_dir.join("knowledge"),
            ),
            local: OnceCell::new(),
            stores: Mutex::new(HashMap::new()),
        })
    }

    /// The local all-MiniLM-L6-v2 model, loaded on first use (a second or so).
    pub async fn local_embedder(&self) -> Result<Arc<LocalMiniLm>, EmbedError> {
        let models = self.config.models_dir.clone();
        self.local
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    LocalMiniLm::load(&ModelCache::new(models), LocalMiniLmConfig::default())
                })
                .await
                .map_err(|err| EmbedError::Worker(err.to_string()))?
                .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// The embedder and store for this tenant: the provider through the gate when the tenant
    /// allows it, else the local model.
    pub async fn route(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        purpose: EmbedPurpose,
    ) -> Result<Route, KnowledgeError> {
        let external = self.external.embedder_for(tenant, job_id, purpose);
        let embedder: Arc<dyn Embedder> = match &external {
            Some(external) => external.clone(),
            None => self.local_embedder().await?,
        };
        let store = self
            .store(embedder.model_id(), embedder.dimension())
            .await?;
        Ok(Route {
            embedder,
            store,
            external,
        })
    }

    /// The store of one embedding model, opened on first use.
    pub async fn store(
        &self,
        model_id: &str,
        dimension: usize,
    ) -> Result<Arc<dyn VectorStore>, StoreError> {
        let mut stores = self.stores.lock().await;
        if let Some(store) = stores.get(model_id) {
            return Ok(store.clone());
        }
        let store = super::store::open_store(&self.config, model_id, dimension).await?;
        stores.insert(model_id.to_owned(), store.clone());
        Ok(store)
    }

    /// Every store this data dir holds (local model's always; the provider's when configured),
    /// for erasure.
    pub async fn all_stores(&self) -> Result<Vec<Arc<dyn VectorStore>>, KnowledgeError> {
        let local = self.local_embedder().await?;
        let mut stores = vec![self.store(local.model_id(), local.dimension()).await?];
        if let Some((id, dim)) = self.external.collection() {
            stores.push(self.store(&id, dim).await?);
        }
        Ok(stores)
    }

    /// Indexes a source for a tenant.
    pub async fn index(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        source: &SourceSpec,
        mode: ReindexMode,
        allow_private_network: bool,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<(IndexReport, Route), KnowledgeError> {
        let route = self.route(tenant, job_id, EmbedPurpose::Index).await?;
        let report = self
            .indexer
            .index(
                IndexTarget {
                    tenant,
                    embedder: route.embedder.as_ref(),
                    store: route.store.as_ref(),
                },
                source,
                mode,
                allow_private_network || self.config.knowledge_allow_private_network,
                progress,
            )
            .await?;
        Ok((report, route))
    }

    /// Hybrid search of a tenant's knowledge (optionally one source).
    pub async fn search(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        text: &str,
        source_id: Option<&str>,
        limit: usize,
        mode: SearchMode,
    ) -> Result<(Vec<SearchHit>, Route), KnowledgeError> {
        let route = self.route(tenant, job_id, EmbedPurpose::Query).await?;
        let dense = if mode == SearchMode::Bm25 {
            vec![0.0; route.embedder.dimension()]
        } else {
            embed_one(route.embedder.as_ref(), text).await?
        };
        let hits = search_store(&route, tenant, text, &dense, source_id, limit, mode).await?;
        Ok((hits, route))
    }

    /// Hybrid search plus the dense similarity of the best passage (a relevance gate), with
    /// the query embedded once for both.
    pub async fn search_with_relevance(
        &self,
        tenant: &Arc<TenantSettings>,
        job_id: &str,
        text: &str,
        limit: usize,
    ) -> Result<(Vec<SearchHit>, f32), KnowledgeError> {
        let route = self.route(tenant, job_id, EmbedPurpose::Query).await?;
        let dense = embed_one(route.embedder.as_ref(), text).await?;
        let hits = search_store(
            &route,
            tenant,
            text,
            &dense,
            None,
            limit,
            SearchMode::Hybrid,
        )
        .await?;
        if hits.is_empty() {
            return Ok((hits, 0.0));
        }
        let best = search_store(&route, tenant, text, &dense, None, 1, SearchMode::Dense).await?;
        Ok((hits, best.first().map_or(0.0, |h| h.score)))
    }

    /// Removes a source from every store; returns the chunks removed.
    pub async fn delete_source(
        &self,
        tenant_id: &str,
        source_id: &str,
    ) -> Result<u64, KnowledgeError> {
        let mut removed = 0;
        for store in self.all_stores().await? {
            removed += self
                .indexer
                .delete_source(store.as_ref(), tenant_id, source_id)
                .await?;
        }
        Ok(removed)
    }

    /// Removes every chunk of a tenant from every store.
    pub async fn delete_tenant(&self, tenant_id: &str) -> Result<u64, KnowledgeError> {
        let mut removed = 0;
        for store in self.all_stores().await? {
            removed += store.delete_tenant(tenant_id).await?;
        }
        self.indexer.forget_tenant(tenant_id);
        Ok(removed)
    }
}

async fn embed_one(embedder: &dyn Embedder, text: &str) -> Result<Vec<f32>, EmbedError> {
    Ok(embedder
        .embed(&[text.to_owned()])
        .await?
        .pop()
        .unwrap_or_default())
}

async fn search_store(
    route: &Route,
    tenant: &TenantSettings,
    text: &str,
    dense: &[f32],
    source_id: Option<&str>,
    limit: usize,
    mode: SearchMode,
) -> Result<Vec<SearchHit>, StoreError> {
    route
        .store
        .search(&SearchQuery {
            tenant_id: tenant.tenant_id.clone(),
            source_id: source_id.map(str::to_owned),
            text: text.to_owned(),
            dense: dense.to_vec(),
            limit,
            mode,
        })
        .await
}
