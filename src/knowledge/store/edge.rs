//! The embedded vector store: one `qdrant-edge` shard under the data dir, one writer process.
//!
//! Layout of the store directory (callers pass `<data_dir>/vectors`):
//! - `LOCK`: held with an exclusive `flock` for as long as the store is open, so a second
//!   process (or a second open in this one) gets [`StoreError::Locked`] instead of two writers
//!   corrupting the shard;
//! - `shard/`: the qdrant-edge shard (config, WAL, segments) with a named cosine dense vector
//!   `dense`, a sparse vector `bm25` with the IDF modifier, and keyword payload indexes on
//!   `tenant_id` (as the tenant key), `source_id` and `url`.
//!
//! qdrant-edge is synchronous: every call runs on tokio's blocking pool, never on the async
//! threads. Reads share the shard; writes take it exclusively and flush it before they return,
//! so a write that returned `Ok` survives a crash and a reopen (qdrant-edge 0.7 does not replay
//! its WAL on load, so the flush is what makes a write durable).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams,
    EdgeVectorParams, FieldCondition, FieldIndexOperations, Filter, Fusion, JsonPath,
    KeywordIndexParams, Match, Modifier, NamedQuery, OperationError, Payload, PayloadFieldSchema,
    PayloadSchemaParams, PayloadSchemaType, PointId, PointInsertOperations, PointOperations,
    PointStructPersisted, Prefetch, QueryEnum, QueryRequest, ScoredPoint, ScoringQuery,
    ScrollRequest, SparseVector, UpdateOperation, ValueVariants, VectorInternal,
    VectorStructInternal, VectorStructPersisted, WithPayloadInterface, WithVector,
};

use super::bm25::{SPARSE_VECTOR, bm25_document, bm25_query};
use super::{
    ChunkPayload, ChunkPoint, DENSE_VECTOR, INDEXED_KEYWORDS, PAGE_FIELDS, PageRecord, RRF_K,
    SearchHit, SearchMode, SearchQuery, StoreError, VectorStore, fold_pages, parse_uuid,
    prefetch_limit, require_tenant, validate_points, validate_query,
};

const LOCK_FILE: &str = "LOCK";
const SHARD_DIR: &str = "shard";
/// Points read per scroll page (pages, counts by URL).
const SCROLL_PAGE: usize = 1_000;

/// The embedded store on qdrant-edge. Cheap to share behind an `Arc`; dropping the last
/// reference flushes the shard and releases the lock.
#[derive(Debug)]
pub struct EdgeStore {
    inner: Arc<Inner>,
    dimension: usize,
    path: PathBuf,
}

#[derive(Debug)]
struct Inner {
    // Declared before `_lock` so the shard is flushed and closed before the lock is released.
    shard: RwLock<EdgeShard>,
    _lock: File,
}

