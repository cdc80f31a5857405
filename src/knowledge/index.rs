//! Indexing one knowledge source end to end: crawl (or read files), extract, drop boilerplate,
//! chunk, tag PII, embed and upsert, incrementally; and deleting a source.
//!
//! Incremental: the store's page records give the crawler its conditional-request validators and
//! content hashes, so unchanged pages are neither re-embedded nor rewritten; pages gone from the
//! source (404/410, or absent from a crawl that ran to the end) are removed. Chunk ids are
//! deterministic, so re-running a job rewrites the same points.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use super::chunk::Chunker;
use super::crawl::{
    CrawlConfig, CrawlError, CrawlEvent, CrawlRequest, CrawlStart, Crawler, NetworkPolicy,
    PreviousPage,
};
use super::extract::{BoilerplateFilter, Document, extract_bytes, extract_file};
use super::store::{ChunkPayload, ChunkPoint, StoreError, VectorStore, chunk_id};
use crate::contract::job::ReindexMode;
use crate::contract::tenant::TenantSettings;
use crate::models::{EmbedError, Embedder};

/// A source as a job or the `ingest` command names it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    pub id: String,
    /// `http(s)://` page or sitemap (a URL ending in `.xml` is read as a sitemap).
    pub url: Option<String>,
    /// A file or folder of `.html .md .txt .pdf`.
    pub path: Option<PathBuf>,
    pub max_pages: Option<usize>,
    pub max_depth: Option<usize>,
}

/// The `source.progress` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndexProgress {
    pub source_id: String,
    pub pages_seen: usize,
    pub pages_indexed: usize,
    pub pages_unchanged: usize,
    pub pages_failed: usize,
    pub chunks: usize,
}

/// One page that could not be indexed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageFailure {
    pub url: String,
    pub reason: String,
}

/// The `source.indexed` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndexReport {
    pub source_id: String,
    pub pages_seen: usize,
    pub pages_indexed: usize,
    pub pages_unchanged: usize,
    pub pages_removed: usize,
    pub pages_failed: usize,
    /// Chunks written by this run.
    pub chunks: usize,
    /// Chunks of the source in the store after this run.
    pub chunks_total: u64,
    pub failures: Vec<PageFailure>,
    /// PII entity types found in the written chunks, with counts (tags only, no values).
    pub pii: BTreeMap<String, u32>,
    /// The embedding model the chunks carry.
    pub embedding_model: String,
    pub elapsed_ms: u64,
}

/// Why a source could not be indexed, and how a job treats it.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The source itself is wrong (no URL or path, bad URL, missing folder): dead-letter.
    #[error("invalid source: {0}")]
    InvalidSource(String),
    #[error(transparent)]
    Crawl(#[from] CrawlError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IndexError {
    /// Whether running the job again later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            IndexError::InvalidSource(_) => false,
            IndexError::Crawl(CrawlError::Client(_)) => true,
            IndexError::Crawl(CrawlError::InvalidStartUrl { .. })
            | IndexError::Crawl(CrawlError::InvalidPattern { .. }) => false,
            IndexError::Embed(err) => err.is_retryable(),
            IndexError::Store(err) => err.is_retryable(),
        }
    }
}

/// Where the chunks of one tenant go and how they are embedded.
pub struct IndexTarget<'a> {
    pub tenant: &'a TenantSettings,
    pub embedder: &'a dyn Embedder,
    pub store: &'a dyn VectorStore,
}

/// Finds personal data in chunk text. The composition root hands the indexer one (the privacy
/// layer's redactor); knowledge knows only this trait.
pub trait PiiScanner: Send + Sync {
    /// For each text of one page: the types (`PERSON`, `EMAIL`, ...) of the personal data in it,
    /// one per entity, and, when `redact` is set and it holds any, the text with placeholders
    /// instead (numbered across the page, so a value gets the same placeholder in each chunk).
    /// CPU-bound: called off the async threads.
    fn scan(&self, texts: &[&str], redact: bool) -> Vec<ScannedText>;
}

