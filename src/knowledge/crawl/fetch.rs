//! One HTTP GET through the guarded client: conditional headers, content-type filter before the
//! body is read, a streaming size cap that aborts oversized bodies, and error classification.
//!
//! Knows nothing about the frontier, scope or robots.

use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use spider::reqwest::{self, StatusCode, header};
use url::Url;

use super::guard::{
    self, BLOCKED_MARKER, NetworkPolicy, REDIRECT_LOOP_MARKER, TOO_MANY_REDIRECTS_MARKER,
};
use super::{ContentKind, FailureReason, PreviousPage};

/// What the fetcher is told about one request.
pub struct FetchSpec<'a> {
    pub url: &'a Url,
    pub previous: Option<&'a PreviousPage>,
    pub max_body_bytes: u64,
    /// `None` accepts any type (robots.txt, sitemaps).
    pub kinds: Option<&'a [ContentKind]>,
    pub policy: NetworkPolicy,
}

/// A completed response.
pub enum Fetched {
    Body(Response),
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

pub struct Response {
    pub final_url: Url,
    pub status: u16,
    pub content_type: String,
    pub kind: Option<ContentKind>,
    pub body: Bytes,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: SystemTime,
}

pub async fn fetch(
    client: &reqwest::Client,
    spec: FetchSpec<'_>,
) -> Result<Fetched, FailureReason> {
    // IP-literal hosts never reach the resolver; check them here (redirects: see guard policy).
    if guard::url_is_blocked(spec.url, spec.policy) {
        return Err(FailureReason::BlockedBySsrfGuard);
    }
    let mut request = client.get(spec.url.as_str()).header(
        header::ACCEPT,
        "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/pdf;q=0.8,*/*;q=0.5",
    );
    if let Some(previous) = spec.previous {
        if let Some(etag) = &previous.etag {
            request = request.header(header::IF_NONE_MATCH, etag.as_str());
        }
        if let Some(last_modified) = &previous.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, last_modified.as_str());
        }
    }
    let mut response = request.send().await.map_err(|err| classify(&err))?;
    let final_url = response.url().clone();
    let status = response.status();
    let etag = header_string(response.headers(), header::ETAG);
    let last_modified = header_string(response.headers(), header::LAST_MODIFIED);

    let asked_conditionally = spec
        .previous
        .is_some_and(|p| p.etag.is_some() || p.last_modified.is_some());
    if status == StatusCode::NOT_MODIFIED && asked_conditionally {
        return Ok(Fetched::NotModified {
            etag,
            last_modified,
        });
    }
    if !status.is_success() {
        return Err(FailureReason::HttpStatus(status.as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|len| len > spec.max_body_bytes)
    {
        return Err(FailureReason::TooLarge {
            limit: spec.max_body_bytes,
        });
    }
    let declared_type = header_string(response.headers(), header::CONTENT_TYPE);
    let declared_kind = declared_type
        .as_deref()
        .and_then(|ct| kind_from_content_type(ct, &final_url));
    if let (Some(kinds), Some(ct)) = (spec.kinds, declared_type.as_deref())
        && !declared_kind.is_some_and(|k| kinds.contains(&k))
        && !is_generic_type(ct)
    {
        return Err(FailureReason::UnsupportedType(ct.to_owned()));
    }

    let mut body = BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > spec.max_body_bytes {
                    return Err(FailureReason::TooLarge {
                        limit: spec.max_body_bytes,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) => return Err(classify(&err)),
        }
    }
    let body = body.freeze();

    // Missing or generic (`application/octet-stream`) types are sniffed from the bytes.
    let (content_type, kind) = match (declared_type, declared_kind) {
        (Some(ct), Some(kind)) => (ct, Some(kind)),
        (declared, _) => match sniff(&body, &final_url) {
            Some((sniffed, kind)) => (declared.unwrap_or_else(|| sniffed.to_owned()), Some(kind)),
            None => (
                declared.unwrap_or_else(|| "application/octet-stream".to_owned()),
                None,
            ),
        },
    };
    if let Some(kinds) = spec.kinds
        && !kind.is_some_and(|k| kinds.contains(&k))
    {
        return Err(FailureReason::UnsupportedType(content_type));
    }
    Ok(Fetched::Body(Response {
        final_url,
        status: status.as_u16(),
        content_type,
        kind,
        body,
        etag,
        last_modified,
        fetched_at: SystemTime::now(),
    }))
}

fn header_string(headers: &header::HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Maps a declared `Content-Type` to a kind; `text/plain` files named `*.md` are Markdown.
pub fn kind_from_content_type(content_type: &str, url: &Url) -> Option<ContentKind> {
    let mime = crate::knowledge::extract::mime_type(content_type);
    match mime.as_str() {
        "text/html" | "application/xhtml+xml" => Some(ContentKind::Html),
        "text/markdown" | "text/x-markdown" => Some(ContentKind::Markdown),
        "text/plain" if has_markdown_extension(url) => Some(ContentKind::Markdown),
        "text/plain" => Some(ContentKind::PlainText),
        "application/pdf" | "application/x-pdf" => Some(ContentKind::Pdf),
        _ => None,
    }
}

fn is_generic_type(content_type: &str) -> bool {
    let mime = crate::knowledge::extract::mime_type(content_type);
    mime == "application/octet-stream" || mime == "binary/octet-stream"
}

fn has_markdown_extension(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    path.ends_with(".md") || path.ends_with(".markdown")
}

/// Guesses the kind of an untyped body: PDF magic, HTML markers, else UTF-8 text.
fn sniff(body: &[u8], url: &Url) -> Option<(&'static str, ContentKind)> {
    if body.starts_with(b"%PDF-") {
        return Some(("application/pdf", ContentKind::Pdf));
    }
    let head = &body[..body.len().min(1024)];
    let head_lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = head_lower.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("<!doctype html")
        || trimmed.starts_with("<html")
        || head_lower.contains("<body")
    {
        return Some(("text/html", ContentKind::Html));
    }
    let looks_textual = std::str::from_utf8(body).is_ok() && !body.contains(&0);
    match (looks_textual, has_markdown_extension(url)) {
        (true, true) => Some(("text/markdown", ContentKind::Markdown)),
        (true, false) => Some(("text/plain", ContentKind::PlainText)),
        (false, _) => None,
    }
}

/// Turns a reqwest error into a failure reason.
pub fn classify(err: &reqwest::Error) -> FailureReason {
    if guard::error_chain_contains(err, BLOCKED_MARKER) {
        return FailureReason::BlockedBySsrfGuard;
    }
    if guard::error_chain_contains(err, REDIRECT_LOOP_MARKER) {
        return FailureReason::RedirectLoop;
    }
    if guard::error_chain_contains(err, TOO_MANY_REDIRECTS_MARKER) || err.is_redirect() {
        return FailureReason::TooManyRedirects;
    }
    if err.is_timeout() {
        return FailureReason::Timeout;
    }
    if err.is_connect() {
        return FailureReason::Unreachable(root_cause(err));
    }
    FailureReason::Other(root_cause(err))
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
