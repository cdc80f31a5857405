//! URL normalisation and crawl scope: one page has one URL, so it is fetched and indexed once.
//!
//! Knows nothing about HTTP; pure functions over `url::Url`.

use std::collections::{HashMap, HashSet};

use url::Url;

/// What to do with a trailing slash on the path (never applied to the root `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrailingSlash {
    /// Leave paths as the site links them.
    #[default]
    Keep,
    /// `/docs/` becomes `/docs`.
    Strip,
}

/// Query parameters that only track campaigns or referrers and never change the content.
fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_")
        || lower.starts_with("mc_")
        || matches!(
            lower.as_str(),
            "gclid" | "fbclid" | "ref" | "msclkid" | "yclid" | "dclid"
        )
}

/// Normalises an absolute http(s) URL: lowercase scheme and host (the url crate does both),
/// default port removed, fragment dropped, tracking parameters dropped, remaining parameters
/// sorted, trailing slash per policy. Returns `None` for other schemes.
pub fn normalize(url: &Url, slash: TrailingSlash) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let mut out = url.clone();
    out.set_fragment(None);
    // `Url` already omits a port equal to the scheme default; this covers explicit `:80`.
    if out.port().is_some() && out.port() == default_port(out.scheme()) {
        let _ = out.set_port(None);
    }
    let _ = out.set_username("");
    let _ = out.set_password(None);

    let mut params: Vec<(String, String)> = out
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    if params.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(params);
    }

    if slash == TrailingSlash::Strip {
        let path = out.path().to_owned();
        if path.len() > 1 && path.ends_with('/') {
            out.set_path(path.trim_end_matches('/'));
            if out.path().is_empty() {
                out.set_path("/");
            }
        }
    }
    Some(out)
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Site identity used for the same-site scope: host without a leading `www.`, plus scheme-free.
pub fn site_key(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Limits that keep endlessly varying URLs (calendars, `?page=N`, session ids in paths,
/// `/a/a/a/...` loops) from eating the crawl budget.
#[derive(Debug, Clone)]
pub struct TrapLimits {
    /// Distinct query strings accepted per path (`/calendar?month=…`).
    pub max_query_variants_per_path: usize,
    /// Path segments.
    pub max_path_segments: usize,
    /// Characters in path plus query.
    pub max_url_length: usize,
    /// How often the same segment may occur in one path.
    pub max_segment_repeats: usize,
    /// Distinct URLs accepted per parent directory shape whose last segment is purely numeric
    /// or date-like (`/calendar/2024/05`, `/calendar/2024/06`, …): catches path calendars.
    pub max_numeric_siblings: usize,
}

impl Default for TrapLimits {
    fn default() -> Self {
        Self {
            max_query_variants_per_path: 25,
            max_path_segments: 12,
            max_url_length: 512,
            max_segment_repeats: 2,
            max_numeric_siblings: 500,
        }
    }
}

/// Why a URL was judged a trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    TooManyQueryVariants,
    PathTooDeep,
    UrlTooLong,
    RepeatedSegments,
    TooManyNumericSiblings,
}

/// Counts URL variants as they are admitted to the frontier.
#[derive(Debug, Default)]
pub struct TrapGuard {
    limits: TrapLimits,
    query_variants: HashMap<String, HashSet<String>>,
    numeric_siblings: HashMap<String, usize>,
}

impl TrapGuard {
    pub fn new(limits: TrapLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Records `url` and says whether it is admitted. Call once per new, normalised URL.
    pub fn admit(&mut self, url: &Url) -> Result<(), TrapKind> {
        let path = url.path();
        let query = url.query().unwrap_or("");
        if path.len() + query.len() > self.limits.max_url_length {
            return Err(TrapKind::UrlTooLong);
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() > self.limits.max_path_segments {
            return Err(TrapKind::PathTooDeep);
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for segment in &segments {
            let count = counts.entry(segment).or_insert(0);
            *count += 1;
            if *count > self.limits.max_segment_repeats {
                return Err(TrapKind::RepeatedSegments);
            }
        }
        if !query.is_empty() {
            let variants = self.query_variants.entry(path.to_owned()).or_default();
            if !variants.contains(query) {
                if variants.len() >= self.limits.max_query_variants_per_path {
                    return Err(TrapKind::TooManyQueryVariants);
                }
                variants.insert(query.to_owned());
            }
        }
        // Only purely numeric or date-like segments (`05`, `2026-05`, `20260501`): ids mixed
        // with words (`360012-reset-password`, `12.html`) are ordinary articles.
        if let Some(last) = segments.last()
            && last.bytes().any(|b| b.is_ascii_digit())
            && last
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            let shape: String = last
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            let parent = &path[..path.len().saturating_sub(last.len())];
            // Collapse digits in the parent too, so /2024/05 and /2025/01 share one bucket.
            let parent_shape: String = parent
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            let count = self
                .numeric_siblings
                .entry(format!("{parent_shape}{shape}"))
                .or_insert(0);
            if *count >= self.limits.max_numeric_siblings {
                return Err(TrapKind::TooManyNumericSiblings);
            }
            *count += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, slash: TrailingSlash, expected: &str) {
        let url = Url::parse(input).ok();
        let got = url
            .and_then(|u| normalize(&u, slash))
            .map(|u| u.to_string());
        assert_eq!(got.as_deref(), Some(expected), "input {input}");
    }

    #[test]
    fn normalisation() {
        check(
            "HTTP://Example.COM:80/a#x",
            TrailingSlash::Keep,
            "http://example.com/a",
        );
        check(
            "https://example.com:443/",
            TrailingSlash::Keep,
            "https://example.com/",
        );
        check(
            "http://example.com:8080/a/",
            TrailingSlash::Strip,
            "http://example.com:8080/a",
        );
        check(
            "http://e.com/?b=2&utm_source=x&a=1&gclid=z&fbclid=q&mc_cid=1&ref=hn",
            TrailingSlash::Keep,
            "http://e.com/?a=1&b=2",
        );
        check(
            "http://e.com/?utm_medium=x",
            TrailingSlash::Keep,
            "http://e.com/",
        );
        check("http://e.com/", TrailingSlash::Strip, "http://e.com/");
        check("http://u:p@e.com/x", TrailingSlash::Keep, "http://e.com/x");
    }

    #[test]
    fn other_schemes_rejected() {
        for u in [
            "mailto:a@b.c",
            "javascript:alert(1)",
            "ftp://e.com/x",
            "data:text/plain,hi",
        ] {
            let parsed = Url::parse(u).ok();
            assert!(
                parsed
                    .and_then(|p| normalize(&p, TrailingSlash::Keep))
                    .is_none(),
                "{u}"
            );
        }
    }

    #[test]
    fn trap_guard_caps_variants() {
        let mut guard = TrapGuard::new(TrapLimits {
            max_query_variants_per_path: 3,
            ..TrapLimits::default()
        });
        let admitted = (0..100)
            .filter_map(|i| Url::parse(&format!("http://e.com/list?page={i}")).ok())
            .filter(|u| guard.admit(u).is_ok())
            .count();
        assert_eq!(admitted, 3);
        let deep = Url::parse("http://e.com/a/b/a/b/a/b").ok();
        assert!(deep.is_some_and(|u| guard.admit(&u) == Err(TrapKind::RepeatedSegments)));
        let mut guard = TrapGuard::new(TrapLimits {
            max_numeric_siblings: 5,
            ..TrapLimits::default()
        });
        let admitted = (0..40)
            .filter_map(|i| {
                Url::parse(&format!(
                    "http://e.com/calendar/{}/{:02}",
                    2020 + i / 12,
                    i % 12 + 1
                ))
                .ok()
            })
            .filter(|u| guard.admit(u).is_ok())
            .count();
        assert_eq!(admitted, 5);
    }
}
