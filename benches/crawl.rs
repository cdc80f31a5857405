//! Crawl throughput on a generated site served on loopback (crawl only: no extraction).
//!
//! `cargo bench --bench crawl -- [pages=1000] [concurrency=8]`
//! Prints pages/s and peak RSS (VmHWM, which includes the in-process fixture server).

#[path = "support/rss.rs"]
mod rss;

#[path = "../tests/it/knowledge/fixture_site.rs"]
mod support;

use std::time::{Duration, Instant};

use jambo_worker::knowledge::crawl::{
    CrawlConfig, CrawlEvent, CrawlRequest, CrawlStart, Crawler, NetworkPolicy,
};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pages: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(8);

    let server = support::FixtureServer::start_with_generated(pages).await;
    let config = CrawlConfig {
        network: NetworkPolicy::AllowPrivate,
        delay_per_host: Duration::ZERO,
        concurrency_per_host: concurrency,
        use_robots_sitemaps: false,
        ..CrawlConfig::default()
    };
    let crawler = match Crawler::new(config) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("crawler: {err}");
            return;
        }
    };
    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/gen/0.html")));
    request.include = vec!["/gen/".to_owned()];
    request.max_pages = pages;

    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let consumer = tokio::spawn(async move {
        let (mut count, mut bytes) = (0usize, 0usize);
        while let Some(event) = rx.recv().await {
            if let CrawlEvent::Page(page) = event {
                count += 1;
                bytes += page.body.len();
            }
        }
        (count, bytes)
    });
    let started = Instant::now();
    let report = crawler.crawl(request, tx).await;
    let elapsed = started.elapsed();
    let (count, bytes) = consumer.await.unwrap_or_default();
    match report {
        Ok(report) => println!(
            "pages={count} bytes={bytes} failures={} elapsed={:.3}s pages_per_s={:.0} concurrency={concurrency} peak_rss_mib={:.1}",
            report.failures_total,
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64(),
            rss::peak_rss_kib().unwrap_or(0) as f64 / 1024.0
        ),
        Err(err) => eprintln!("crawl: {err}"),
    }
}
