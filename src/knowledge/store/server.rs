//! The Qdrant server backend over gRPC (`qdrant-client`): one collection shared by all tenants.
//!
//! The collection (default `jambo_chunks`) is created on first use with a named cosine dense
//! vector `dense` of the embedder's dimension, a sparse vector `bm25` with `Modifier::Idf`, and
//! keyword payload indexes on `tenant_id` (`is_tenant`), `source_id` and `url`; an existing
//! collection with another dense size is a [`StoreError::Mismatch`]. BM25 vectors are computed
//! in this process with the same tokenizer as the embedded store (see `bm25.rs`), so both
//! backends rank alike. Hybrid search is one Query API call: a dense and a BM25 prefetch fused
//! with RRF (k = 60), every prefetch and the query filtered by tenant.
//!
//! Writes wait for the server to apply them (`wait = true`). Delete counts are counted just
//! before the delete; a concurrent writer to the same tenant could make them approximate.
//! Needs a Qdrant server that knows the parameterised RRF (1.16 or newer).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, KeywordIndexParamsBuilder, Modifier,
    NamedVectors, PayloadIncludeSelector, PointId, PointStruct, PrefetchQueryBuilder, Query,
    QueryPointsBuilder, RrfBuilder, ScrollPointsBuilder, SparseVectorParamsBuilder,
    SparseVectorsConfigBuilder, UpsertPointsBuilder, Value, Vector, VectorInput,
    VectorParamsBuilder, VectorsConfigBuilder, point_id::PointIdOptions, vectors_config,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use tokio::sync::OnceCell;

use super::bm25::{SPARSE_VECTOR, bm25_document, bm25_query};
use super::{
    ChunkPayload, ChunkPoint, DENSE_VECTOR, INDEXED_KEYWORDS, PAGE_FIELDS, PageRecord, RRF_K,
    SearchHit, SearchMode, SearchQuery, StoreError, VectorStore, fold_pages, prefetch_limit,
    require_tenant, validate_points, validate_query,
};

/// Points per scroll page and per upsert request.
const PAGE: u32 = 1_000;

/// The Qdrant server store. Cheap to share behind an `Arc` (the client pools its channels).
pub struct QdrantServerStore {
    client: Qdrant,
    collection: String,
    dimension: usize,
    ready: OnceCell<()>,
}

impl std::fmt::Debug for QdrantServerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantServerStore")
            .field("collection", &self.collection)
            .field("dimension", &self.dimension)
            .finish_non_exhaustive()
    }
}

/// Why the server call failed, before it becomes a [`StoreError`].
#[derive(Debug, thiserror::Error)]
enum ServerError {
    #[error("{0}")]
    Client(#[from] QdrantError),
}

impl From<ServerError> for StoreError {
    fn from(err: ServerError) -> Self {
        let ServerError::Client(err) = err;
        match &err {
            QdrantError::ResponseError { status } => {
                // gRPC status codes (tonic is not a direct dependency, so by number).
                let message = format!("{}: {}", status.code(), status.message());
                match status.code() as i32 {
                    // Cancelled, Unknown, DeadlineExceeded, Aborted, Unavailable
                    1 | 2 | 4 | 10 | 14 => StoreError::Unavailable(message),
                    // InvalidArgument, OutOfRange
                    3 | 11 => StoreError::Invalid(message),
                    // PermissionDenied, Unauthenticated
                    7 | 16 => {
                        StoreError::Unavailable(format!("{message} (check the store API key)"))
                    }
                    _ => StoreError::Backend(message),
                }
            }
            QdrantError::ResourceExhaustedError { .. } => StoreError::Unavailable(err.to_string()),
            QdrantError::InvalidUri(_) => StoreError::Invalid(err.to_string()),
            _ => StoreError::Backend(err.to_string()),
        }
    }
}

fn client_err(err: QdrantError) -> StoreError {
    ServerError::from(err).into()
}

impl QdrantServerStore {
    /// A store on the collection `collection` of the server at `url` (the gRPC port, usually
    /// 6334). Does not connect: the first call does, and creates the collection if needed (or
    /// call [`QdrantServerStore::ensure_collection`]).
    pub fn connect(
        url: &str,
        api_key: Option<&str>,
        collection: &str,
        dimension: usize,
    ) -> Result<Self, StoreError> {
        if dimension == 0 {
            return Err(StoreError::Invalid("dimension must be at least 1".into()));
        }
        if collection.is_empty() {
            return Err(StoreError::Invalid("empty collection name".into()));
        }
        let client = Qdrant::from_url(url)
            .api_key(api_key.map(str::to_owned))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            // The version check prints to stdout, which carries our JSONL results.
            .skip_compatibility_check()
            .build()
            .map_err(client_err)?;
        Ok(QdrantServerStore {
            client,
            collection: collection.to_owned(),
            dimension,
            ready: OnceCell::new(),
        })
    }

