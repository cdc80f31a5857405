//! The frontier loop: seeds (start URL, sitemaps, previously seen pages), scope, robots.txt,
//! per-host politeness, the page budget, and turning fetch outcomes into events and a report.
//!
//! All shared state lives in one `Engine` owned by the loop; fetch tasks get copies of what they
//! need and hand their outcome back through a `JoinSet`, so there are no locks.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;
use sha2::{Digest, Sha256};
use spider::reqwest;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

use super::fetch::{self, FetchSpec, Fetched};
use super::links::extract_links;
use super::normalize::{TrapGuard, normalize, site_key};
use super::robots::{Robots, agent_token};
use super::sitemap;
use super::{
    ContentKind, CrawlConfig, CrawlError, CrawlEvent, CrawlFailure, CrawlReport, CrawlRequest,
    CrawlStart, CrawledPage, FailureReason, PreviousPage, StopReason, UnchangedPage,
    UnchangedReason,
};

/// robots.txt bodies above this are truncated by refusing them (RFC 9309 asks for >= 500 KiB).
const MAX_ROBOTS_BYTES: u64 = 512 * 1024;
/// Entries read from one sitemap document.
const MAX_SITEMAP_ENTRIES: usize = 50_000;

/// A URL waiting in the frontier.
#[derive(Debug, Clone)]
struct QueueItem {
    url: Url,
    depth: usize,
}

/// What a fetch task hands back.
enum TaskOutput {
    Body {
        response: fetch::Response,
        links: Vec<Url>,
    },
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

type TaskResult = (QueueItem, Result<TaskOutput, FailureReason>);

/// robots.txt state of one origin.
enum RobotsState {
    Rules(Robots),
    /// robots.txt could not be fetched (network error): every page of the origin fails with this.
    Unreachable(FailureReason),
}

struct Engine<'a> {
    config: &'a CrawlConfig,
    client: &'a reqwest::Client,
    events: mpsc::Sender<CrawlEvent>,
    request: CrawlRequest,
    site: String,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    kinds: Arc<[ContentKind]>,
    agent: String,
    /// Every normalised URL admitted to the frontier or reached by a redirect: fetched at most once.
    known: HashSet<String>,
    /// Normalised URLs already handed over (page or unchanged): indexed at most once.
    delivered: HashSet<String>,
    sitemap_lastmods: HashMap<String, String>,
    frontier: VecDeque<QueueItem>,
    trap: TrapGuard,
    robots: HashMap<String, RobotsState>,
    /// Earliest start of the next request per origin (politeness delay).
    next_slot: HashMap<String, Instant>,
    /// Pages that used budget (fetched, unchanged or failed after a request or lastmod check).
    processed: usize,
    /// Failures recorded in sync code (trap rejections in `enqueue`), sent by `flush_failures`.
    unsent_failures: Vec<CrawlFailure>,
    report: CrawlReport,
}

pub async fn run(
    config: &CrawlConfig,
    client: &reqwest::Client,
    request: CrawlRequest,
    events: mpsc::Sender<CrawlEvent>,
) -> Result<CrawlReport, CrawlError> {
    let started = Instant::now();
    let (start_raw, is_sitemap) = match &request.start {
        CrawlStart::Url(url) => (url.clone(), false),
        CrawlStart::Sitemap(url) => (url.clone(), true),
    };
    let start = Url::parse(start_raw.trim())
        .ok()
        .and_then(|u| normalize(&u, config.trailing_slash))
        .ok_or_else(|| CrawlError::InvalidStartUrl {
            url: start_raw.clone(),
        })?;
    let site = site_key(&start).ok_or_else(|| CrawlError::InvalidStartUrl {
        url: start_raw.clone(),
    })?;
    let include = compile(&request.include)?;
    let exclude = compile(&request.exclude)?;

    let mut engine = Engine {
        config,
        client,
        events,
        site,
        include,
        exclude,
        kinds: config.content_kinds.clone().into(),
        agent: agent_token(&config.user_agent),
        known: HashSet::new(),
        delivered: HashSet::new(),
        sitemap_lastmods: HashMap::new(),
        frontier: VecDeque::new(),
        trap: TrapGuard::new(config.trap_limits.clone()),
        robots: HashMap::new(),
        next_slot: HashMap::new(),
        processed: 0,
        unsent_failures: Vec::new(),
        report: CrawlReport::default(),
        request,
    };
    engine.seed(start, is_sitemap).await;
    engine.crawl_loop().await;
    // Final counters, including failures recorded after the last page outcome.
    engine.publish_progress(0).await;
    engine.report.elapsed = started.elapsed();
    Ok(engine.report)
}

