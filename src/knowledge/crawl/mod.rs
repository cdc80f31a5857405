//! The crawler of knowledge sources: turns a start URL or sitemap into a stream of fetched pages
//! (raw bytes plus HTTP metadata) and a final report of what was fetched, unchanged or failed.
//!
//! It owns scope, politeness, robots.txt, the SSRF guard, URL normalisation, trap limits and
//! conditional requests. It must not know about extraction, chunking, embeddings or storage:
//! page bodies leave this module untouched.
//!
//! `spider` supplies the HTTP client type (its re-exported reqwest, built here with the guarded
//! resolver and redirect policy) and its robots.txt parser; the frontier loop is our own, because
//! spider 2.53's `Website::crawl` cannot send per-URL conditional requests from a previous crawl
//! (its etag cache starts empty and drops 304s silently), de-duplicates on raw links before any
//! normalisation can reject utm/fragment variants, and reports no typed failure reasons.
//!
//! Codemap: `engine` (frontier loop), `fetch` (one guarded HTTP request), `guard` (SSRF),
//! `normalize` (URL identity, trap guard), `links` (HTML link discovery), `sitemap`, `robots`.

mod engine;
mod fetch;
pub mod guard;
mod links;
pub mod normalize;
mod robots;
pub mod sitemap;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::mpsc;

pub use guard::NetworkPolicy;
pub use normalize::{TrailingSlash, TrapKind, TrapLimits};

/// Infrastructure settings shared by every crawl the worker runs (from the worker config).
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Sent as `User-Agent`; its first token (before `/`) is matched against robots.txt groups.
    pub user_agent: String,
    /// `PublicOnly` unless `--allow-private-network` / config says otherwise.
    pub network: NetworkPolicy,
    /// Honour robots.txt (RFC 9309). On by default.
    pub respect_robots: bool,
    /// Simultaneous requests to one host.
    pub concurrency_per_host: usize,
    /// Minimum gap between two request starts on one host (raised to robots `Crawl-delay`,
    /// capped at `max_crawl_delay`).
    pub delay_per_host: Duration,
    /// Upper bound for a robots.txt `Crawl-delay`.
    pub max_crawl_delay: Duration,
    /// Whole request, body included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Redirect hops per request.
    pub redirect_limit: usize,
    /// Bodies larger than this (decoded) are aborted and recorded as too large.
    pub max_body_bytes: u64,
    /// Accepted content kinds; anything else is recorded as unsupported.
    pub content_kinds: Vec<ContentKind>,
    pub trailing_slash: TrailingSlash,
    pub trap_limits: TrapLimits,
    /// Read the `Sitemap:` lines of robots.txt to seed pages and their `<lastmod>`.
    pub use_robots_sitemaps: bool,
    /// Sitemap documents read per crawl (index plus children).
    pub max_sitemaps: usize,
    /// Entries in the failure list; later failures are only counted.
    pub max_failures_listed: usize,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            user_agent: "jambo-worker/0.1 (+knowledge crawler)".to_owned(),
            network: NetworkPolicy::PublicOnly,
            respect_robots: true,
            concurrency_per_host: 4,
            delay_per_host: Duration::from_millis(250),
            max_crawl_delay: Duration::from_secs(10),
            request_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            redirect_limit: 5,
            max_body_bytes: 10 * 1024 * 1024,
            content_kinds: vec![
                ContentKind::Html,
                ContentKind::PlainText,
                ContentKind::Markdown,
                ContentKind::Pdf,
            ],
            trailing_slash: TrailingSlash::Keep,
            trap_limits: TrapLimits::default(),
            use_robots_sitemaps: true,
            max_sitemaps: 50,
            max_failures_listed: 1_000,
        }
    }
}

/// Where a crawl starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrawlStart {
    /// A page; links are followed from it.
    Url(String),
    /// A sitemap or sitemap index; its pages are crawled (and their links, if `follow_links`).
    Sitemap(String),
}

