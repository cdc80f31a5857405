//! Link discovery in HTML with `lol_html` (the streaming parser spider itself uses).
//!
//! Returns absolute URLs as written; normalisation and scope belong to the engine.

use crate::text::html::decode_entities;
use lol_html::{HtmlRewriter, Settings, element};
use url::Url;

/// Upper bound on links taken from one page, so a hostile page cannot flood the frontier.
pub const MAX_LINKS_PER_PAGE: usize = 2_000;

/// Absolute `a[href]`/`area[href]` targets of an HTML document, resolved against `<base href>`
/// (when it appears before the links) or `page_url`. Malformed HTML yields what was parsed.
pub fn extract_links(html: &[u8], page_url: &Url) -> Vec<Url> {
    let mut raw: Vec<String> = Vec::new();
    let mut base: Option<Url> = None;
    let mut nofollow = false;
    {
        let mut rewriter = HtmlRewriter::new(
            Settings {
                element_content_handlers: vec![
                    element!("base[href]", |el| {
                        if base.is_none()
                            && let Some(href) = el.get_attribute("href")
                        {
                            base = page_url.join(decode_entities(&href).trim()).ok();
                        }
                        Ok(())
                    }),
                    element!("meta[name]", |el| {
                        let is_robots = el
                            .get_attribute("name")
                            .is_some_and(|n| n.eq_ignore_ascii_case("robots"));
                        let content = el
                            .get_attribute("content")
                            .unwrap_or_default()
                            .to_ascii_lowercase();
                        if is_robots && (content.contains("nofollow") || content.contains("none")) {
                            nofollow = true;
                        }
                        Ok(())
                    }),
                    element!("a[href], area[href]", |el| {
                        if raw.len() < MAX_LINKS_PER_PAGE {
                            let rel = el
                                .get_attribute("rel")
                                .unwrap_or_default()
                                .to_ascii_lowercase();
                            if !rel.split_ascii_whitespace().any(|r| r == "nofollow")
                                && let Some(href) = el.get_attribute("href")
                            {
                                raw.push(decode_entities(&href).into_owned());
                            }
                        }
                        Ok(())
                    }),
                ],
                ..Settings::new()
            },
            |_: &[u8]| {},
        );
        // A parse error only stops discovery on this page; keep what we have.
        if rewriter.write(html).is_ok() {
            let _ = rewriter.end();
        }
    }
    if nofollow {
        return Vec::new();
    }
    let base = base.unwrap_or_else(|| page_url.clone());
    raw.iter()
        .filter_map(|href| {
            let href = href.trim();
            if href.is_empty() || href.starts_with('#') {
                return None;
            }
            base.join(href).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_and_base() {
        let page = Url::parse("http://e.com/docs/a.html").ok();
        let Some(page) = page else { return };
        let html = br##"<html><head><base href="/root/"></head><body>
            <a href="b">b</a><a href="#top">self</a><a href="mailto:x@y">m</a>
            <a href="http://other.com/x">x</a><a rel="nofollow" href="/nf">nf</a><a href="  /c  ">c</a>"##;
        let links: Vec<String> = extract_links(html, &page)
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            links,
            vec![
                "http://e.com/root/b",
                "mailto:x@y",
                "http://other.com/x",
                "http://e.com/c"
            ]
        );
    }

    #[test]
    fn entities_in_href() {
        assert_eq!(
            decode_entities("/a?x=1&amp;y=2&#38;z=3&#x26;w"),
            "/a?x=1&y=2&z=3&w"
        );
        assert_eq!(decode_entities("&copy; & &amp"), "© & &amp");
        assert_eq!(decode_entities("é&amp;ü&"), "é&ü&");
    }

    #[test]
    fn garbage_does_not_panic() {
        let page = Url::parse("http://e.com/").ok();
        let Some(page) = page else { return };
        for input in [
            &b""[..],
            b"<a href=",
            b"\xff\xfe<a href='/x'>",
            b"<<<<a href=\"/y\">>>",
            b"<meta name=robots content=nofollow><a href=/z>",
        ] {
            let _ = extract_links(input, &page);
        }
    }
}