/// What [`PiiScanner::scan`] found in one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScannedText {
    pub types: Vec<String>,
    pub redacted: Option<String>,
}

/// The source indexer. One per worker; stateless between calls except for the per-source
/// boilerplate state files under `state_dir`.
pub struct Indexer {
    crawl: CrawlConfig,
    chunker: Arc<Chunker>,
    pii: Arc<dyn PiiScanner>,
    state_dir: PathBuf,
    /// Texts embedded per call (a multiple of the embedder's batch keeps every core busy).
    embed_batch: usize,
}

/// A page ready to chunk.
struct PageIn {
    url: String,
    document: Document,
    page_hash: String,
    etag: Option<String>,
    last_modified: Option<String>,
    sitemap_lastmod: Option<String>,
    fetched_at: SystemTime,
    previously_stored: bool,
}

/// What reading the source produced.
#[derive(Default)]
struct Gathered {
    pages: Vec<PageIn>,
    unchanged: HashSet<String>,
    failures: Vec<PageFailure>,
    /// URLs known to be gone (404/410, robots), to remove.
    gone: HashSet<String>,
    /// True when every page of the source was visited, so absent pages may be removed.
    complete: bool,
    pages_seen: usize,
}

impl Indexer {
    pub fn new(
        crawl: CrawlConfig,
        chunker: Arc<Chunker>,
        pii: Arc<dyn PiiScanner>,
        state_dir: PathBuf,
    ) -> Indexer {
        Indexer {
            crawl,
            chunker,
            pii,
            state_dir,
            embed_batch: 256,
        }
    }