    /// The collection name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Creates the collection and its payload indexes if they do not exist, and checks an
    /// existing one has the right vectors. Runs once per store; later calls return at once.
    /// The given payload fields of every point matching `filter`, page by page.
    async fn scroll_all(
        &self,
        filter: Filter,
        fields: &[&str],
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, StoreError> {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let mut rows = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let mut request = ScrollPointsBuilder::new(&self.collection)
                .filter(filter.clone())
                .limit(PAGE)
                .with_payload(PayloadIncludeSelector::new(fields.clone()))
                .with_vectors(false);
            if let Some(offset) = offset.take() {
                request = request.offset(offset);
            }
            let response = self.client.scroll(request).await.map_err(client_err)?;
            rows.extend(response.result.into_iter().map(|p| to_json(p.payload)));
            match response.next_page_offset {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        Ok(rows)
    }

    pub async fn ensure_collection(&self) -> Result<(), StoreError> {
        self.ready
            .get_or_try_init(|| self.create_or_check())
            .await
            .map(|_| ())
    }

    async fn create_or_check(&self) -> Result<(), StoreError> {
        let exists = self
            .client
            .collection_exists(&self.collection)
            .await
            .map_err(client_err)?;
        if !exists {
            let mut dense = VectorsConfigBuilder::default();
            dense.add_named_vector_params(
                DENSE_VECTOR,
                VectorParamsBuilder::new(self.dimension as u64, Distance::Cosine),
            );
            let mut sparse = SparseVectorsConfigBuilder::default();
            sparse.add_named_vector_params(
                SPARSE_VECTOR,
                SparseVectorParamsBuilder::default().modifier(Modifier::Idf),
            );
            let created = self
                .client
                .create_collection(
                    CreateCollectionBuilder::new(&self.collection)
                        .vectors_config(dense)
                        .sparse_vectors_config(sparse),
                )
                .await;
            if let Err(err) = created {
                // Another worker may have created it at the same moment.
                let exists_now = self
                    .client
                    .collection_exists(&self.collection)
                    .await
                    .map_err(client_err)?;
                if !exists_now {
                    return Err(client_err(err));
                }
            } else {
                tracing::info!(collection = %self.collection, dimension = self.dimension, "created the Qdrant collection");
            }
        }
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(client_err)?
            .result
            .ok_or_else(|| StoreError::Backend("collection info without a result".into()))?;
        self.check_params(&info)?;
        for key in INDEXED_KEYWORDS {
            if info.payload_schema.contains_key(key) {
                continue;
            }
            let mut request =
                CreateFieldIndexCollectionBuilder::new(&self.collection, key, FieldType::Keyword)
                    .wait(true);
            if key == "tenant_id" {
                request = request
                    .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(true));
            }
            self.client
                .create_field_index(request)
                .await
                .map_err(client_err)?;
        }
        Ok(())
    }

    fn check_params(&self, info: &qdrant_client::qdrant::CollectionInfo) -> Result<(), StoreError> {
        let params = info.config.as_ref().and_then(|c| c.params.as_ref());
        let dense = params
            .and_then(|p| p.vectors_config.as_ref())
            .and_then(|v| v.config.as_ref())
            .and_then(|config| match config {
                vectors_config::Config::ParamsMap(map) => map.map.get(DENSE_VECTOR).cloned(),
                vectors_config::Config::Params(_) => None,
            });
        let Some(dense) = dense else {
            return Err(StoreError::Mismatch(format!(
                "collection {} has no {DENSE_VECTOR:?} vector",
                self.collection
            )));
        };
        if dense.size != self.dimension as u64 || dense.distance != Distance::Cosine as i32 {
            return Err(StoreError::Mismatch(format!(
                "collection {} holds {}-dimension vectors, the embedder makes {} (cosine)",
                self.collection, dense.size, self.dimension
            )));
        }
        let sparse_ok = params
            .and_then(|p| p.sparse_vectors_config.as_ref())
            .and_then(|s| s.map.get(SPARSE_VECTOR))
            .is_some_and(|s| s.modifier == Some(Modifier::Idf as i32));
        if !sparse_ok {
            return Err(StoreError::Mismatch(format!(
                "collection {} has no {SPARSE_VECTOR:?} sparse vector with the IDF modifier",
                self.collection
            )));
        }
        Ok(())
    }

    async fn count_matching(&self, filter: Filter) -> Result<u64, StoreError> {
        let response = self
            .client
            .count(
                CountPointsBuilder::new(&self.collection)
                    .filter(filter)
                    .exact(true),
            )
            .await
            .map_err(client_err)?;
        Ok(response.result.map_or(0, |r| r.count))
    }

    async fn delete_matching(&self, filter: Filter) -> Result<u64, StoreError> {
        self.ensure_collection().await?;
        let count = self.count_matching(filter.clone()).await?;
        if count == 0 {
            return Ok(0);
        }
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(filter)
                    .wait(true),
            )
            .await
            .map_err(client_err)?;
        Ok(count)
    }
}

/// The must-filter of every read and delete: the tenant, and the source and URL when given.
fn scope(tenant_id: &str, source_id: Option<&str>, url: Option<&str>) -> Filter {
    let mut must = vec![Condition::matches("tenant_id", tenant_id.to_owned())];
    if let Some(source_id) = source_id {
        must.push(Condition::matches("source_id", source_id.to_owned()));
    }
    if let Some(url) = url {
        must.push(Condition::matches("url", url.to_owned()));
    }
    Filter::must(must)
}

fn to_point(point: ChunkPoint) -> Result<PointStruct, StoreError> {
    let sparse = bm25_document(&point.payload)?;
    let mut vectors =
        NamedVectors::default().add_vector(DENSE_VECTOR, Vector::new_dense(point.dense));
    if !sparse.is_empty() {
        vectors = vectors.add_vector(
            SPARSE_VECTOR,
            Vector::new_sparse(sparse.indices, sparse.values),
        );
    }
    let json = serde_json::to_value(&point.payload)
        .map_err(|e| StoreError::Backend(format!("payload encoding: {e}")))?;
    let payload = Payload::try_from(json)
        .map_err(|_| StoreError::Backend("payload is not a JSON object".into()))?;
    Ok(PointStruct::new(point.id, vectors, payload))
}

fn id_string(id: Option<PointId>) -> String {
    match id.and_then(|id| id.point_id_options) {
        Some(PointIdOptions::Uuid(uuid)) => uuid,
        Some(PointIdOptions::Num(n)) => n.to_string(),
        None => String::new(),
    }
}

fn to_json(payload: HashMap<String, Value>) -> serde_json::Map<String, serde_json::Value> {
    serde_json::Map::from(Payload::from(payload))
}

#[async_trait]
impl VectorStore for QdrantServerStore {
    fn backend(&self) -> &'static str {
        "qdrant"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        validate_points(&points, self.dimension)?;
        self.ensure_collection().await?;
        // Tokenising is CPU work: off the async threads.
        let points = tokio::task::spawn_blocking(move || {
            points
                .into_iter()
                .map(to_point)
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))??;
        for batch in points.chunks(PAGE as usize) {
            self.client
                .upsert_points(
                    UpsertPointsBuilder::new(&self.collection, batch.to_vec()).wait(true),
                )
                .await
                .map_err(client_err)?;
        }
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
        validate_query(query, self.dimension)?;
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        self.ensure_collection().await?;
        let sparse = match query.mode {
            SearchMode::Dense => None,
            SearchMode::Bm25 | SearchMode::Hybrid => {
                Some(bm25_query(&query.text)?).filter(|s| !s.is_empty())
            }
        };
        let filter = scope(&query.tenant_id, query.source_id.as_deref(), None);
        let base = QueryPointsBuilder::new(&self.collection)
            .filter(filter.clone())
            .limit(query.limit as u64)
            .with_payload(true);
        let request = match (query.mode, sparse) {
            (SearchMode::Bm25, None) => return Ok(Vec::new()),
            (SearchMode::Bm25, Some(sparse)) => base
                .query(Query::new_nearest(VectorInput::new_sparse(
                    sparse.indices,
                    sparse.values,
                )))
                .using(SPARSE_VECTOR),
            (SearchMode::Dense | SearchMode::Hybrid, None) => base
                .query(Query::new_nearest(query.dense.clone()))
                .using(DENSE_VECTOR),
            (SearchMode::Dense | SearchMode::Hybrid, Some(sparse)) => {
                let candidates = prefetch_limit(query.limit) as u64;
                base.add_prefetch(
                    PrefetchQueryBuilder::default()
                        .query(Query::new_nearest(query.dense.clone()))
                        .using(DENSE_VECTOR)
                        .filter(filter.clone())
                        .limit(candidates),
                )
                .add_prefetch(
                    PrefetchQueryBuilder::default()
                        .query(Query::new_nearest(VectorInput::new_sparse(
                            sparse.indices,
                            sparse.values,
                        )))
                        .using(SPARSE_VECTOR)
                        .filter(filter)
                        .limit(candidates),
                )
                .query(Query::new_rrf(RrfBuilder::with_k(RRF_K)))
            }
        };
        let response = self.client.query(request).await.map_err(client_err)?;
        let mut hits = Vec::with_capacity(response.result.len());
        for point in response.result {
            let chunk_id = id_string(point.id);
            match serde_json::from_value::<ChunkPayload>(serde_json::Value::Object(to_json(
                point.payload,
            ))) {
                Ok(payload) => hits.push(SearchHit {
                    chunk_id,
                    score: point.score,
                    payload,
                }),
                Err(err) => {
                    // Never the payload itself: it holds customer text.
                    tracing::warn!(chunk_id, error = %err, "skipping a stored chunk whose payload does not decode");
                }
            }
        }
        // Defence in depth: the filter already scoped the query to the tenant (and source).
        hits.retain(|h| {
            h.payload.tenant_id == query.tenant_id
                && query
                    .source_id
                    .as_ref()
                    .is_none_or(|s| *s == h.payload.source_id)
        });
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(query.limit);
        Ok(hits)
    }

