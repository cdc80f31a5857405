//! Charset decoding of fetched bytes with `encoding_rs`: byte order mark, then the `charset` of
//! the `Content-Type` header, then a `<meta charset>` in the first bytes of an HTML page, then
//! UTF-8 when valid, else windows-1252 (what browsers assume). Decoding never fails: bytes that
//! do not fit the chosen encoding become U+FFFD.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How far into an HTML page a `<meta charset>` is looked for (browsers look at 1024 bytes;
/// real pages often put it after long `<head>` preambles).
const META_SNIFF_BYTES: usize = 4096;

/// Decodes an HTML response body to text.
pub fn decode_html_bytes(bytes: &[u8], content_type: Option<&str>) -> String {
    let sniffed = sniff_meta_charset(bytes);
    decode_with_fallbacks(bytes, content_type, sniffed)
}

/// Decodes with the precedence of the module doc; `sniffed` is the encoding a `<meta>` named.
pub(super) fn decode_with_fallbacks(
    bytes: &[u8],
    content_type: Option<&str>,
    sniffed: Option<&'static Encoding>,
) -> String {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let without_bom = bytes.get(bom_length..).unwrap_or_default();
        return encoding
            .decode_without_bom_handling(without_bom)
            .0
            .into_owned();
    }
    let declared = content_type
        .and_then(charset_parameter)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .filter(|encoding| !is_false_utf16_label(encoding, bytes));
    let chosen = declared.or(sniffed).unwrap_or(UTF_8);
    let encoding = if chosen == UTF_8 && looks_like_mislabelled_legacy(bytes) {
        WINDOWS_1252
    } else {
        chosen
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// UTF-16 without a byte order mark is rare; markup in UTF-16 is about half NUL bytes, so a
/// UTF-16 label on bytes with few NULs (under one in eight of the first 512) is a mislabelled
/// ASCII-compatible page.
fn is_false_utf16_label(encoding: &&'static Encoding, bytes: &[u8]) -> bool {
    let is_utf16 = *encoding == UTF_16LE || *encoding == UTF_16BE;
    let sample = &bytes[..bytes.len().min(512)];
    let nul_count = sample.iter().filter(|byte| **byte == 0).count();
    is_utf16 && nul_count * 8 < sample.len()
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
fn charset_parameter(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let label = value.trim().trim_matches(['"', '\'']).trim();
        (!label.is_empty()).then(|| label.to_string())
    })
}

/// Finds `<meta charset="...">` or `<meta http-equiv="Content-Type" content="...; charset=...">`
/// near the start of the page.
fn sniff_meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_SNIFF_BYTES)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(meta_start) = rest.find("<meta") {
        let tag_and_after = &rest[meta_start..];
        let tag_end = tag_and_after.find('>').unwrap_or(tag_and_after.len());
        let tag = &tag_and_after[..tag_end];
        if let Some(charset_start) = tag.find("charset=") {
            let value =
                tag[charset_start + "charset=".len()..].trim_start_matches(['"', '\'', ' ']);
            let label: String = value
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                .collect();
            if let Some(encoding) = Encoding::for_label(label.as_bytes()) {
                // a page that could be read as ASCII to find this tag is not UTF-16 (WHATWG)
                let is_utf16 = encoding == UTF_16LE || encoding == UTF_16BE;
                return Some(if is_utf16 { UTF_8 } else { encoding });
            }
        }
        rest = &tag_and_after[tag_end..];
    }
    None
}

/// True when bytes said (or assumed) to be UTF-8 contain invalid sequences and not a single
/// valid multi-byte character: a legacy single-byte page with a wrong or missing label.
fn looks_like_mislabelled_legacy(bytes: &[u8]) -> bool {
    let mut has_invalid_sequence = false;
    for chunk in bytes.utf8_chunks() {
        if !chunk.valid().is_ascii() {
            return false;
        }
        has_invalid_sequence |= !chunk.invalid().is_empty();
    }
    has_invalid_sequence
}