    /// Indexes a source. `progress` is called after every page (cheap: the caller rate-limits
    /// what it publishes). `allow_private_network` lets the crawl reach loopback and private
    /// addresses (tests, intranet help centers).
    pub async fn index(
        &self,
        target: IndexTarget<'_>,
        source: &SourceSpec,
        mode: ReindexMode,
        allow_private_network: bool,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<IndexReport, IndexError> {
        let started = Instant::now();
        let tenant_id = target.tenant.tenant_id.as_str();
        if source.id.trim().is_empty() {
            return Err(IndexError::InvalidSource("source.id is empty".into()));
        }
        let stored: HashMap<String, PreviousPage> = target
            .store
            .pages(tenant_id, &source.id)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.url,
                    PreviousPage {
                        etag: p.etag,
                        last_modified: p.last_modified,
                        content_hash: Some(p.page_hash),
                        sitemap_lastmod: p.sitemap_lastmod,
                    },
                )
            })
            .collect();
        let previous = match mode {
            ReindexMode::Incremental => stored.clone(),
            ReindexMode::Full => HashMap::new(),
        };
        let mut counters = IndexProgress {
            source_id: source.id.clone(),
            ..IndexProgress::default()
        };
        let gathered = match (&source.url, &source.path) {
            (Some(url), None) => {
                self.crawl_pages(
                    url,
                    source,
                    previous,
                    &stored,
                    allow_private_network,
                    &mut counters,
                    progress,
                )
                .await?
            }
            (None, Some(path)) => read_files(path, &previous, &stored, &mut counters, progress)?,
            (Some(_), Some(_)) => {
                return Err(IndexError::InvalidSource(
                    "give either source.url or source.path, not both".into(),
                ));
            }
            (None, None) => {
                return Err(IndexError::InvalidSource(
                    "source needs a url or a path".into(),
                ));
            }
        };

        // Boilerplate learned from this run's pages, plus what earlier runs learned (an
        // incremental run may see only a few changed pages).
        let state_path = self.state_path(tenant_id, &source.id);
        let mut filter = match mode {
            ReindexMode::Incremental => load_filter(&state_path).unwrap_or_default(),
            ReindexMode::Full => BoilerplateFilter::default(),
        };
        for page in &gathered.pages {
            filter.observe(&page.document);
        }
        save_filter(&state_path, &filter);

        let mut report = IndexReport {
            source_id: source.id.clone(),
            pages_seen: gathered.pages_seen,
            pages_unchanged: gathered.unchanged.len(),
            failures: gathered.failures.clone(),
            pages_failed: gathered.failures.len(),
            embedding_model: target.embedder.model_id().to_owned(),
            ..IndexReport::default()
        };
        let mut batch = PendingBatch::default();
        let mut indexed: HashSet<String> = HashSet::new();
        for page in gathered.pages {
            indexed.insert(page.url.clone());
            let document = filter.remove_from(page.document);
            if page.previously_stored {
                target
                    .store
                    .delete_page(tenant_id, &source.id, &page.url)
                    .await?;
            }
            // Chunking and the PII scan are CPU work: off the async threads.
            let chunker = self.chunker.clone();
            let pii = self.pii.clone();
            let redact = target.tenant.ai.redact_knowledge;
            let (document, chunks, scanned) = crate::cpu::run(move || {
                let chunks = chunker.chunk(&document);
                let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
                let scanned = pii.scan(&texts, redact);
                (document, chunks, scanned)
            })
            .await;
            let fetched_at = rfc3339(page.fetched_at);
            for (chunk, scan) in chunks.into_iter().zip(scanned) {
                let mut tags: BTreeSet<String> = BTreeSet::new();
                for kind in &scan.types {
                    tags.insert(kind.clone());
                    *report.pii.entry(kind.clone()).or_default() += 1;
                }
                let text = scan.redacted.unwrap_or_else(|| chunk.text.clone());
                let context = chunk.context();
                let embed_text = if context.is_empty() {
                    text.clone()
                } else {
                    format!("{context}\n\n{text}")
                };
                let index = u32::try_from(chunk.index).unwrap_or(u32::MAX);
                batch.texts.push(embed_text);
                batch.points.push(ChunkPoint {
                    id: chunk_id(tenant_id, &source.id, &page.url, index),
                    dense: Vec::new(),
                    payload: ChunkPayload {
                        tenant_id: tenant_id.to_owned(),
                        source_id: source.id.clone(),
                        url: page.url.clone(),
                        title: chunk.title.clone().or_else(|| document.title.clone()),
                        heading_path: chunk.heading_path.clone(),
                        content_hash: sha256_hex(text.as_bytes()),
                        text,
                        token_count: u32::try_from(chunk.token_count).unwrap_or(u32::MAX),
                        chunk_index: index,
                        page_hash: page.page_hash.clone(),
                        etag: page.etag.clone(),
                        last_modified: page.last_modified.clone(),
                        sitemap_lastmod: page.sitemap_lastmod.clone(),
                        language: document.language.clone(),
                        fetched_at: fetched_at.clone(),
                        pii_tags: tags.into_iter().collect(),
                        training_opt_in: target.tenant.ai.training_opt_in,
                    },
                });
            }
            report.pages_indexed += 1;
            counters.pages_indexed = report.pages_indexed;
            if batch.texts.len() >= self.embed_batch {
                report.chunks += batch.flush(&target).await?;
                counters.chunks = report.chunks;
                progress(counters.clone());
            }
        }
        report.chunks += batch.flush(&target).await?;

        // Removal: pages known gone, and when the whole source was visited, every stored page
        // this run neither indexed nor found unchanged nor failed to reach.
        let kept: HashSet<&str> = report
            .failures
            .iter()
            .map(|f| f.url.as_str())
            .filter(|url| !gathered.gone.contains(*url))
            .collect();
        for url in stored.keys() {
            let seen_now = gathered.unchanged.contains(url)
                || indexed.contains(url)
                || kept.contains(url.as_str());
            let remove = gathered.gone.contains(url) || (gathered.complete && !seen_now);
            if remove && target.store.delete_page(tenant_id, &source.id, url).await? > 0 {
                report.pages_removed += 1;
            }
        }
        report.chunks_total = target.store.count(tenant_id, Some(&source.id)).await?;
        report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(report)
    }

    /// Removes every chunk of a source and its state; returns how many chunks were removed.
    pub async fn delete_source(
        &self,
        store: &dyn VectorStore,
        tenant_id: &str,
        source_id: &str,
    ) -> Result<u64, IndexError> {
        let removed = store.delete_source(tenant_id, source_id).await?;
        let _ = std::fs::remove_file(self.state_path(tenant_id, source_id));
        Ok(removed)
    }

    /// Removes the state of every source of a tenant (after its chunks were deleted).
    pub fn forget_tenant(&self, tenant_id: &str) {
        let _ = std::fs::remove_dir_all(self.state_dir.join(safe_name(tenant_id)));
    }

    fn state_path(&self, tenant_id: &str, source_id: &str) -> PathBuf {
        self.state_dir
            .join(safe_name(tenant_id))
            .join(format!("{}.boilerplate.json", safe_name(source_id)))
    }

    #[allow(clippy::too_many_arguments)]
    async fn crawl_pages(
        &self,
        url: &str,
        source: &SourceSpec,
        previous: HashMap<String, PreviousPage>,
        stored: &HashMap<String, PreviousPage>,
        allow_private_network: bool,
        counters: &mut IndexProgress,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<Gathered, IndexError> {
        let mut config = self.crawl.clone();
        if allow_private_network {
            config.network = NetworkPolicy::AllowPrivate;
        }
        let crawler = Crawler::new(config)?;
        let lower = url.to_ascii_lowercase();
        let start = if lower.ends_with(".xml") || lower.ends_with(".xml.gz") {
            CrawlStart::Sitemap(url.to_owned())
        } else {
            CrawlStart::Url(url.to_owned())
        };
        let mut request = CrawlRequest::new(start);
        if let Some(n) = source.max_pages {
            request.max_pages = n;
        }
        if let Some(n) = source.max_depth {
            request.max_depth = n;
        }
        request.previous = previous;
        let (tx, mut rx) = mpsc::channel(64);
        let crawl = crawler.crawl(request, tx);
        let mut gathered = Gathered::default();
        let receive = async {
            while let Some(event) = rx.recv().await {
                match event {
                    CrawlEvent::Page(page) => {
                        let body = page.body.clone();
                        let content_type = page.content_type.clone();
                        let page_url = page.url.clone();
                        let extracted = tokio::task::spawn_blocking(move || {
                            extract_bytes(&body, Some(&content_type), &page_url)
                        })
                        .await;
                        match extracted {
                            Ok(Ok(document)) if !document.is_empty() => {
                                gathered.pages.push(PageIn {
                                    previously_stored: stored.contains_key(&page.url),
                                    url: page.url,
                                    document,
                                    page_hash: page.content_hash,
                                    etag: page.etag,
                                    last_modified: page.last_modified,
                                    sitemap_lastmod: page.sitemap_lastmod,
                                    fetched_at: page.fetched_at,
                                })
                            }
                            Ok(Ok(_)) => gathered.failures.push(PageFailure {
                                url: page.url,
                                reason: "empty page: no text content".into(),
                            }),
                            Ok(Err(err)) => gathered.failures.push(PageFailure {
                                url: page.url,
                                reason: err.to_string(),
                            }),
                            Err(_) => gathered.failures.push(PageFailure {
                                url: page.url,
                                reason: "extraction failed".into(),
                            }),
                        }
                    }
                    CrawlEvent::Unchanged(page) => {
                        gathered.unchanged.insert(page.url);
                    }
                    CrawlEvent::Failed(failure) => {
                        if failure.reason.is_gone() {
                            gathered.gone.insert(failure.url.clone());
                        }
                        gathered.failures.push(PageFailure {
                            url: failure.url,
                            reason: failure.reason.to_string(),
                        });
                    }
                    CrawlEvent::Progress(p) => {
                        counters.pages_seen = p.pages_seen;
                        counters.pages_unchanged = p.pages_unchanged;
                        counters.pages_failed = gathered.failures.len();
                        counters.pages_indexed = gathered.pages.len();
                        progress(counters.clone());
                    }
                }
            }
        };
        let (report, ()) = tokio::join!(crawl, receive);
        let report = report?;
        gathered.complete = report.stopped.is_none();
        gathered.pages_seen = report.progress.pages_seen;
        if report.failures_total > report.failures.len() {
            gathered.complete = false; // some failures are not listed: keep their pages
        }
        Ok(gathered)
    }
}

