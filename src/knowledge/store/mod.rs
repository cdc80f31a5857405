//! Vector store behind one trait: chunk points with their payload, hybrid search, deletion.
//!
//! Owns persisting embedded chunks and finding them again. Knows nothing about crawling,
//! chunking or embedding models: callers hand it finished points (dense vector + payload) and
//! query text + query vector. Implementations: the embedded default on `qdrant-edge`, and a
//! Qdrant server over gRPC (`qdrant-client`). Both pass the same conformance suite
//! (tests/it/knowledge/store.rs).
//!
//! Invariant: every read is filtered by tenant id; no method returns another tenant's chunks.

mod bm25;
pub mod edge;
pub mod server;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use bm25::{Bm25Vector, bm25_document, bm25_query};
pub use edge::EdgeStore;
pub use server::QdrantServerStore;

use crate::config::{Config, StoreBackend};

/// Everything stored with one chunk. Page-level fields (`page_hash`, `etag`, `last_modified`,
/// `sitemap_lastmod`, `fetched_at`, `language`) repeat on every chunk of the page, so that
/// incremental reindexing can be planned from the store alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkPayload {
    pub tenant_id: String,
    pub source_id: String,
    /// Canonical page URL (or `file://` path) the chunk came from.
    pub url: String,
    pub title: Option<String>,
    pub heading_path: Vec<String>,
    /// The chunk text as shown in citations (redacted when the tenant setting says so).
    pub text: String,
    pub token_count: u32,
    /// Position of the chunk in its page, from 0.
    pub chunk_index: u32,
    /// sha256 of the chunk text (hex).
    pub content_hash: String,
    /// sha256 of the page body as fetched (hex): unchanged pages are skipped.
    pub page_hash: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sitemap_lastmod: Option<String>,
    /// ISO 639-1 language of the page, when detected.
    pub language: Option<String>,
    /// RFC 3339 time the page was fetched.
    pub fetched_at: String,
    /// PII entity types found in the chunk (CONTRACT.md section 5 names), sorted, unique.
    pub pii_tags: Vec<String>,
    /// The tenant's `ai.training_opt_in` when the chunk was indexed.
    pub training_opt_in: bool,
}

/// One chunk to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkPoint {
    /// Deterministic id: [`chunk_id`] of (tenant, source, url, chunk index).
    pub id: String,
    pub dense: Vec<f32>,
    pub payload: ChunkPayload,
}

/// What the store knows about one stored page, for incremental reindexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    pub url: String,
    pub page_hash: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sitemap_lastmod: Option<String>,
    pub chunks: u32,
}

/// Which retrievers a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Dense and BM25 fused with reciprocal rank fusion.
    #[default]
    Hybrid,
    Dense,
    Bm25,
}

/// A search within one tenant's knowledge.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub tenant_id: String,
    /// Restrict to one source.
    pub source_id: Option<String>,
    /// The query text (for BM25).
    pub text: String,
    /// The query embedding (for dense), same model as the stored points.
    pub dense: Vec<f32>,
    pub limit: usize,
    pub mode: SearchMode,
}

/// One ranked chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub chunk_id: String,
    pub score: f32,
    pub payload: ChunkPayload,
}

/// Why a store operation failed, and how a job treats it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the embedded store's write lock: a setup problem (one writer
    /// process per data dir); the job is retried later.
    #[error("vector store at {path} is locked by another process (one writer per data dir)")]
    Locked { path: String },
    /// The store cannot be reached (server down, network): retryable.
    #[error("vector store unavailable: {0}")]
    Unavailable(String),
    /// The stored collection does not match (vector size, model): a setup problem.
    #[error("vector store collection mismatch: {0}")]
    Mismatch(String),
    /// Bad input the caller should not have sent (wrong vector size, empty tenant): permanent.
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// Anything else the backend reported (corruption, I/O): retryable once the cause is fixed.
    #[error("vector store error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether retrying the same operation later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Locked { .. } | StoreError::Unavailable(_) | StoreError::Backend(_) => true,
            StoreError::Mismatch(_) | StoreError::Invalid(_) => false,
        }
    }
}