    async fn pages(&self, tenant_id: &str, source_id: &str) -> Result<Vec<PageRecord>, StoreError> {
        require_tenant(tenant_id)?;
        self.ensure_collection().await?;
        let rows = self
            .scroll_all(scope(tenant_id, Some(source_id), None), &PAGE_FIELDS)
            .await?;
        Ok(fold_pages(rows))
    }

    async fn chunks(&self, tenant_id: &str) -> Result<Vec<ChunkPayload>, StoreError> {
        require_tenant(tenant_id)?;
        self.ensure_collection().await?;
        let rows = self
            .scroll_all(scope(tenant_id, None, None), &super::ALL_FIELDS)
            .await?;
        Ok(super::parse_payloads(rows))
    }

    async fn delete_page(
        &self,
        tenant_id: &str,
        source_id: &str,
        url: &str,
    ) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.delete_matching(scope(tenant_id, Some(source_id), Some(url)))
            .await
    }

    async fn delete_source(&self, tenant_id: &str, source_id: &str) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.delete_matching(scope(tenant_id, Some(source_id), None))
            .await
    }

    async fn delete_tenant(&self, tenant_id: &str) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.delete_matching(scope(tenant_id, None, None)).await
    }

    async fn count(&self, tenant_id: &str, source_id: Option<&str>) -> Result<u64, StoreError> {
        require_tenant(tenant_id)?;
        self.ensure_collection().await?;
        self.count_matching(scope(tenant_id, source_id, None)).await
    }
}