/// Why qdrant-edge failed, before it becomes a [`StoreError`].
#[derive(Debug, thiserror::Error)]
enum EdgeError {
    #[error("{0}")]
    Operation(#[from] OperationError),
    #[error("store directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl From<EdgeError> for StoreError {
    fn from(err: EdgeError) -> Self {
        match err {
            EdgeError::Operation(
                ref op @ (OperationError::WrongVectorDimension { .. }
                | OperationError::ValidationError { .. }
                | OperationError::WrongSparse
                | OperationError::WrongMulti
                | OperationError::VectorNameNotExists { .. }),
            ) => StoreError::Invalid(op.to_string()),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

fn op_err(err: OperationError) -> StoreError {
    EdgeError::from(err).into()
}

impl EdgeStore {
    /// Opens (or creates) the store under `dir`, holding its lock until dropped. Blocks while it
    /// loads the shard: from async code use [`EdgeStore::open_async`].
    ///
    /// Errors: [`StoreError::Locked`] when another process (or another open store) holds `dir`,
    /// [`StoreError::Mismatch`] when the stored vectors have another dimension.
    pub fn open(dir: &Path, dimension: usize) -> Result<Self, StoreError> {
        if dimension == 0 {
            return Err(StoreError::Invalid("dimension must be at least 1".into()));
        }
        let io = |source: std::io::Error| -> StoreError {
            EdgeError::Io {
                path: dir.display().to_string(),
                source,
            }
            .into()
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: dir.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(io(err)),
        }

        let shard_dir = dir.join(SHARD_DIR);
        let shard = if shard_dir.join("edge_config.json").exists() {
            let shard = EdgeShard::load(&shard_dir, None).map_err(op_err)?;
            check_config(&shard.config(), dimension)?;
            shard
        } else {
            std::fs::create_dir_all(&shard_dir).map_err(io)?;
            EdgeShard::new(&shard_dir, shard_config(dimension)).map_err(op_err)?
        };
        ensure_payload_indexes(&shard)?;
        tracing::info!(path = %dir.display(), dimension, "opened the embedded vector store");
        Ok(EdgeStore {
            inner: Arc::new(Inner {
                shard: RwLock::new(shard),
                _lock: lock,
            }),
            dimension,
            path: dir.to_owned(),
        })
    }

    /// [`EdgeStore::open`] on the blocking pool.
    pub async fn open_async(dir: &Path, dimension: usize) -> Result<Self, StoreError> {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || EdgeStore::open(&dir, dimension))
            .await
            .map_err(|e| StoreError::from(EdgeError::from(e)))?
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs qdrant-edge's optimizers to completion (merging segments, building the HNSW index
    /// once a segment is past the indexing threshold). Searches work without it, by exact scan of
    /// the unindexed segment; call it after a large ingest. Blocks writers while it runs.
    pub async fn optimize(&self) -> Result<bool, StoreError> {
        self.write(|shard| {
            let optimized = shard.optimize().map_err(op_err)?;
            shard.flush();
            Ok(optimized)
        })
        .await
    }

    /// Number of points in the shard across tenants (approximate, from segment statistics).
    pub async fn approximate_points(&self) -> Result<usize, StoreError> {
        self.read(|shard| Ok(shard.info().points_count)).await
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&EdgeShard) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let shard = inner.shard.read().unwrap_or_else(|p| p.into_inner());
            f(&shard)
        })
        .await
        .map_err(|e| StoreError::from(EdgeError::from(e)))?
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&EdgeShard) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let shard = inner.shard.write().unwrap_or_else(|p| p.into_inner());
            f(&shard)
        })
        .await
        .map_err(|e| StoreError::from(EdgeError::from(e)))?
    }

    /// Deletes every point matching `filter`; returns how many there were. Runs under the write
    /// lock, so the count is exact.
    async fn delete_matching(&self, filter: Filter) -> Result<u64, StoreError> {
        self.write(move |shard| {
            let count = shard
                .count(CountRequest {
                    filter: Some(filter.clone()),
                    exact: true,
                })
                .map_err(op_err)?;
            if count == 0 {
                return Ok(0);
            }
            shard
                .update(UpdateOperation::PointOperation(
                    PointOperations::DeletePointsByFilter(filter),
                ))
                .map_err(op_err)?;
            shard.flush();
            Ok(count as u64)
        })
        .await
    }
}

fn shard_config(dimension: usize) -> EdgeConfig {
    EdgeConfig::builder()
        .vector(
            DENSE_VECTOR,
            EdgeVectorParams::builder(dimension, Distance::Cosine).build(),
        )
        .sparse_vector(
            SPARSE_VECTOR,
            EdgeSparseVectorParams::builder()
                .modifier(Modifier::Idf)
                .build(),
        )
        .build()
}

fn check_config(config: &EdgeConfig, dimension: usize) -> Result<(), StoreError> {
    let dense = config.vectors.get(DENSE_VECTOR).ok_or_else(|| {
        StoreError::Mismatch(format!("the stored shard has no {DENSE_VECTOR:?} vector"))
    })?;
    if dense.size != dimension || dense.distance != Distance::Cosine {
        return Err(StoreError::Mismatch(format!(
            "the stored vectors have {} dimensions ({:?}), the embedder makes {dimension} (cosine); \
             reindex into a new data dir or use the same model",
            dense.size, dense.distance
        )));
    }
    let sparse_ok = config
        .sparse_vectors
        .get(SPARSE_VECTOR)
        .is_some_and(|s| s.modifier == Some(Modifier::Idf));
    if !sparse_ok {
        return Err(StoreError::Mismatch(format!(
            "the stored shard has no {SPARSE_VECTOR:?} sparse vector with the IDF modifier"
        )));
    }
    Ok(())
}

fn json_path(key: &str) -> Result<JsonPath, StoreError> {
    JsonPath::try_from(key).map_err(|()| StoreError::Backend(format!("bad payload key {key:?}")))
}

/// Keyword indexes on the filtered keys, created where missing (they persist with the segments).
fn ensure_payload_indexes(shard: &EdgeShard) -> Result<(), StoreError> {
    let existing = shard.info().payload_schema;
    for key in INDEXED_KEYWORDS {
        let path = json_path(key)?;
        if existing.contains_key(&path) {
            continue;
        }
        let schema = if key == "tenant_id" {
            PayloadFieldSchema::FieldParams(PayloadSchemaParams::Keyword(KeywordIndexParams {
                r#type: Default::default(),
                is_tenant: Some(true),
                on_disk: None,
                enable_hnsw: None,
            }))
        } else {
            PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword)
        };
        shard
            .update(UpdateOperation::FieldIndexOperation(
                FieldIndexOperations::CreateIndex(CreateIndex {
                    field_name: path,
                    field_schema: Some(schema),
                }),
            ))
            .map_err(op_err)?;
    }
    shard.flush();
    Ok(())
}

