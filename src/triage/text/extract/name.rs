//! The sender's name: on the first lines of the signature, or introduced in the text ("my name
//! is", "ich heiße", "me llamo", …).

use std::sync::LazyLock;

use regex::Regex;

use super::company::has_company_suffix;
use super::tables::NOT_NAME_WORDS;

const NAME: &str = r"\p{Lu}[\p{L}'’-]+(?:[ \t]+(?:(?:van|von|de|da|del|di|der|den|la|le|dos|das)[ \t]+)?\p{Lu}[\p{L}'’-]+){0,3}";

static NAME_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b(?:(?i:my name is|i am|i'm|this is|mein name ist|ich bin|ich heiße|me llamo|mi nombre es|soy|je m'appelle|je suis|mon nom est|mijn naam is|ik ben|ik heet|mi chiamo|il mio nome è|sono|meu nome é|chamo-me|eu sou|sou))[ \t]+({NAME})"))
        .expect("static regex")
});
static NAME_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^({NAME})\s*[,|–-]?")).expect("static regex"));

/// A name introduced in `text` ("my name is Maria Lopez", "je m'appelle Claire Martin").
pub(super) fn name_in_text(text: &str) -> Option<String> {
    NAME_IN_TEXT.captures(text).map(|c| c[1].trim().to_string())
}

/// A name on one of the first two signature lines: two to four capitalised words (0.75), or
/// one alone on the first line ("John", 0.6).
pub(super) fn name_from_signature(signature: &str) -> Option<(String, f32)> {
    signature
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(2)
        .enumerate()
        .find_map(|(i, line)| {
            if line.chars().any(|c| c.is_ascii_digit() || c == '@') || line.chars().count() > 60 {
                return None;
            }
            let c = NAME_LINE.captures(line)?;
            let name = c[1].trim().to_string();
            let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
            let is_title = words.iter().any(|w| NOT_NAME_WORDS.contains(&w.as_str()));
            let is_company = has_company_suffix(line);
            if is_title || is_company || words.len() > 4 {
                return None;
            }
            match words.len() {
                1 if i == 0 && name == line.trim_end_matches([',', '.']) => Some((name, 0.6)),
                2.. => Some((name, 0.75)),
                _ => None,
            }
        })
}
