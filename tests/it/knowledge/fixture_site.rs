//! Fixture web server for crawler tests and the throughput bench: serves `fixtures/site/` on
//! 127.0.0.1 plus generated hostile routes (redirects, loops, a huge page, a calendar trap,
//! slow and failing pages) and an optional generated N-page site under `/gen/`.
//!
//! Static files get a stable `ETag` and `Last-Modified` and honour conditional requests.
//! `{{BASE}}` in `.xml` and `.txt` files is replaced by the server's base URL.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path_and_query: String,
    pub conditional: bool,
}

#[derive(Clone)]
struct Shared {
    root: PathBuf,
    base: String,
    generated_pages: usize,
    log: Arc<Mutex<Vec<Seen>>>,
}

/// A running fixture server; stops when dropped.
pub struct FixtureServer {
    pub base: String,
    log: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FixtureServer {
    /// Serves the help-center fixture site.
    pub async fn start() -> Self {
        Self::start_with_generated(0).await
    }

    /// Serves the fixture site plus `/gen/0.html` … `/gen/{n-1}.html`.
    pub async fn start_with_generated(generated_pages: usize) -> Self {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(err) => panic!("bind fixture server: {err}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(err) => panic!("fixture server address: {err}"),
        };
        let base = format!("http://{addr}");
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/helpcenter/site"),
            base: base.clone(),
            generated_pages,
            log: Arc::clone(&log),
        };
        let app = Router::new().fallback(handle).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, log, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Requests seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// How often a path (with query) was requested.
    pub fn hits(&self, path_and_query: &str) -> usize {
        self.requests()
            .iter()
            .filter(|s| s.path_and_query == path_and_query)
            .count()
    }
}

async fn handle(State(shared): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| path.clone());
    let conditional = headers.contains_key(header::IF_NONE_MATCH)
        || headers.contains_key(header::IF_MODIFIED_SINCE);
    if let Ok(mut log) = shared.log.lock() {
        log.push(Seen {
            path_and_query,
            conditional,
        });
    }

    match path.as_str() {
        "/old/pricing" => {
            return redirect(StatusCode::MOVED_PERMANENTLY, "/billing/pricing-plans.html");
        }
        "/redirect-loop" => return redirect(StatusCode::FOUND, "/redirect-loop-2"),
        "/redirect-loop-2" => return redirect(StatusCode::FOUND, "/redirect-loop"),
        "/redirect-to-loopback" => {
            return redirect(StatusCode::FOUND, &format!("{}/", shared.base));
        }
        "/redirect-to-metadata" => {
            return redirect(
                StatusCode::FOUND,
                "http://169.254.169.254/latest/meta-data/",
            );
        }
        "/redirect-offsite" => return redirect(StatusCode::FOUND, "http://example.invalid/"),
        "/server-error" => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            return html("<html><body><h1>Slow</h1></body></html>".to_owned());
        }
        "/downloads/full-contact-export-sample.html" => return huge_page(),
        "/huge-chunked" => return huge_chunked(),
        "/events/calendar" => return calendar(uri.query().unwrap_or("")),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/gen/") {
        return generated(rest, shared.generated_pages);
    }
    static_file(&shared, &path, &headers).await
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// 20 MB of contact rows: the crawler's size cap must abort it.
fn huge_page() -> Response {
    let row = "<tr><td>Jane Doe</td><td>jane@example.com</td><td>Acme</td></tr>\n";
    let mut body = String::with_capacity(20 * 1024 * 1024 + 100);
    body.push_str("<html><body><table>\n");
    while body.len() < 20 * 1024 * 1024 {
        body.push_str(row);
    }
    body.push_str("</table></body></html>");
    html(body)
}

/// 25 MB streamed without `Content-Length`: the cap must abort the body mid-stream.
fn huge_chunked() -> Response {
    let chunk = bytes_of_len(64 * 1024);
    let stream =
        futures::stream::iter((0..400).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let mut response = Response::new(Body::from_stream(stream));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

fn bytes_of_len(len: usize) -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b'a'; len])
}

/// An endless calendar: every month links to the previous and next month.
fn calendar(query: &str) -> Response {
    let month = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("month="))
        .unwrap_or("2026-01");
    let (year, mon) = month.split_once('-').unwrap_or(("2026", "01"));
    let year: i32 = year.parse().unwrap_or(2026);
    let mon: i32 = mon.parse().unwrap_or(1).clamp(1, 12);
    let index = year * 12 + (mon - 1);
    let fmt = |i: i32| format!("{}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1);
    html(format!(
        "<html><head><title>Webinars {month}</title></head><body><h1>Webinar calendar {month}</h1>\
         <p>No webinars this month.</p>\
         <a href=\"/events/calendar?month={}\">Previous month</a> <a href=\"/events/calendar?month={}\">Next month</a>\
         <a href=\"/events/calendar?month={}&amp;view=week\">Week view</a></body></html>",
        fmt(index - 1),
        fmt(index + 1),
        fmt(index)
    ))
}

/// Page `n` of a generated site: ~4 KB of text and links to 8 other pages.
fn generated(rest: &str, pages: usize) -> Response {
    let n: usize = match rest.strip_suffix(".html").and_then(|s| s.parse().ok()) {
        Some(n) if n < pages => n,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut body = format!(
        "<!DOCTYPE html><html><head><title>Generated article {n}</title></head><body>\
         <nav><a href=\"/gen/0.html\">Home</a></nav><main><h1>Generated article {n}</h1>"
    );
    for p in 0..12 {
        body.push_str(&format!(
            "<p>Paragraph {p} of article {n}. Acme CRM keeps contacts, deals and tasks in one place so that \
             sales and support teams share the same customer history and never ask twice.</p>"
        ));
    }
    body.push_str("<ul>");
    for k in 1..=8usize {
        let target = (n * 8 + k) % pages;
        body.push_str(&format!(
            "<li><a href=\"/gen/{target}.html\">Article {target}</a></li>"
        ));
    }
    body.push_str("</ul></main></body></html>");
    html(body)
}

async fn static_file(shared: &Shared, path: &str, headers: &HeaderMap) -> Response {
    jambo_worker::cli::demo::site::static_file(&shared.root, &shared.base, path, headers).await
}
