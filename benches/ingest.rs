//! Knowledge ingestion throughput on a generated site served on loopback, in one run:
//! (a) crawl + extract + chunk, no embedding; (b) embedding only, the same chunk texts;
//! (c) the whole path through the indexer (crawl, extract, boilerplate, chunk, PII tags, local
//! embeddings, qdrant-edge upserts). Goal: (c) within 80% of the rate (b) allows.
//!
//! `cargo bench --bench ingest -- [pages=1000]`
//! Prints pages/s for each, chunks/s for (b), the ratio and peak RSS (VmHWM, which includes the
//! in-process fixture server).

#[path = "support/rss.rs"]
mod rss;

#[path = "../tests/it/knowledge/fixture_site.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jambo_worker::contract::job::ReindexMode;
use jambo_worker::contract::tenant::TenantSettings;
use jambo_worker::knowledge::chunk::{ChunkConfig, Chunker};
use jambo_worker::knowledge::crawl::{
    CrawlConfig, CrawlRequest, CrawlStart, Crawler, NetworkPolicy,
};
use jambo_worker::knowledge::extract::{BoilerplateFilter, extract_bytes};
use jambo_worker::knowledge::index::{IndexTarget, Indexer, SourceSpec};
use jambo_worker::knowledge::store::edge::EdgeStore;
use jambo_worker::models::{Embedder, LocalMiniLm, LocalMiniLmConfig, ModelCache};
use jambo_worker::privacy::redact::{Redactor, RedactorConfig};

fn crawl_config() -> CrawlConfig {
    CrawlConfig {
        network: NetworkPolicy::AllowPrivate,
        delay_per_host: Duration::ZERO,
        concurrency_per_host: 8,
        use_robots_sitemaps: false,
        ..CrawlConfig::default()
    }
}

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {err}");
    std::process::exit(1)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let pages: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let server = support::FixtureServer::start_with_generated(pages).await;
    let start_url = server.url("/gen/0.html");
    let chunker =
        Arc::new(Chunker::new(ChunkConfig::default()).unwrap_or_else(|e| fail("chunker", e)));

    // (a) crawl + extract + chunk
    let crawler = Crawler::new(crawl_config()).unwrap_or_else(|e| fail("crawler", e));
    let mut request = CrawlRequest::new(CrawlStart::Url(start_url.clone()));
    request.include = vec!["/gen/".to_owned()];
    request.max_pages = pages;
    let started = Instant::now();
    let (crawled, _) = crawler
        .crawl_collect(request)
        .await
        .unwrap_or_else(|e| fail("crawl", e));
    let documents: Vec<_> = crawled
        .iter()
        .filter_map(|p| extract_bytes(&p.body, Some(&p.content_type), &p.url).ok())
        .collect();
    let mut filter = BoilerplateFilter::default();
    documents.iter().for_each(|d| filter.observe(d));
    let texts: Vec<String> = documents
        .into_iter()
        .flat_map(|d| chunker.chunk(&filter.remove_from(d)))
        .map(|c| c.embedding_text())
        .collect();
    let a_secs = started.elapsed().as_secs_f64();
    let a_pages = crawled.len();

    // (b) embedding only, the same texts, in the indexer's batch size
    let model = LocalMiniLm::load(&ModelCache::from_env(), LocalMiniLmConfig::default())
        .unwrap_or_else(|e| fail("model", e));
    let _ = model.embed(&texts[..texts.len().min(32)]).await;
    let started = Instant::now();
    for batch in texts.chunks(256) {
        if let Err(err) = model.embed(batch).await {
            fail("embed", err);
        }
    }
    let b_secs = started.elapsed().as_secs_f64();

    // (c) the whole path
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail("tempdir", e));
    let store = EdgeStore::open(&dir.path().join("vectors"), LocalMiniLm::DIMENSION)
        .unwrap_or_else(|e| fail("store", e));
    let redactor = Arc::new(Redactor::new(RedactorConfig::default()));
    let indexer = Indexer::new(
        crawl_config(),
        chunker.clone(),
        Arc::new(jambo_worker::app::RedactorPii(redactor)),
        dir.path().join("state"),
    );
    let tenant: TenantSettings = serde_json::from_value(serde_json::json!({"tenant_id": "bench"}))
        .unwrap_or_else(|e| fail("tenant", e));
    let started = Instant::now();
    let report = indexer
        .index(
            IndexTarget {
                tenant: &tenant,
                embedder: &model,
                store: &store,
            },
            &SourceSpec {
                id: "gen".into(),
                url: Some(start_url),
                max_pages: Some(pages),
                ..SourceSpec::default()
            },
            ReindexMode::Full,
            true,
            &|_| {},
        )
        .await
        .unwrap_or_else(|e| fail("index", e));
    let c_secs = started.elapsed().as_secs_f64();

    let a_rate = a_pages as f64 / a_secs;
    let b_chunks = texts.len() as f64 / b_secs;
    let b_pages = a_pages as f64 / b_secs;
    let c_rate = report.pages_indexed as f64 / c_secs;
    println!(
        "pages={pages} chunks={} ({:.1}/page)\n\
         (a) crawl+extract+chunk: {a_pages} pages in {a_secs:.2}s = {a_rate:.0} pages/s\n\
         (b) embedding only:      {} chunks in {b_secs:.2}s = {b_chunks:.1} chunks/s = {b_pages:.1} pages/s\n\
         (c) whole path:          {} pages, {} chunks in {c_secs:.2}s = {c_rate:.1} pages/s\n\
         whole path / embedding-only: {:.2}\n\
         peak RSS {} MiB",
        texts.len(),
        texts.len() as f64 / a_pages.max(1) as f64,
        texts.len(),
        report.pages_indexed,
        report.chunks,
        c_rate / b_pages,
        rss::peak_rss_kib().unwrap_or(0) / 1024
    );
}