/// A vector store of chunks.
///
/// Contract for every implementation (tests/it/knowledge/store.rs checks it):
/// - `upsert` with an existing id replaces that point (re-running a job is idempotent);
/// - every read and delete is scoped to one tenant; `search` never returns another tenant's
///   chunk, nor another source's when `source_id` is set;
/// - `search` returns at most `limit` hits, best first, each with its full payload;
/// - deletes return how many points they removed;
/// - no method blocks the async runtime (sync backends run on blocking threads).
#[async_trait]
pub trait VectorStore: Send + Sync {
    /// A short name for logs and metrics ("qdrant-edge", "qdrant").
    fn backend(&self) -> &'static str;

    /// Dimension of the dense vectors this store holds.
    fn dimension(&self) -> usize;

    /// Inserts or replaces points.
    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), StoreError>;

    /// Ranked chunks for a query.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, StoreError>;

    /// The pages stored for a source, one record per URL.
    async fn pages(&self, tenant_id: &str, source_id: &str) -> Result<Vec<PageRecord>, StoreError>;

    /// Removes every chunk of one page.
    async fn delete_page(
        &self,
        tenant_id: &str,
        source_id: &str,
        url: &str,
    ) -> Result<u64, StoreError>;

    /// Removes every chunk of a source.
    async fn delete_source(&self, tenant_id: &str, source_id: &str) -> Result<u64, StoreError>;

    /// Removes every chunk of a tenant.
    async fn delete_tenant(&self, tenant_id: &str) -> Result<u64, StoreError>;

    /// Number of chunks of a tenant, optionally of one source.
    async fn count(&self, tenant_id: &str, source_id: Option<&str>) -> Result<u64, StoreError>;

    /// Every chunk payload of a tenant (for the training export and reviews).
    async fn chunks(&self, tenant_id: &str) -> Result<Vec<ChunkPayload>, StoreError>;
}

/// Every payload key of [`ChunkPayload`], for reads that need whole payloads.
pub(crate) const ALL_FIELDS: [&str; 17] = [
    "tenant_id",
    "source_id",
    "url",
    "title",
    "heading_path",
    "text",
    "token_count",
    "chunk_index",
    "content_hash",
    "page_hash",
    "etag",
    "last_modified",
    "sitemap_lastmod",
    "language",
    "fetched_at",
    "pii_tags",
    "training_opt_in",
];

/// Payload rows to payloads; rows that do not parse (written by another version) are skipped.
pub(crate) fn parse_payloads(
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
) -> Vec<ChunkPayload> {
    rows.into_iter()
        .filter_map(|row| serde_json::from_value(serde_json::Value::Object(row)).ok())
        .collect()
}

