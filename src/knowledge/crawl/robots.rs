//! robots.txt rules per origin, parsed with spider's `RobotFileParser`.
//!
//! Fetching is the engine's job (through the guarded client); this only interprets.

use std::time::Duration;

use spider::compact_str::CompactString;
use spider::packages::robotparser::parser::RobotFileParser;

/// The rules of one origin.
pub enum Robots {
    /// No robots.txt (4xx) or robots disabled: everything allowed.
    AllowAll,
    /// robots.txt unreachable (5xx, network error): RFC 9309 says assume complete disallow.
    DisallowAll,
    Parsed {
        parser: Box<RobotFileParser>,
        sitemaps: Vec<String>,
    },
}

impl Robots {
    /// Parses a robots.txt body (invalid UTF-8 is replaced, never rejected).
    pub fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut parser = RobotFileParser::new();
        parser.parse_str(&text);
        // `can_fetch` refuses everything until the parser is marked as read.
        parser.modified();
        let sitemaps = text
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case("sitemap")
                    .then(|| value.trim().to_owned())
            })
            .filter(|v| !v.is_empty())
            .collect();
        Self::Parsed { parser, sitemaps }
    }

    pub fn allows(&self, agent: &str, url: &str) -> bool {
        match self {
            Self::AllowAll => true,
            Self::DisallowAll => false,
            Self::Parsed { parser, .. } => parser.can_fetch(agent, url),
        }
    }

    pub fn crawl_delay(&self, agent: &str) -> Option<Duration> {
        match self {
            Self::Parsed { parser, .. } => {
                parser.get_crawl_delay(&Some(Box::new(CompactString::new(agent))))
            }
            _ => None,
        }
    }

    pub fn sitemaps(&self) -> &[String] {
        match self {
            Self::Parsed { sitemaps, .. } => sitemaps,
            _ => &[],
        }
    }
}

/// The robots.txt product token of a user agent: `jambo-worker/0.1 (...)` → `jambo-worker`.
pub fn agent_token(user_agent: &str) -> String {
    user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or(user_agent)
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disallow_and_sitemap_lines() {
        let robots = Robots::parse(
            b"User-agent: *\nDisallow: /internal/\nSitemap: http://e.com/sitemap.xml\n",
        );
        assert!(!robots.allows("jambo-worker", "http://e.com/internal/x"));
        assert!(robots.allows("jambo-worker", "http://e.com/docs"));
        assert_eq!(robots.sitemaps(), ["http://e.com/sitemap.xml".to_owned()]);
        let _ = Robots::parse(b"\xff\xfe garbage \n Disallow");
        assert_eq!(agent_token("jambo-worker/0.1 (+x)"), "jambo-worker");
    }
}
