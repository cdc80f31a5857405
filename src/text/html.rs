//! HTML character references, decoded once for every layer (link and sitemap URLs, e-mail bodies)
//! by the `html-escape` crate: every HTML5 named reference and numeric references, each ending
//! in `;`. Unknown names, invalid code points and C0 controls stay as written.

use std::borrow::Cow;

/// `a &amp; b &#233;` becomes `a & b é`; `&bogus;` stays.
pub fn decode_entities(text: &str) -> Cow<'_, str> {
    html_escape::decode_html_entities(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_named_and_numeric_references() {
        assert_eq!(
            decode_entities("a &amp; b &#233; &#x263A; &bogus; &euro;&nbsp;5"),
            "a & b é ☺ &bogus; €\u{a0}5"
        );
        assert_eq!(decode_entities("?a=1&amp;b=2&c=3"), "?a=1&b=2&c=3");
        // a reference needs its `;`: a query string is not decoded by accident
        assert_eq!(decode_entities("?x=1&copy=2"), "?x=1&copy=2");
        assert_eq!(decode_entities("&#0; &#1;"), "&#0; &#1;");
    }
}