/// One source crawl.
#[derive(Debug, Clone)]
pub struct CrawlRequest {
    pub start: CrawlStart,
    /// Regexes over the normalised URL; when non-empty a page must match one. The start URL is
    /// always fetched so its links can be followed.
    pub include: Vec<String>,
    /// Regexes over the normalised URL; a match excludes the page.
    pub exclude: Vec<String>,
    /// Pages processed (fetched, unchanged or failed); the crawl stops scheduling after this.
    pub max_pages: usize,
    /// Link hops from the start page (sitemap pages and previously seen pages count as depth 0).
    pub max_depth: usize,
    /// Follow links found in pages (also for sitemap starts).
    pub follow_links: bool,
    /// Pages of the previous crawl of this source, keyed by normalised URL.
    pub previous: HashMap<String, PreviousPage>,
}

impl CrawlRequest {
    /// A request with the usual limits and no history.
    pub fn new(start: CrawlStart) -> Self {
        Self {
            start,
            include: Vec::new(),
            exclude: Vec::new(),
            max_pages: 1_000,
            max_depth: 10,
            follow_links: true,
            previous: HashMap::new(),
        }
    }
}

/// What the last crawl learned about a page, for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviousPage {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// sha256 hex of the body, as in [`CrawledPage::content_hash`].
    pub content_hash: Option<String>,
    pub sitemap_lastmod: Option<String>,
}

/// Content kinds the crawler can hand to extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    Html,
    PlainText,
    Markdown,
    Pdf,
}

/// A fetched page, untouched.
#[derive(Debug, Clone)]
pub struct CrawledPage {
    /// Normalised URL: the page's identity in the index.
    pub url: String,
    /// Where the last redirect landed (not normalised).
    pub final_url: String,
    pub status: u16,
    /// `Content-Type` header as sent (with charset), or sniffed when missing.
    pub content_type: String,
    pub kind: ContentKind,
    pub body: Bytes,
    /// sha256 hex of `body`.
    pub content_hash: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sitemap_lastmod: Option<String>,
    pub fetched_at: SystemTime,
    /// Link hops from the start.
    pub depth: usize,
}

/// Why a known page was not handed over again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnchangedReason {
    /// The server answered 304 to `If-None-Match` / `If-Modified-Since`.
    NotModified,
    /// The sitemap `<lastmod>` equals the previous crawl's; no request was made.
    SitemapLastmod,
    /// Fetched, but the body hash equals the previous crawl's.
    SameContent,
}

/// A page that did not change since the previous crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnchangedPage {
    pub url: String,
    pub reason: UnchangedReason,
    /// Current validators (from the 304/200 response, else the previous ones).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sitemap_lastmod: Option<String>,
}

/// Why a URL produced no page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailureReason {
    #[error("invalid url")]
    InvalidUrl,
    #[error("unreachable host: {0}")]
    Unreachable(String),
    #[error("timed out")]
    Timeout,
    #[error("http status {0}")]
    HttpStatus(u16),
    #[error("redirect loop")]
    RedirectLoop,
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("redirected out of scope to {0}")]
    RedirectedOutOfScope(String),
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("unsupported content type {0}")]
    UnsupportedType(String),
    #[error("blocked by ssrf guard")]
    BlockedBySsrfGuard,
    #[error("blocked by robots.txt")]
    BlockedByRobots,
    #[error("crawl trap: {0:?}")]
    CrawlTrap(TrapKind),
    #[error("invalid sitemap")]
    InvalidSitemap,
    #[error("request failed: {0}")]
    Other(String),
}

impl FailureReason {
    /// True when the page is known to be gone, so the worker may delete what it indexed from
    /// it. Every other failure may be transient or local (keep the old chunks). Listed without a
    /// wildcard arm so a new reason forces a decision.
    pub fn is_gone(&self) -> bool {
        match self {
            Self::HttpStatus(code) => matches!(code, 404 | 410),
            // The site owner asked us not to index it, or it left our scope: remove.
            Self::BlockedByRobots | Self::RedirectedOutOfScope(_) => true,
            Self::InvalidUrl
            | Self::Unreachable(_)
            | Self::Timeout
            | Self::RedirectLoop
            | Self::TooManyRedirects
            | Self::TooLarge { .. }
            | Self::UnsupportedType(_)
            | Self::BlockedBySsrfGuard
            | Self::CrawlTrap(_)
            | Self::InvalidSitemap
            | Self::Other(_) => false,
        }
    }
}