fn compile(patterns: &[String]) -> Result<Vec<Regex>, CrawlError> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|source| CrawlError::InvalidPattern {
                pattern: p.clone(),
                source,
            })
        })
        .collect()
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Engine<'_> {
    /// Sitemaps first (so their `<lastmod>` is known), then the start page, sitemap pages and
    /// the pages of the previous crawl (so deleted pages are noticed and unchanged ones get a
    /// cheap conditional request).
    async fn seed(&mut self, start: Url, is_sitemap: bool) {
        let mut sitemap_urls = Vec::new();
        if is_sitemap {
            sitemap_urls.push(start.clone());
        } else {
            self.ensure_robots(&start).await;
            if self.config.use_robots_sitemaps
                && let Some(RobotsState::Rules(robots)) = self.robots.get(&origin_of(&start))
            {
                sitemap_urls.extend(robots.sitemaps().iter().filter_map(|s| Url::parse(s).ok()));
            }
        }
        let sitemap_pages = self.read_sitemaps(sitemap_urls, is_sitemap).await;

        if !is_sitemap {
            self.enqueue(start, 0, true);
        }
        for page in sitemap_pages {
            self.enqueue(page, 0, false);
        }
        let previous: Vec<Url> = self
            .request
            .previous
            .keys()
            .filter_map(|u| Url::parse(u).ok())
            .collect();
        for page in previous {
            self.enqueue(page, 0, false);
        }
        self.flush_failures().await;
    }

    /// Reads sitemaps and sitemap indexes breadth-first; returns page URLs.
    async fn read_sitemaps(&mut self, roots: Vec<Url>, report_failures: bool) -> Vec<Url> {
        let mut queue: VecDeque<Url> = roots.into();
        let mut visited: HashSet<String> = HashSet::new();
        let mut pages = Vec::new();
        while let Some(url) = queue.pop_front() {
            if visited.len() >= self.config.max_sitemaps || !visited.insert(url.to_string()) {
                continue;
            }
            let spec = FetchSpec {
                url: &url,
                previous: None,
                max_body_bytes: self.config.max_body_bytes,
                kinds: None,
                policy: self.config.network,
            };
            let body = match fetch::fetch(self.client, spec).await {
                Ok(Fetched::Body(response)) => response.body,
                Ok(Fetched::NotModified { .. }) => continue,
                Err(reason) => {
                    // A sitemap named by robots.txt is optional; one the caller gave is not.
                    if report_failures {
                        self.fail(url.to_string(), reason).await;
                    }
                    continue;
                }
            };
            if body.starts_with(&[0x1f, 0x8b]) {
                self.fail(url.to_string(), FailureReason::InvalidSitemap)
                    .await;
                continue;
            }
            let parsed = sitemap::parse(&body, MAX_SITEMAP_ENTRIES);
            if parsed.pages.is_empty() && parsed.sitemaps.is_empty() {
                self.fail(url.to_string(), FailureReason::InvalidSitemap)
                    .await;
                continue;
            }
            queue.extend(parsed.sitemaps.iter().filter_map(|s| url.join(&s.loc).ok()));
            for entry in parsed.pages {
                let Some(page) = url
                    .join(&entry.loc)
                    .ok()
                    .and_then(|u| normalize(&u, self.config.trailing_slash))
                else {
                    continue;
                };
                if let Some(lastmod) = entry.lastmod {
                    self.sitemap_lastmods.insert(page.to_string(), lastmod);
                }
                pages.push(page);
            }
        }
        pages
    }

    /// Admits a discovered URL to the frontier if it is new, in scope and not a trap.
    fn enqueue(&mut self, url: Url, depth: usize, is_start: bool) {
        let Some(url) = normalize(&url, self.config.trailing_slash) else {
            return;
        };
        if !self.in_scope(&url, is_start) {
            return;
        }
        let key = url.to_string();
        if self.known.contains(&key) {
            return;
        }
        self.known.insert(key.clone());
        if let Err(kind) = self.trap.admit(&url) {
            let failure = self.record_failure(key, FailureReason::CrawlTrap(kind));
            self.unsent_failures.push(failure);
            return;
        }
        self.report.progress.pages_seen += 1;
        self.frontier.push_back(QueueItem { url, depth });
    }

    fn in_scope(&self, url: &Url, is_start: bool) -> bool {
        if site_key(url).as_deref() != Some(self.site.as_str()) {
            return false;
        }
        if is_start {
            return true;
        }
        let text = url.as_str();
        let included = self.include.is_empty() || self.include.iter().any(|r| r.is_match(text));
        included && !self.exclude.iter().any(|r| r.is_match(text))
    }

    async fn crawl_loop(&mut self) {
        let mut in_flight: JoinSet<TaskResult> = JoinSet::new();
        let concurrency = self.config.concurrency_per_host.max(1);
        loop {
            while in_flight.len() < concurrency && self.report.stopped.is_none() {
                if self.frontier.is_empty() {
                    break;
                }
                if self.processed + in_flight.len() >= self.request.max_pages {
                    self.report.stopped = Some(StopReason::MaxPages);
                    break;
                }
                let Some(item) = self.frontier.pop_front() else {
                    break;
                };
                if let Some(prepared) = self.prepare(item).await {
                    in_flight.spawn(prepared.run());
                }
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let Ok((item, result)) = joined else {
                // A panicking or cancelled task loses one page, never the crawl.
                self.processed += 1;
                continue;
            };
            self.processed += 1;
            self.handle(item, result).await;
            self.publish_progress(in_flight.len()).await;
            if self.report.stopped == Some(StopReason::Cancelled) {
                in_flight.abort_all();
                break;
            }
        }
    }

    /// Robots, lastmod skip and politeness for one URL; returns the fetch to run, if any.
    async fn prepare(&mut self, item: QueueItem) -> Option<PreparedFetch> {
        let key = item.url.to_string();
        self.ensure_robots(&item.url).await;
        let origin = origin_of(&item.url);
        let refusal = match self.robots.get(&origin) {
            Some(RobotsState::Unreachable(reason)) => Some(reason.clone()),
            Some(RobotsState::Rules(robots)) if !robots.allows(&self.agent, item.url.as_str()) => {
                Some(FailureReason::BlockedByRobots)
            }
            _ => None,
        };
        if let Some(reason) = refusal {
            self.fail(key, reason).await;
            return None;
        }

        let previous = self.request.previous.get(&key).cloned();
        let lastmod = self.sitemap_lastmods.get(&key).cloned();
        if let (Some(lastmod), Some(prev)) = (&lastmod, &previous)
            && prev.sitemap_lastmod.as_ref() == Some(lastmod)
        {
            self.processed += 1;
            let unchanged = UnchangedPage {
                url: key,
                reason: UnchangedReason::SitemapLastmod,
                etag: prev.etag.clone(),
                last_modified: prev.last_modified.clone(),
                sitemap_lastmod: Some(lastmod.clone()),
            };
            self.unchanged(unchanged).await;
            return None;
        }

        Some(PreparedFetch {
            start_at: self.reserve_slot(&origin),
            client: self.client.clone(),
            kinds: Arc::clone(&self.kinds),
            max_body_bytes: self.config.max_body_bytes,
            policy: self.config.network,
            follow: self.request.follow_links && item.depth < self.request.max_depth,
            previous,
            item,
        })
    }

    /// Politeness: request starts on one origin are at least the delay apart.
    fn reserve_slot(&mut self, origin: &str) -> Instant {
        let delay = self.delay_for(origin);
        let now = Instant::now();
        let slot = self.next_slot.get(origin).copied().unwrap_or(now).max(now);
        self.next_slot.insert(origin.to_owned(), slot + delay);
        slot
    }

    fn delay_for(&self, origin: &str) -> Duration {
        let robots_delay = match self.robots.get(origin) {
            Some(RobotsState::Rules(robots)) => robots.crawl_delay(&self.agent),
            _ => None,
        };
        let robots_delay = robots_delay
            .map(|d| d.min(self.config.max_crawl_delay))
            .unwrap_or_default();
        self.config.delay_per_host.max(robots_delay)
    }

    async fn ensure_robots(&mut self, url: &Url) {
        let origin = origin_of(url);
        if self.robots.contains_key(&origin) {
            return;
        }
        if !self.config.respect_robots {
            self.robots
                .insert(origin, RobotsState::Rules(Robots::AllowAll));
            return;
        }
        let robots_url = match url.join("/robots.txt") {
            Ok(u) => u,
            Err(_) => {
                self.robots
                    .insert(origin, RobotsState::Rules(Robots::AllowAll));
                return;
            }
        };
        let slot = self.reserve_slot(&origin);
        tokio::time::sleep_until(slot.into()).await;
        let spec = FetchSpec {
            url: &robots_url,
            previous: None,
            max_body_bytes: MAX_ROBOTS_BYTES,
            kinds: None,
            policy: self.config.network,
        };
        let state = match fetch::fetch(self.client, spec).await {
            Ok(Fetched::Body(response)) => RobotsState::Rules(Robots::parse(&response.body)),
            Ok(Fetched::NotModified { .. }) => RobotsState::Rules(Robots::AllowAll),
            // RFC 9309: 4xx means no rules; 5xx means assume everything is disallowed.
            Err(FailureReason::HttpStatus(code)) if (400..500).contains(&code) => {
                RobotsState::Rules(Robots::AllowAll)
            }
            Err(FailureReason::HttpStatus(_)) => RobotsState::Rules(Robots::DisallowAll),
            // An oversized or odd robots.txt is treated as absent rather than fatal.
            Err(FailureReason::TooLarge { .. } | FailureReason::UnsupportedType(_)) => {
                RobotsState::Rules(Robots::AllowAll)
            }
            Err(reason) => RobotsState::Unreachable(reason),
        };
        self.robots.insert(origin, state);
    }

    async fn handle(&mut self, item: QueueItem, result: Result<TaskOutput, FailureReason>) {
        let key = item.url.to_string();
        let previous = self.request.previous.get(&key).cloned();
        match result {
            Err(reason) => self.fail(key, reason).await,
            Ok(TaskOutput::NotModified {
                etag,
                last_modified,
            }) => {
                let previous = previous.unwrap_or_default();
                let unchanged = UnchangedPage {
                    url: key.clone(),
                    reason: UnchangedReason::NotModified,
                    etag: etag.or(previous.etag),
                    last_modified: last_modified.or(previous.last_modified),
                    sitemap_lastmod: self.sitemap_lastmods.get(&key).cloned(),
                };
                self.unchanged(unchanged).await;
            }
            Ok(TaskOutput::Body { response, links }) => {
                self.handle_body(item, response, links).await
            }
        }
    }

    async fn handle_body(&mut self, item: QueueItem, response: fetch::Response, links: Vec<Url>) {
        let requested = item.url.to_string();
        let Some(final_norm) = normalize(&response.final_url, self.config.trailing_slash) else {
            self.fail(requested, FailureReason::InvalidUrl).await;
            return;
        };
        if site_key(&final_norm).as_deref() != Some(self.site.as_str()) {
            self.fail(
                requested,
                FailureReason::RedirectedOutOfScope(response.final_url.to_string()),
            )
            .await;
            return;
        }
        let url = final_norm.to_string();
        // A redirect target is never fetched again, and a page is delivered once.
        if url != requested {
            self.known.insert(url.clone());
        }
        if !self.delivered.insert(url.clone()) {
            return;
        }
        self.report.bytes_downloaded += response.body.len() as u64;

        if item.depth < self.request.max_depth && self.request.follow_links {
            for link in links {
                self.enqueue(link, item.depth + 1, false);
            }
            self.flush_failures().await;
        }

        let content_hash = sha256_hex(&response.body);
        let sitemap_lastmod = self
            .sitemap_lastmods
            .get(&url)
            .or(self.sitemap_lastmods.get(&requested))
            .cloned();
        let previous: Option<&PreviousPage> = self
            .request
            .previous
            .get(&url)
            .or(self.request.previous.get(&requested));
        if previous.and_then(|p| p.content_hash.as_deref()) == Some(content_hash.as_str()) {
            let unchanged = UnchangedPage {
                url,
                reason: UnchangedReason::SameContent,
                etag: response.etag,
                last_modified: response.last_modified,
                sitemap_lastmod,
            };
            self.unchanged(unchanged).await;
            return;
        }
        let Some(kind) = response.kind else {
            self.fail(url, FailureReason::UnsupportedType(response.content_type))
                .await;
            return;
        };
        let page = CrawledPage {
            url: url.clone(),
            final_url: response.final_url.to_string(),
            status: response.status,
            content_type: response.content_type,
            kind,
            body: response.body,
            content_hash,
            etag: response.etag,
            last_modified: response.last_modified,
            sitemap_lastmod,
            fetched_at: response.fetched_at,
            depth: item.depth,
        };
        self.report.progress.pages_fetched += 1;
        self.report.fetched.push(url);
        self.send(CrawlEvent::Page(Box::new(page))).await;
    }

    async fn unchanged(&mut self, page: UnchangedPage) {
        self.delivered.insert(page.url.clone());
        self.report.progress.pages_unchanged += 1;
        self.report.unchanged.push(page.clone());
        self.send(CrawlEvent::Unchanged(page)).await;
    }

    async fn fail(&mut self, url: String, reason: FailureReason) {
        let failure = self.record_failure(url, reason);
        self.send(CrawlEvent::Failed(failure)).await;
    }

    /// Counts and lists a failure without sending it (usable from sync code).
    fn record_failure(&mut self, url: String, reason: FailureReason) -> CrawlFailure {
        let failure = CrawlFailure { url, reason };
        self.report.progress.pages_failed += 1;
        self.report.failures_total += 1;
        if self.report.failures.len() < self.config.max_failures_listed {
            self.report.failures.push(failure.clone());
        }
        failure
    }

    async fn flush_failures(&mut self) {
        for failure in std::mem::take(&mut self.unsent_failures) {
            self.send(CrawlEvent::Failed(failure)).await;
        }
    }

    async fn publish_progress(&mut self, in_flight: usize) {
        self.report.progress.pages_queued = self.frontier.len() + in_flight;
        let progress = self.report.progress;
        self.send(CrawlEvent::Progress(progress)).await;
    }

    async fn send(&mut self, event: CrawlEvent) {
        if self.report.stopped == Some(StopReason::Cancelled) {
            return;
        }
        if self.events.send(event).await.is_err() {
            self.report.stopped = Some(StopReason::Cancelled);
        }
    }
}