fn keyword(key: &str, value: &str) -> Result<Condition, StoreError> {
    Ok(Condition::Field(FieldCondition::new_match(
        json_path(key)?,
        Match::new_value(ValueVariants::String(value.to_owned())),
    )))
}

/// The must-filter of every read and delete: the tenant, and the source and URL when given.
fn scope(
    tenant_id: &str,
    source_id: Option<&str>,
    url: Option<&str>,
) -> Result<Filter, StoreError> {
    let mut must = vec![keyword("tenant_id", tenant_id)?];
    if let Some(source_id) = source_id {
        must.push(keyword("source_id", source_id)?);
    }
    if let Some(url) = url {
        must.push(keyword("url", url)?);
    }
    Ok(Filter {
        should: None,
        min_should: None,
        must: Some(must),
        must_not: None,
    })
}

fn to_point(point: ChunkPoint) -> Result<PointStructPersisted, StoreError> {
    let id = PointId::Uuid(parse_uuid(&point.id)?);
    let sparse = bm25_document(&point.payload)?;
    let mut vectors = std::collections::HashMap::new();
    vectors.insert(DENSE_VECTOR.to_owned(), VectorInternal::Dense(point.dense));
    if !sparse.is_empty() {
        let sparse = SparseVector::new(sparse.indices, sparse.values)
            .map_err(|e| StoreError::Backend(format!("BM25 vector: {e}")))?;
        vectors.insert(SPARSE_VECTOR.to_owned(), VectorInternal::Sparse(sparse));
    }
    let serde_json::Value::Object(map) = serde_json::to_value(&point.payload)
        .map_err(|e| StoreError::Backend(format!("payload encoding: {e}")))?
    else {
        return Err(StoreError::Backend("payload is not a JSON object".into()));
    };
    Ok(PointStructPersisted {
        id,
        vector: VectorStructPersisted::from(VectorStructInternal::Named(vectors)),
        payload: Some(Payload(map)),
    })
}

fn point_id_string(id: &PointId) -> String {
    match id {
        PointId::Uuid(uuid) => uuid.to_string(),
        PointId::NumId(n) => n.to_string(),
    }
}

fn to_hit(point: ScoredPoint) -> Option<SearchHit> {
    let chunk_id = point_id_string(&point.id);
    let map = point.payload?.0;
    match serde_json::from_value::<ChunkPayload>(serde_json::Value::Object(map)) {
        Ok(payload) => Some(SearchHit {
            chunk_id,
            score: point.score,
            payload,
        }),
        Err(err) => {
            // Never the payload itself: it holds customer text.
            tracing::warn!(chunk_id, error = %err, "skipping a stored chunk whose payload does not decode");
            None
        }
    }
}

fn nearest(vector: VectorInternal, using: &str) -> ScoringQuery {
    ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery {
        query: vector,
        using: Some(using.to_owned()),
    }))
}

/// The qdrant-edge query for a search, or `None` when it cannot match anything (a BM25 search
/// whose text has no indexable token).
fn build_query(query: &SearchQuery, filter: Filter) -> Result<Option<QueryRequest>, StoreError> {
    let sparse = match query.mode {
        SearchMode::Dense => None,
        SearchMode::Bm25 | SearchMode::Hybrid => {
            let sparse = bm25_query(&query.text)?;
            if sparse.is_empty() {
                None
            } else {
                Some(
                    SparseVector::new(sparse.indices, sparse.values)
                        .map_err(|e| StoreError::Backend(format!("BM25 query vector: {e}")))?,
                )
            }
        }
    };
    let dense = || VectorInternal::Dense(query.dense.clone());
    let request = |prefetches: Vec<Prefetch>, scoring: ScoringQuery| QueryRequest {
        prefetches,
        query: Some(scoring),
        filter: Some(filter.clone()),
        score_threshold: None,
        limit: query.limit,
        offset: 0,
        params: None,
        with_vector: WithVector::Bool(false),
        with_payload: WithPayloadInterface::Bool(true),
    };
    Ok(match (query.mode, sparse) {
        (SearchMode::Bm25, None) => None,
        (SearchMode::Bm25, Some(sparse)) => Some(request(
            vec![],
            nearest(VectorInternal::Sparse(sparse), SPARSE_VECTOR),
        )),
        // Hybrid without keywords (blank or stopword-only text) is a dense search.
        (SearchMode::Dense | SearchMode::Hybrid, None) => {
            Some(request(vec![], nearest(dense(), DENSE_VECTOR)))
        }
        (SearchMode::Dense | SearchMode::Hybrid, Some(sparse)) => {
            let candidates = prefetch_limit(query.limit);
            let prefetch = |scoring: ScoringQuery| Prefetch {
                prefetches: vec![],
                query: Some(scoring),
                limit: candidates,
                params: None,
                filter: Some(filter.clone()),
                score_threshold: None,
            };
            Some(request(
                vec![
                    prefetch(nearest(dense(), DENSE_VECTOR)),
                    prefetch(nearest(VectorInternal::Sparse(sparse), SPARSE_VECTOR)),
                ],
                ScoringQuery::Fusion(Fusion::Rrf {
                    k: RRF_K as usize,
                    weights: None,
                }),
            ))
        }
    })
}

