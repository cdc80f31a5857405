//! Whitespace normalisation shared by every extractor: runs of whitespace (including
//! no-break spaces) become one space, invisible characters are dropped, ends are trimmed.

/// Collapses whitespace runs to one space, drops zero-width and soft-hyphen characters, trims.
pub fn normalize_whitespace(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in text.chars() {
        if is_invisible(character) {
            continue;
        }
        if character.is_whitespace() {
            pending_space = !normalized.is_empty();
            continue;
        }
        if pending_space {
            normalized.push(' ');
            pending_space = false;
        }
        normalized.push(character);
    }
    normalized
}

/// Characters that render as nothing and would only split words for the tokenizer.
pub fn is_invisible(character: char) -> bool {
    matches!(
        character,
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Code blocks keep their text verbatim except invisible characters, trailing whitespace of
/// each line, and blank lines at the start and the end.
pub fn normalize_code(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|character| !is_invisible(*character))
        .collect();
    let lines: Vec<&str> = cleaned.lines().map(str::trim_end).collect();
    let first_content = lines.iter().position(|line| !line.is_empty());
    let last_content = lines.iter().rposition(|line| !line.is_empty());
    match (first_content, last_content) {
        (Some(first), Some(last)) => lines[first..=last].join("\n"),
        _ => String::new(),
    }
}

/// `"how-to-reset_your-password"` becomes `"how to reset your password"`.
pub fn title_from_slug(slug: &str) -> String {
    normalize_whitespace(&slug.replace(['-', '_', '+'], " "))
}

/// A title from the last path segment of a URL, without extension or query.
pub fn title_from_url(url: &str) -> Option<String> {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    // the path only: never the scheme or host (`https://x.example/` has no title)
    let path = match without_query.split_once("://") {
        Some((_scheme, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
        None => without_query,
    };
    let last_segment = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if last_segment.is_empty() {
        return None;
    }
    let stem = match last_segment.rsplit_once('.') {
        Some((stem, _extension)) if !stem.is_empty() => stem,
        _ => last_segment,
    };
    let title = title_from_slug(stem);
    if title.is_empty() || stem.eq_ignore_ascii_case("index") {
        None
    } else {
        Some(title)
    }
}
