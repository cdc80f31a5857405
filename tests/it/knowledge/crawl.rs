//! Crawler behaviour against the fixture help-center site served on 127.0.0.1.
//!
//! The fixture server is `fixture_site`. Each test starts its own server.

use std::collections::HashMap;
use std::time::Duration;

use super::fixture_site::FixtureServer;
use jambo_worker::knowledge::crawl::guard::{self, ClientSettings};
use jambo_worker::knowledge::crawl::{
    ContentKind, CrawlConfig, CrawlEvent, CrawlReport, CrawlRequest, CrawlStart, CrawledPage,
    Crawler, FailureReason, NetworkPolicy, PreviousPage, StopReason, TrapLimits, UnchangedReason,
};

fn test_config() -> CrawlConfig {
    CrawlConfig {
        network: NetworkPolicy::AllowPrivate,
        delay_per_host: Duration::ZERO,
        concurrency_per_host: 4,
        request_timeout: Duration::from_secs(3),
        max_body_bytes: 1024 * 1024,
        trap_limits: TrapLimits {
            max_query_variants_per_path: 5,
            ..TrapLimits::default()
        },
        ..CrawlConfig::default()
    }
}

async fn crawl(config: CrawlConfig, request: CrawlRequest) -> (Vec<CrawledPage>, CrawlReport) {
    let crawler = match Crawler::new(config) {
        Ok(c) => c,
        Err(err) => panic!("crawler: {err}"),
    };
    match crawler.crawl_collect(request).await {
        Ok(result) => result,
        Err(err) => panic!("crawl: {err}"),
    }
}

fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        })
        .unwrap_or_default()
}

fn failure_for<'a>(report: &'a CrawlReport, path: &str) -> Option<&'a FailureReason> {
    report
        .failures
        .iter()
        .find(|f| path_of(&f.url) == path)
        .map(|f| &f.reason)
}

fn previous_from(pages: &[CrawledPage]) -> HashMap<String, PreviousPage> {
    pages
        .iter()
        .map(|p| {
            let previous = PreviousPage {
                etag: p.etag.clone(),
                last_modified: p.last_modified.clone(),
                content_hash: Some(p.content_hash.clone()),
                sitemap_lastmod: p.sitemap_lastmod.clone(),
            };
            (p.url.clone(), previous)
        })
        .collect()
}