/// Chunks waiting to be embedded and written.
#[derive(Default)]
struct PendingBatch {
    texts: Vec<String>,
    points: Vec<ChunkPoint>,
}

impl PendingBatch {
    async fn flush(&mut self, target: &IndexTarget<'_>) -> Result<usize, IndexError> {
        if self.points.is_empty() {
            return Ok(0);
        }
        let texts = std::mem::take(&mut self.texts);
        let mut points = std::mem::take(&mut self.points);
        let vectors = target.embedder.embed(&texts).await?;
        for (point, vector) in points.iter_mut().zip(vectors) {
            point.dense = vector;
        }
        let n = points.len();
        target.store.upsert(points).await?;
        Ok(n)
    }
}

/// Reads a file or a folder (recursively, in name order) of supported files.
fn read_files(
    root: &Path,
    previous: &HashMap<String, PreviousPage>,
    stored: &HashMap<String, PreviousPage>,
    counters: &mut IndexProgress,
    progress: &(dyn Fn(IndexProgress) + Send + Sync),
) -> Result<Gathered, IndexError> {
    let root = root.canonicalize().map_err(|err| {
        IndexError::InvalidSource(format!("cannot read {}: {err}", root.display()))
    })?;
    let mut files = Vec::new();
    collect_files(&root, &mut files, 0);
    files.sort();
    let mut gathered = Gathered {
        complete: true,
        ..Gathered::default()
    };
    for path in files {
        let url = format!("file://{}", path.display());
        gathered.pages_seen += 1;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => {
                gathered.failures.push(PageFailure {
                    url,
                    reason: format!("cannot read file: {}", err.kind()),
                });
                continue;
            }
        };
        let hash = sha256_hex(&bytes);
        if previous
            .get(&url)
            .is_some_and(|p| p.content_hash.as_deref() == Some(hash.as_str()))
        {
            gathered.unchanged.insert(url);
        } else {
            match extract_file(&path) {
                Ok(document) if !document.is_empty() => gathered.pages.push(PageIn {
                    previously_stored: stored.contains_key(&url),
                    url,
                    document,
                    page_hash: hash,
                    etag: None,
                    last_modified: None,
                    sitemap_lastmod: None,
                    fetched_at: SystemTime::now(),
                }),
                Ok(_) => gathered.failures.push(PageFailure {
                    url,
                    reason: "empty file: no text content".into(),
                }),
                Err(err) => gathered.failures.push(PageFailure {
                    url,
                    reason: err.to_string(),
                }),
            }
        }
        counters.pages_seen = gathered.pages_seen;
        counters.pages_unchanged = gathered.unchanged.len();
        counters.pages_failed = gathered.failures.len();
        counters.pages_indexed = gathered.pages.len();
        progress(counters.clone());
    }
    Ok(gathered)
}

const SUPPORTED: [&str; 7] = ["html", "htm", "md", "markdown", "txt", "text", "pdf"];

fn collect_files(path: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if path.is_file() {
        let supported = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SUPPORTED.contains(&e.to_ascii_lowercase().as_str()));
        if supported {
            out.push(path.to_owned());
        }
        return;
    }
    if depth > 32 {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let p = entry.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden && !p.is_symlink() {
                collect_files(&p, out, depth + 1);
            }
        }
    }
}

fn load_filter(path: &Path) -> Option<BoilerplateFilter> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Best effort: without the state file the next incremental run relearns from its own pages.
fn save_filter(path: &Path, filter: &BoilerplateFilter) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(bytes) = serde_json::to_vec(filter) {
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

/// Ids become file names: keep `[A-Za-z0-9_-]`, hex-escape the rest.
fn safe_name(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn rfc3339(time: SystemTime) -> String {
    OffsetDateTime::from(time)
        .format(&Rfc3339)
        .unwrap_or_default()
}