/// Everything one fetch task needs, owned, so it can run on its own.
struct PreparedFetch {
    item: QueueItem,
    /// Politeness slot reserved for this request.
    start_at: Instant,
    client: reqwest::Client,
    kinds: Arc<[ContentKind]>,
    max_body_bytes: u64,
    policy: super::NetworkPolicy,
    previous: Option<PreviousPage>,
    /// Discover links (HTML below the depth limit).
    follow: bool,
}

impl PreparedFetch {
    /// Fetches the page and, for HTML that may lead further, discovers its links off the async
    /// threads (parsing a large page takes milliseconds).
    async fn run(self) -> TaskResult {
        tokio::time::sleep_until(self.start_at.into()).await;
        let spec = FetchSpec {
            url: &self.item.url,
            previous: self.previous.as_ref(),
            max_body_bytes: self.max_body_bytes,
            kinds: Some(&self.kinds),
            policy: self.policy,
        };
        let result = match fetch::fetch(&self.client, spec).await {
            Err(reason) => Err(reason),
            Ok(Fetched::NotModified {
                etag,
                last_modified,
                ..
            }) => Ok(TaskOutput::NotModified {
                etag,
                last_modified,
            }),
            Ok(Fetched::Body(response)) => {
                let links = if self.follow && response.kind == Some(ContentKind::Html) {
                    let body = response.body.clone();
                    let base = response.final_url.clone();
                    tokio::task::spawn_blocking(move || extract_links(&body, &base))
                        .await
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                Ok(TaskOutput::Body { response, links })
            }
        };
        (self.item, result)
    }
}