/// Deterministic chunk id: a UUID (v5-style, from sha256) of tenant, source, URL and chunk
/// index, so re-indexing the same page writes the same ids. Qdrant accepts UUID strings.
pub fn chunk_id(tenant_id: &str, source_id: &str, url: &str, index: u32) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [tenant_id, source_id, url] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.update(index.to_le_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5 layout
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Opens the vector store the config names: the embedded `qdrant-edge` store under
/// `<data_dir>/vectors` (the default), or a Qdrant server (`[store] backend = "qdrant"`).
pub async fn open_store(
    config: &Config,
    model_id: &str,
    dimension: usize,
) -> Result<Arc<dyn VectorStore>, StoreError> {
    // One collection per embedding model: vectors of different models never mix.
    let model: String = model_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    match config.store.backend {
        StoreBackend::Edge => {
            let dir = config.data_dir.join("vectors").join(&model);
            let store = EdgeStore::open_async(&dir, dimension).await?;
            Ok(Arc::new(store))
        }
        StoreBackend::Qdrant => {
            let url = config.store.url.as_deref().ok_or_else(|| {
                StoreError::Invalid("store.url is required when store.backend = \"qdrant\"".into())
            })?;
            let store = QdrantServerStore::connect(
                url,
                config.store.api_key.as_ref().map(|k| k.expose()),
                &format!("{}_{model}", config.store.collection),
                dimension,
            )?;
            store.ensure_collection().await?;
            Ok(Arc::new(store))
        }
    }
}

/// Name of the dense vector in both backends.
pub(crate) const DENSE_VECTOR: &str = "dense";

/// Reciprocal rank fusion constant (Cormack et al.), the same in both backends.
pub(crate) const RRF_K: u32 = 60;

/// How many candidates each retriever hands to the fusion for a final `limit`.
pub(crate) fn prefetch_limit(limit: usize) -> usize {
    (limit.saturating_mul(4)).clamp(40, 400)
}

/// Most hits one search may ask for.
pub(crate) const MAX_LIMIT: usize = 1_000;

/// Payload keys that get a keyword index in both backends (`tenant_id` as the tenant key).
pub(crate) const INDEXED_KEYWORDS: [&str; 3] = ["tenant_id", "source_id", "url"];

/// Payload keys read by [`VectorStore::pages`].
pub(crate) const PAGE_FIELDS: [&str; 5] = [
    "url",
    "page_hash",
    "etag",
    "last_modified",
    "sitemap_lastmod",
];

/// Checks points before they reach a backend: ids are UUIDs, tenant and source are set, dense
/// vectors have the store's dimension and finite values.
pub(crate) fn validate_points(points: &[ChunkPoint], dimension: usize) -> Result<(), StoreError> {
    for point in points {
        parse_uuid(&point.id)?;
        if point.payload.tenant_id.is_empty() {
            return Err(StoreError::Invalid(format!(
                "chunk {}: empty tenant_id",
                point.id
            )));
        }
        if point.payload.source_id.is_empty() {
            return Err(StoreError::Invalid(format!(
                "chunk {}: empty source_id",
                point.id
            )));
        }
        check_dense(&point.dense, dimension)
            .map_err(|why| StoreError::Invalid(format!("chunk {}: {why}", point.id)))?;
    }
    Ok(())
}

/// Checks a query: a tenant, a limit, and a dense vector of the right size where one is used.
pub(crate) fn validate_query(query: &SearchQuery, dimension: usize) -> Result<(), StoreError> {
    require_tenant(&query.tenant_id)?;
    if query.source_id.as_deref() == Some("") {
        return Err(StoreError::Invalid("empty source_id filter".into()));
    }
    if query.limit > MAX_LIMIT {
        return Err(StoreError::Invalid(format!(
            "limit {} is above {MAX_LIMIT}",
            query.limit
        )));
    }
    if query.mode != SearchMode::Bm25 {
        check_dense(&query.dense, dimension)
            .map_err(|why| StoreError::Invalid(format!("query vector: {why}")))?;
    }
    Ok(())
}

pub(crate) fn require_tenant(tenant_id: &str) -> Result<(), StoreError> {
    if tenant_id.is_empty() {
        return Err(StoreError::Invalid("empty tenant_id".into()));
    }
    Ok(())
}

fn check_dense(dense: &[f32], dimension: usize) -> Result<(), String> {
    if dense.len() != dimension {
        return Err(format!(
            "dense vector has {} dimensions, the store holds {dimension}",
            dense.len()
        ));
    }
    if !dense.iter().all(|v| v.is_finite()) {
        return Err("dense vector has a non-finite value".into());
    }
    Ok(())
}

pub(crate) fn parse_uuid(id: &str) -> Result<qdrant_edge::external::uuid::Uuid, StoreError> {
    qdrant_edge::external::uuid::Uuid::parse_str(id)
        .map_err(|_| StoreError::Invalid(format!("chunk id {id:?} is not a UUID (see chunk_id)")))
}

/// Folds page fields read from a source's chunks into one record per URL, sorted by URL.
pub(crate) fn fold_pages(
    rows: impl IntoIterator<Item = serde_json::Map<String, serde_json::Value>>,
) -> Vec<PageRecord> {
    use std::collections::BTreeMap;
    let text = |row: &serde_json::Map<String, serde_json::Value>, key: &str| {
        row.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let mut pages: BTreeMap<String, PageRecord> = BTreeMap::new();
    for row in rows {
        let Some(url) = text(&row, "url") else {
            continue;
        };
        pages
            .entry(url.clone())
            .and_modify(|page| page.chunks += 1)
            .or_insert_with(|| PageRecord {
                url,
                page_hash: text(&row, "page_hash").unwrap_or_default(),
                etag: text(&row, "etag"),
                last_modified: text(&row, "last_modified"),
                sitemap_lastmod: text(&row, "sitemap_lastmod"),
                chunks: 1,
            });
    }
    pages.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ids_are_deterministic_uuids_and_distinct() {
        let a = chunk_id("acme", "help", "https://x/a", 0);
        assert_eq!(a, chunk_id("acme", "help", "https://x/a", 0));
        assert_ne!(a, chunk_id("acme", "help", "https://x/a", 1));
        assert_ne!(a, chunk_id("acm", "ehelp", "https://x/a", 0));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
    }
}
