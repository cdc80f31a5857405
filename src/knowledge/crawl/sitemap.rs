//! Sitemap parsing (`<urlset>` and `<sitemapindex>`, with `<lastmod>`), tolerant of junk.
//!
//! Pure parsing; fetching nested sitemaps is the engine's job.

use spider::quick_xml::Reader;
use spider::quick_xml::events::Event;

/// One `<url>` or `<sitemap>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapEntry {
    pub loc: String,
    /// `<lastmod>` as written (W3C datetime); compared as an opaque string.
    pub lastmod: Option<String>,
}

/// A parsed sitemap document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Page entries of a `<urlset>`.
    pub pages: Vec<SitemapEntry>,
    /// Child sitemaps of a `<sitemapindex>`.
    pub sitemaps: Vec<SitemapEntry>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Loc,
    Lastmod,
}

/// Parses a sitemap. Malformed XML ends parsing and keeps what was read so far.
/// A plain-text sitemap (one URL per line) is accepted too.
pub fn parse(body: &[u8], max_entries: usize) -> Sitemap {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('<') {
        let pages = trimmed
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            .take(max_entries)
            .map(|l| SitemapEntry {
                loc: l.to_owned(),
                lastmod: None,
            })
            .collect();
        return Sitemap {
            pages,
            sitemaps: Vec::new(),
        };
    }

    let mut reader = Reader::from_str(trimmed);
    let mut out = Sitemap::default();
    let mut in_sitemap_entry = false;
    let mut in_url_entry = false;
    let mut field = Field::None;
    let mut loc = String::new();
    let mut lastmod = String::new();

    loop {
        if out.pages.len() + out.sitemaps.len() >= max_entries {
            break;
        }
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(_) => break,
        };
        match event {
            Event::Start(start) => {
                let name = start.local_name();
                match name.as_ref() {
                    b"url" => {
                        in_url_entry = true;
                        loc.clear();
                        lastmod.clear();
                    }
                    b"sitemap" => {
                        in_sitemap_entry = true;
                        loc.clear();
                        lastmod.clear();
                    }
                    b"loc" => field = Field::Loc,
                    b"lastmod" => field = Field::Lastmod,
                    _ => field = Field::None,
                }
            }
            Event::Text(text) => {
                push_text(field, &mut loc, &mut lastmod, text.decode().ok().as_deref())
            }
            Event::CData(data) => {
                push_text(field, &mut loc, &mut lastmod, data.decode().ok().as_deref())
            }
            Event::GeneralRef(reference) => {
                let resolved = reference.decode().ok().map(|name| {
                    crate::text::html::decode_entities(&format!("&{name};")).into_owned()
                });
                push_text(field, &mut loc, &mut lastmod, resolved.as_deref());
            }
            Event::End(end) => {
                let name = end.local_name();
                match name.as_ref() {
                    b"url" if in_url_entry => {
                        in_url_entry = false;
                        if let Some(entry) = entry(&loc, &lastmod) {
                            out.pages.push(entry);
                        }
                    }
                    b"sitemap" if in_sitemap_entry => {
                        in_sitemap_entry = false;
                        if let Some(entry) = entry(&loc, &lastmod) {
                            out.sitemaps.push(entry);
                        }
                    }
                    _ => {}
                }
                field = Field::None;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn push_text(field: Field, loc: &mut String, lastmod: &mut String, text: Option<&str>) {
    let Some(text) = text else { return };
    match field {
        Field::Loc => loc.push_str(text),
        Field::Lastmod => lastmod.push_str(text),
        Field::None => {}
    }
}

fn entry(loc: &str, lastmod: &str) -> Option<SitemapEntry> {
    let loc = loc.trim();
    if loc.is_empty() {
        return None;
    }
    let lastmod = lastmod.trim();
    Some(SitemapEntry {
        loc: loc.to_owned(),
        lastmod: (!lastmod.is_empty()).then(|| lastmod.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlset_and_index() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://e.com/a?x=1&amp;y=2</loc><lastmod>2026-01-02</lastmod></url>
  <url><loc> https://e.com/b </loc></url>
</urlset>"#;
        let map = parse(xml, 100);
        assert_eq!(map.pages.len(), 2);
        assert_eq!(map.pages[0].loc, "https://e.com/a?x=1&y=2");
        assert_eq!(map.pages[0].lastmod.as_deref(), Some("2026-01-02"));
        assert_eq!(map.pages[1].loc, "https://e.com/b");

        let index = br#"<sitemapindex><sitemap><loc>https://e.com/s1.xml</loc><lastmod>2026</lastmod></sitemap></sitemapindex>"#;
        let map = parse(index, 100);
        assert_eq!(map.sitemaps.len(), 1);
        assert!(map.pages.is_empty());
    }

    #[test]
    fn junk_does_not_panic() {
        for input in [
            &b""[..],
            b"<",
            b"<urlset><url><loc>",
            b"\xff\xfe\x00",
            b"<<<>>>&&&",
            b"<url><loc>&bogus;</loc></url>",
        ] {
            let _ = parse(input, 10);
        }
        let text = parse(b"https://e.com/a\nnot a url\nhttps://e.com/b\n", 10);
        assert_eq!(text.pages.len(), 2);
    }
}