#[tokio::test]
async fn full_crawl_scope_robots_normalisation_and_failures() {
    let server = FixtureServer::start().await;
    let (pages, report) = crawl(
        test_config(),
        CrawlRequest::new(CrawlStart::Url(server.url("/"))),
    )
    .await;
    let paths: Vec<String> = pages.iter().map(|p| path_of(&p.url)).collect();

    for expected in [
        "/",
        "/getting-started.html",
        "/contacts/importing-contacts.html",
        "/contacts/exporting-contacts.html",
        "/billing/pricing-plans.html",
        "/billing/billing-and-refunds.html",
        "/account/password-reset.html",
        "/integrations/slack.html",
        "/security-and-gdpr.html",
        "/docs/api-rate-limits.md",
        "/docs/release-notes.txt",
        "/downloads/quick-start-guide.pdf",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing from {paths:?}"
        );
    }
    // Indexed once: no duplicate URLs, the utm/gclid/fragment variants were never requested.
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paths.len(), "duplicates in {paths:?}");
    let reset_requests = server
        .requests()
        .iter()
        .filter(|s| s.path_and_query.starts_with("/account/password-reset.html"))
        .count();
    assert_eq!(
        reset_requests,
        1,
        "{:?}",
        server
            .requests()
            .iter()
            .filter(|s| s.path_and_query.starts_with("/account/password-reset.html"))
            .collect::<Vec<_>>()
    );
    // The redirect lands on the pricing page, which is delivered once.
    assert_eq!(
        paths
            .iter()
            .filter(|p| *p == "/billing/pricing-plans.html")
            .count(),
        1
    );

    // Content kinds.
    let kind = |path: &str| {
        pages
            .iter()
            .find(|p| path_of(&p.url) == path)
            .map(|p| p.kind)
    };
    assert_eq!(
        kind("/downloads/quick-start-guide.pdf"),
        Some(ContentKind::Pdf)
    );
    assert_eq!(
        kind("/docs/api-rate-limits.md"),
        Some(ContentKind::Markdown)
    );
    assert_eq!(
        kind("/docs/release-notes.txt"),
        Some(ContentKind::PlainText)
    );
    assert_eq!(kind("/"), Some(ContentKind::Html));

    // robots.txt: disallowed pages are recorded and never requested.
    assert_eq!(
        failure_for(&report, "/internal/agent-handbook.html"),
        Some(&FailureReason::BlockedByRobots)
    );
    assert_eq!(server.hits("/internal/agent-handbook.html"), 0);
    assert!(
        server
            .requests()
            .iter()
            .all(|s| !s.path_and_query.starts_with("/feedback"))
    );

    // Failures are recorded and the crawl went on.
    assert_eq!(
        failure_for(&report, "/contacts/bulk-editing.html"),
        Some(&FailureReason::HttpStatus(404))
    );
    assert_eq!(
        failure_for(&report, "/redirect-loop"),
        Some(&FailureReason::RedirectLoop)
    );
    assert!(matches!(
        failure_for(&report, "/downloads/full-contact-export-sample.html"),
        Some(FailureReason::TooLarge { .. })
    ));
    assert!(matches!(
        failure_for(&report, "/downloads/acme-crm-desktop.zip"),
        Some(FailureReason::UnsupportedType(_))
    ));

    // The calendar trap stays within its budget.
    let calendar_requests = server
        .requests()
        .iter()
        .filter(|s| s.path_and_query.starts_with("/events/calendar"))
        .count();
    assert!(
        calendar_requests <= 5,
        "calendar fetched {calendar_requests} times"
    );
    assert!(
        report
            .failures
            .iter()
            .any(|f| matches!(f.reason, FailureReason::CrawlTrap(_)))
    );

    // Sitemap lastmod (via robots.txt Sitemap: and the index) is attached to pages.
    let pricing = pages
        .iter()
        .find(|p| path_of(&p.url) == "/billing/pricing-plans.html");
    assert_eq!(
        pricing.and_then(|p| p.sitemap_lastmod.as_deref()),
        Some("2026-10-15T09:00:00+00:00")
    );
    assert!(
        pricing.is_some_and(|p| p.etag.is_some() && p.last_modified.is_some() && p.status == 200)
    );

    assert_eq!(report.stopped, None);
    assert_eq!(report.progress.pages_fetched, pages.len());
    assert_eq!(report.progress.pages_failed, report.failures_total);
}

#[tokio::test]
async fn max_pages_stops_the_crawl() {
    let server = FixtureServer::start().await;
    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/")));
    request.max_pages = 5;
    let (pages, report) = crawl(test_config(), request).await;
    assert!(pages.len() <= 5);
    let page_requests = server
        .requests()
        .iter()
        .filter(|s| s.path_and_query != "/robots.txt" && !s.path_and_query.contains("sitemap"))
        .count();
    assert!(page_requests <= 5, "{page_requests} page requests");
    assert_eq!(report.stopped, Some(StopReason::MaxPages));
}

#[tokio::test]
async fn max_depth_limits_link_hops() {
    let server = FixtureServer::start().await;
    let config = CrawlConfig {
        use_robots_sitemaps: false,
        ..test_config()
    };
    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/")));
    request.max_depth = 0;
    let (pages, _) = crawl(config.clone(), request).await;
    assert_eq!(pages.len(), 1);

    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/")));
    request.max_depth = 1;
    let (pages, _) = crawl(config, request).await;
    let paths: Vec<String> = pages.iter().map(|p| path_of(&p.url)).collect();
    assert!(paths.contains(&"/contacts/".to_owned()));
    // Linked only from depth-1 pages.
    assert!(
        !paths.contains(&"/contacts/merging-duplicates.html".to_owned()),
        "{paths:?}"
    );
    assert!(pages.iter().all(|p| p.depth <= 1));
}

