//! A static web server for the bundled help-center site (`fixtures/helpcenter/site`), served on
//! loopback by `demo` and by the tests: stable `ETag` and `Last-Modified`, conditional requests
//! answered with 304, and `{{BASE}}` in `.xml` and `.txt` files replaced by the server's URL.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Fixed `Last-Modified` of every static file.
pub const LAST_MODIFIED: &str = "Tue, 20 Oct 2026 09:00:00 GMT";

/// Where the bundled site is: next to the binary's sources (a checkout), else `./fixtures`.
pub fn bundled_site_dir() -> PathBuf {
    let built = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/helpcenter/site"
    ));
    if built.is_dir() {
        built
    } else {
        PathBuf::from("fixtures/helpcenter/site")
    }
}

/// Serves `root` on 127.0.0.1 (a free port); returns the base URL and the server task.
pub async fn serve(root: PathBuf) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shared = (root, base.clone());
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
        let (root, base) = shared.clone();
        async move { static_file(&root, &base, uri.path(), &headers).await }
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((base, task))
}

/// One file of `root`, or 404.
pub async fn static_file(root: &Path, base: &str, path: &str, headers: &HeaderMap) -> Response {
    let mut relative = path.trim_start_matches('/').to_owned();
    if relative.is_empty() || relative.ends_with('/') {
        relative.push_str("index.html");
    }
    if relative.split('/').any(|segment| segment == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = root.join(&relative);
    let Ok(mut bytes) = tokio::fs::read(&file).await else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            "<h1>Not found</h1>",
        )
            .into_response();
    };
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(extension, "xml" | "txt") {
        bytes = String::from_utf8_lossy(&bytes)
            .replace("{{BASE}}", base)
            .into_bytes();
    }
    let content_type = match extension {
        "html" => "text/html; charset=utf-8",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    };
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let etag = format!("\"{:016x}\"", hasher.finish());

    let etag_matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let not_modified_since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == LAST_MODIFIED);
    let has_inm = headers.contains_key(header::IF_NONE_MATCH);
    if etag_matches || (!has_inm && not_modified_since) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return response;
    }
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_static(LAST_MODIFIED),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    response
}
