//! The sender's website in text (social, meeting and link-shortener hosts are not one), and the
//! country-code TLD of a domain or URL.

use std::sync::LazyLock;

use regex::Regex;

use super::tables::NOT_A_WEBSITE;

static WEB_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?://|www\.)[^\s<>"'()\[\]]+"#).expect("static regex")
});

/// The first URL in `text` that is not a social, meeting or link-shortener host, without
/// trailing punctuation.
pub(super) fn first_website(text: &str) -> Option<String> {
    WEB_URL
        .find_iter(text)
        .map(|m| {
            m.as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?'])
                .to_string()
        })
        .find(|url| {
            let lower = url.to_lowercase();
            let host = lower
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.");
            !NOT_A_WEBSITE.iter().any(|n| host.starts_with(n)) && !lower.contains('@')
        })
}

/// The top-level label of a domain or URL, lower case.
pub(super) fn tld_of(domain_or_url: &str) -> Option<String> {
    let host = domain_or_url
        .split("://")
        .last()
        .unwrap_or("")
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or("");
    let tld = host.rsplit('.').next()?.to_lowercase();
    (tld.len() == 2 && tld.chars().all(|c| c.is_ascii_alphabetic())).then_some(tld)
}