/// Every point of a filter, `fields` of its payload only, page by page.
fn scroll_all(
    shard: &EdgeShard,
    filter: &Filter,
    fields: &[&str],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, StoreError> {
    let fields = fields
        .iter()
        .map(|f| json_path(f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    let mut offset = None;
    loop {
        let (records, next) = shard
            .scroll(ScrollRequest {
                offset,
                limit: Some(SCROLL_PAGE),
                filter: Some(filter.clone()),
                with_payload: Some(WithPayloadInterface::Fields(fields.clone())),
                with_vector: WithVector::Bool(false),
                order_by: None,
            })
            .map_err(op_err)?;
        rows.extend(records.into_iter().filter_map(|r| r.payload.map(|p| p.0)));
        match next {
            Some(next) => offset = Some(next),
            None => return Ok(rows),
        }
    }
}

#[async_trait]
impl VectorStore for EdgeStore {
    fn backend(&self) -> &'static str {
        "qdrant-edge"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        validate_points(&points, self.dimension)?;
        self.write(move |shard| {
            // BM25 vectors are computed here, on the blocking pool, not on the async threads.
            let points = points
                .into_iter()
                .map(to_point)
                .collect::<Result<Vec<_>, _>>()?;
            shard
                .update(UpdateOperation::PointOperation(
                    PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
                ))
                .map_err(op_err)?;
            shard.flush();
            Ok(())
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
        validate_query(query, self.dimension)?;
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let query = query.clone();
        self.read(move |shard| {
            let filter = scope(&query.tenant_id, query.source_id.as_deref(), None)?;
            let Some(request) = build_query(&query, filter)? else {
                return Ok(Vec::new());
            };
            let points = shard.query(request).map_err(op_err)?;
            let mut hits: Vec<SearchHit> = points.into_iter().filter_map(to_hit).collect();
            // Defence in depth: the filter already scoped the query to the tenant (and source).
            hits.retain(|h| {
                h.payload.tenant_id == query.tenant_id
                    && query
                        .source_id
                        .as_ref()
                        .is_none_or(|s| *s == h.payload.source_id)
            });
            hits.sort_by_key(|h| std::cmp::Reverse(OrderedFloat(h.score)));
            hits.truncate(query.limit);
            Ok(hits)
        })
        .await
    }

    async fn pages(&self, tenant_id: &str, source_id: &str) -> Result<Vec<PageRecord>, StoreError> {
        require_tenant(tenant_id)?;
        let filter = scope(tenant_id, Some(source_id), None)?;
        self.read(move |shard| Ok(fold_pages(scroll_all(shard, &filter, &PAGE_FIELDS)?)))
            .await
    }

    async fn delete_page(
        &self,
        tenant_id: &str,
        source_id: &str,
        url: &str,
    ) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.delete_matching(scope(tenant_id, Some(source_id), Some(url))?)
            .await
    }

    async fn delete_source(&self, tenant_id: &str, source_id: &str) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.delete_matching(scope(tenant_id, Some(source_id), None)?)
            .await
    }

    async fn delete_tenant(&self, tenant_id: &str) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.delete_matching(scope(tenant_id, None, None)?).await
    }

    async fn chunks(&self, tenant_id: &str) -> Result<Vec<ChunkPayload>, StoreError> {
        require_tenant(tenant_id)?;
        let filter = scope(tenant_id, None, None)?;
        self.read(move |shard| {
            Ok(super::parse_payloads(scroll_all(
                shard,
                &filter,
                &super::ALL_FIELDS,
            )?))
        })
        .await
    }

    async fn count(&self, tenant_id: &str, source_id: Option<&str>) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        let filter = scope(tenant_id, source_id, None)?;
        self.read(move |shard| {
            let count = shard
                .count(CountRequest {
                    filter: Some(filter),
                    exact: true,
                })
                .map_err(op_err)?;
            Ok(count as u64)
        })
        .await
    }
}