/// A URL that produced no page, and why. The crawl goes on after each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlFailure {
    pub url: String,
    pub reason: FailureReason,
}

/// Counters for `source.progress` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrawlProgress {
    /// Distinct in-scope URLs discovered so far.
    pub pages_seen: usize,
    pub pages_fetched: usize,
    pub pages_unchanged: usize,
    pub pages_failed: usize,
    /// Waiting in the frontier.
    pub pages_queued: usize,
}

/// What the crawl streams to its caller, in order of completion.
#[derive(Debug, Clone)]
pub enum CrawlEvent {
    Page(Box<CrawledPage>),
    Unchanged(UnchangedPage),
    Failed(CrawlFailure),
    /// Sent after every page outcome.
    Progress(CrawlProgress),
}

/// Why the crawl stopped before the frontier was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    MaxPages,
    /// The event receiver was dropped.
    Cancelled,
}

/// Summary at the end of a crawl. Pages themselves were streamed as events.
#[derive(Debug, Clone, Default)]
pub struct CrawlReport {
    /// Normalised URLs handed over as [`CrawlEvent::Page`].
    pub fetched: Vec<String>,
    pub unchanged: Vec<UnchangedPage>,
    /// Capped at `max_failures_listed`; `failures_total` counts all.
    pub failures: Vec<CrawlFailure>,
    pub failures_total: usize,
    pub progress: CrawlProgress,
    /// `None` when the frontier ran empty: only then may the caller delete pages it did not
    /// see this time.
    pub stopped: Option<StopReason>,
    pub elapsed: Duration,
    pub bytes_downloaded: u64,
}

/// Errors that prevent a crawl from starting. Page-level problems are never errors; they are
/// [`CrawlFailure`]s in the report.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Dead-letter: the source configuration is wrong and a retry cannot help.
    #[error("invalid start url {url}")]
    InvalidStartUrl { url: String },
    /// Dead-letter: a bad include/exclude pattern.
    #[error("invalid pattern {pattern}: {source}")]
    InvalidPattern {
        pattern: String,
        source: regex::Error,
    },
    /// Retry: the HTTP client could not be built (TLS backend initialisation).
    #[error("http client: {0}")]
    Client(#[from] spider::reqwest::Error),
}

/// A configured crawler; cheap to share, one per worker.
#[derive(Debug, Clone)]
pub struct Crawler {
    config: CrawlConfig,
    client: spider::reqwest::Client,
}

impl Crawler {
    /// Builds the guarded HTTP client every crawl request goes through.
    pub fn new(config: CrawlConfig) -> Result<Self, CrawlError> {
        let client = guard::build_client(&guard::ClientSettings {
            policy: config.network,
            user_agent: config.user_agent.clone(),
            request_timeout: config.request_timeout,
            connect_timeout: config.connect_timeout,
            redirect_limit: config.redirect_limit,
        })?;
        Ok(Self { config, client })
    }

    pub fn config(&self) -> &CrawlConfig {
        &self.config
    }

    /// Crawls one source, streaming pages, unchanged pages, failures and progress to `events`
    /// (bounded: a slow consumer slows the crawl, so drain the receiver in a concurrent task, not
    /// after this returns). Dropping the receiver cancels the crawl.
    pub async fn crawl(
        &self,
        request: CrawlRequest,
        events: mpsc::Sender<CrawlEvent>,
    ) -> Result<CrawlReport, CrawlError> {
        engine::run(&self.config, &self.client, request, events).await
    }

    /// Convenience for tests and small sources: runs the crawl and collects every page.
    pub async fn crawl_collect(
        &self,
        request: CrawlRequest,
    ) -> Result<(Vec<CrawledPage>, CrawlReport), CrawlError> {
        let (tx, mut rx) = mpsc::channel(64);
        let collector = tokio::spawn(async move {
            let mut pages = Vec::new();
            while let Some(event) = rx.recv().await {
                if let CrawlEvent::Page(page) = event {
                    pages.push(*page);
                }
            }
            pages
        });
        let report = self.crawl(request, tx).await?;
        let pages = collector.await.unwrap_or_default();
        Ok((pages, report))
    }
}