#[tokio::test]
async fn include_and_exclude_patterns() {
    let server = FixtureServer::start().await;
    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/")));
    request.include = vec!["/billing/".to_owned()];
    request.exclude = vec!["changing-your-plan".to_owned()];
    let (pages, _) = crawl(test_config(), request).await;
    let paths: Vec<String> = pages.iter().map(|p| path_of(&p.url)).collect();
    assert!(paths.contains(&"/billing/pricing-plans.html".to_owned()));
    assert!(!paths.contains(&"/billing/changing-your-plan.html".to_owned()));
    assert!(
        paths.iter().all(|p| p == "/" || p.starts_with("/billing/")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn conditional_requests_report_unchanged() {
    let server = FixtureServer::start().await;
    let config = CrawlConfig {
        use_robots_sitemaps: false,
        ..test_config()
    };
    let (first, _) = crawl(
        config.clone(),
        CrawlRequest::new(CrawlStart::Url(server.url("/"))),
    )
    .await;
    assert!(first.len() > 15);

    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/")));
    request.previous = previous_from(&first);
    let (second, report) = crawl(config, request).await;
    assert!(
        second.is_empty(),
        "refetched {:?}",
        second.iter().map(|p| &p.url).collect::<Vec<_>>()
    );
    let not_modified = report
        .unchanged
        .iter()
        .filter(|u| u.reason == UnchangedReason::NotModified)
        .count();
    assert!(not_modified >= 15, "{:?}", report.unchanged);
    assert!(server.requests().iter().filter(|s| s.conditional).count() >= 15);
    assert!(
        report
            .unchanged
            .iter()
            .any(|u| u.reason == UnchangedReason::SameContent),
        "calendar pages have no etag"
    );
    assert_eq!(report.progress.pages_unchanged, report.unchanged.len());
    assert_eq!(report.progress.pages_fetched, 0);
}

#[tokio::test]
async fn sitemap_index_and_lastmod_skip() {
    let server = FixtureServer::start().await;
    let mut request = CrawlRequest::new(CrawlStart::Sitemap(server.url("/sitemap_index.xml")));
    request.follow_links = false;
    let (first, report) = crawl(test_config(), request.clone()).await;
    // 11 + 13 entries in the two nested sitemaps.
    assert_eq!(
        first.len(),
        24,
        "{:?} {:?}",
        first.iter().map(|p| &p.url).collect::<Vec<_>>(),
        report.failures
    );
    assert!(first.iter().all(|p| p.sitemap_lastmod.is_some()));

    let mut previous = previous_from(&first);
    let pricing_key = server.url("/billing/pricing-plans.html");
    if let Some(p) = previous.get_mut(&pricing_key) {
        p.sitemap_lastmod = Some("2026-01-01".to_owned());
        p.etag = None;
        p.last_modified = None;
        p.content_hash = None;
    }
    let before = server.requests().len();
    request.previous = previous;
    let (second, report) = crawl(test_config(), request).await;
    let second_paths: Vec<String> = second.iter().map(|p| path_of(&p.url)).collect();
    assert_eq!(second_paths, vec!["/billing/pricing-plans.html".to_owned()]);
    let skipped = report
        .unchanged
        .iter()
        .filter(|u| u.reason == UnchangedReason::SitemapLastmod)
        .count();
    assert_eq!(skipped, 23);
    let page_requests: Vec<String> = server.requests()[before..]
        .iter()
        .map(|s| s.path_and_query.clone())
        .filter(|p| !p.ends_with(".xml") && p != "/robots.txt")
        .collect();
    assert_eq!(
        page_requests,
        vec!["/billing/pricing-plans.html".to_owned()]
    );
}

#[tokio::test]
async fn ssrf_guard_blocks_loopback_and_metadata() {
    let server = FixtureServer::start().await;
    let guarded = CrawlConfig {
        network: NetworkPolicy::PublicOnly,
        ..test_config()
    };

    let (pages, report) = crawl(
        guarded.clone(),
        CrawlRequest::new(CrawlStart::Url(server.url("/"))),
    )
    .await;
    assert!(pages.is_empty());
    assert_eq!(
        failure_for(&report, "/"),
        Some(&FailureReason::BlockedBySsrfGuard)
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    let (_, report) = crawl(
        guarded.clone(),
        CrawlRequest::new(CrawlStart::Url(
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        )),
    )
    .await;
    assert_eq!(
        report.failures.first().map(|f| &f.reason),
        Some(&FailureReason::BlockedBySsrfGuard)
    );

    let (_, report) = crawl(
        guarded,
        CrawlRequest::new(CrawlStart::Sitemap(
            "http://[::ffff:127.0.0.1]/sitemap.xml".to_owned(),
        )),
    )
    .await;
    assert_eq!(
        report.failures.first().map(|f| &f.reason),
        Some(&FailureReason::BlockedBySsrfGuard)
    );

    // The client itself: a redirect to loopback and a hostname resolving to loopback are
    // refused even when the first hop is allowed (here: an IP literal, which skips DNS).
    let settings = ClientSettings {
        policy: NetworkPolicy::PublicOnly,
        user_agent: "test".to_owned(),
        request_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(3),
        redirect_limit: 5,
    };
    let client = match guard::build_client(&settings) {
        Ok(c) => c,
        Err(err) => panic!("client: {err}"),
    };
    let redirected = client.get(server.url("/redirect-to-loopback")).send().await;
    assert!(
        redirected
            .as_ref()
            .is_err_and(|e| guard::error_chain_contains(e, guard::BLOCKED_MARKER)),
        "{redirected:?}"
    );
    assert_eq!(server.hits("/redirect-to-loopback"), 1);
    assert_eq!(server.hits("/"), 0);

    let port = server.base.rsplit(':').next().unwrap_or("80");
    let by_name = client.get(format!("http://localhost:{port}/")).send().await;
    assert!(
        by_name
            .as_ref()
            .is_err_and(|e| guard::error_chain_contains(e, guard::BLOCKED_MARKER)),
        "{by_name:?}"
    );
    assert_eq!(server.hits("/"), 0);
}

#[tokio::test]
async fn guard_off_follows_loopback_redirects() {
    let server = FixtureServer::start().await;
    let (pages, report) = crawl(
        test_config(),
        CrawlRequest::new(CrawlStart::Url(server.url("/redirect-to-loopback"))),
    )
    .await;
    assert!(
        pages.iter().any(|p| path_of(&p.url) == "/"),
        "{:?}",
        report.failures
    );
}

#[tokio::test]
async fn timeouts_server_errors_and_unreachable_hosts_are_failures() {
    let server = FixtureServer::start().await;
    let config = CrawlConfig {
        request_timeout: Duration::from_secs(1),
        respect_robots: false,
        ..test_config()
    };

    let (_, report) = crawl(
        config.clone(),
        CrawlRequest::new(CrawlStart::Url(server.url("/slow"))),
    )
    .await;
    assert_eq!(failure_for(&report, "/slow"), Some(&FailureReason::Timeout));

    let (_, report) = crawl(
        config.clone(),
        CrawlRequest::new(CrawlStart::Url(server.url("/server-error"))),
    )
    .await;
    assert_eq!(
        failure_for(&report, "/server-error"),
        Some(&FailureReason::HttpStatus(500))
    );

    let (_, report) = crawl(
        config.clone(),
        CrawlRequest::new(CrawlStart::Url(server.url("/huge-chunked"))),
    )
    .await;
    assert_eq!(
        failure_for(&report, "/huge-chunked"),
        Some(&FailureReason::TooLarge { limit: 1024 * 1024 })
    );

    let (_, report) = crawl(
        config,
        CrawlRequest::new(CrawlStart::Url("http://127.0.0.1:9/".to_owned())),
    )
    .await;
    assert!(
        matches!(
            report.failures.first().map(|f| &f.reason),
            Some(FailureReason::Unreachable(_))
        ),
        "{:?}",
        report.failures
    );
}

#[tokio::test]
async fn bad_start_input_is_an_error_not_a_panic() {
    let crawler = match Crawler::new(test_config()) {
        Ok(c) => c,
        Err(err) => panic!("crawler: {err}"),
    };
    for start in [
        "",
        "not a url",
        "ftp://example.com/",
        "mailto:a@b.c",
        "http://",
    ] {
        let result = crawler
            .crawl_collect(CrawlRequest::new(CrawlStart::Url(start.to_owned())))
            .await;
        assert!(result.is_err(), "{start}");
    }
    let mut request = CrawlRequest::new(CrawlStart::Url("http://127.0.0.1:9/".to_owned()));
    request.include = vec!["(".to_owned()];
    assert!(crawler.crawl_collect(request).await.is_err());
}

#[tokio::test]
async fn dropping_the_receiver_cancels() {
    let server = FixtureServer::start().await;
    let crawler = match Crawler::new(test_config()) {
        Ok(c) => c,
        Err(err) => panic!("crawler: {err}"),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    drop(rx);
    let report = crawler
        .crawl(CrawlRequest::new(CrawlStart::Url(server.url("/"))), tx)
        .await;
    assert!(report.is_ok_and(|r| r.stopped == Some(StopReason::Cancelled)));
}

#[tokio::test]
async fn events_stream_pages_failures_and_progress() {
    let server = FixtureServer::start().await;
    let crawler = match Crawler::new(test_config()) {
        Ok(c) => c,
        Err(err) => panic!("crawler: {err}"),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let collector = tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(event) = rx.recv().await {
            events.push(event);
        }
        events
    });
    let report = match crawler
        .crawl(CrawlRequest::new(CrawlStart::Url(server.url("/"))), tx)
        .await
    {
        Ok(r) => r,
        Err(err) => panic!("crawl: {err}"),
    };
    let events = collector.await.unwrap_or_default();
    let pages = events
        .iter()
        .filter(|e| matches!(e, CrawlEvent::Page(_)))
        .count();
    let failed = events
        .iter()
        .filter(|e| matches!(e, CrawlEvent::Failed(_)))
        .count();
    let last_progress = events.iter().rev().find_map(|e| match e {
        CrawlEvent::Progress(p) => Some(*p),
        _ => None,
    });
    assert_eq!(pages, report.fetched.len());
    assert_eq!(failed, report.failures_total);
    let last = last_progress.unwrap_or_default();
    assert_eq!(last, report.progress);
    assert!(
        report.failures.iter().any(|f| f.reason.is_gone()),
        "the 404 is gone"
    );
    assert!(
        report.failures.iter().any(|f| !f.reason.is_gone()),
        "the redirect loop is not"
    );
}

#[tokio::test]
async fn politeness_delay_spaces_requests() {
    let server = FixtureServer::start().await;
    let config = CrawlConfig {
        delay_per_host: Duration::from_millis(100),
        use_robots_sitemaps: false,
        ..test_config()
    };
    let mut request = CrawlRequest::new(CrawlStart::Url(server.url("/")));
    request.max_pages = 5;
    let started = std::time::Instant::now();
    let (pages, _) = crawl(config, request).await;
    // robots.txt plus 5 pages: 6 request starts, at least 5 gaps of 100 ms.
    assert_eq!(pages.len(), 5);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}
