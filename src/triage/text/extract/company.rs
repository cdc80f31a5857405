//! The sender's company: a labelled line, a name with a legal suffix, a title line of the
//! signature, a cue in the text ("work at", "trabajo en", …), or the e-mail domain.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::tables::{LEADING_NOISE, TITLE_WORDS, TWO_LEVEL_SUFFIXES};

const COMPANY_SUFFIX: &str = r"(?:GmbH(?:[ \t]*&[ \t]*Co\.?[ \t]*KG)?|AG|KG|UG|e\.V|Ltd|Limited|LLC|Inc|Corp|Corporation|PLC|plc|LLP|SLU|SL|S\.L|S\.A|SA|SAS|SARL|B\.V|BV|N\.V|NV|S\.r\.l|Srl|SRL|S\.p\.A|SpA|Lda|Ltda|Oy|AB|ApS)";

static COMPANY_WITH_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"((?:[\p{{Lu}}\d][\p{{L}}\d&'’.-]*[ \t]+){{1,4}}{COMPANY_SUFFIX}\b\.?)"
    ))
    .expect("static regex")
});
static COMPANY_SUFFIX_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"[ \t]{COMPANY_SUFFIX}\b")).expect("static regex"));
static COMPANY_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^\s*(?:company|firma|unternehmen|empresa|entreprise|société|societe|bedrijf|azienda|società)\s*:\s*(\S.{0,60})$")
        .expect("static regex")
});
static COMPANY_AFTER_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?i:work(?:ing)? (?:at|for)|team (?:of \d+ )?at|here at|on behalf of|arbeite bei|arbeiten bei|trabajo en|trabajamos en|travaille chez|travaillons chez|werk bij|werken bij|lavoro presso|lavoro per|trabalho na|trabalho no|trabalhamos na))[ \t]+((?:[\p{Lu}\d][\p{L}\d&'’-]*)(?:[ \t]+[\p{Lu}\d][\p{L}\d&'’-]*){0,3})")
        .expect("static regex")
});

static TITLE_COMPANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<title>[^,|–—@]{2,50}?)\s*(?:,|\||–|—|@|\bat\b|\bbei\b|\bchez\b|\bbij\b|\bpresso\b)\s*(?P<company>\p{Lu}[\p{L}\d&'’. -]{1,50})$")
        .expect("static regex")
});

/// True when `line` has a legal suffix after a word ("Acme GmbH", "Brightlane Ltd"): a company,
/// not a person.
pub(super) fn has_company_suffix(line: &str) -> bool {
    COMPANY_SUFFIX_ONLY.is_match(line)
}

/// "Die Hoffmann Maschinenbau GmbH" → "Hoffmann Maschinenbau GmbH" (keeps at least two words).
fn strip_leading_noise(company: &str) -> String {
    let mut words: Vec<&str> = company.split_whitespace().collect();
    while words.len() > 2 && LEADING_NOISE.contains(&words[0]) {
        words.remove(0);
    }
    words.join(" ")
}

/// A company in a signature (`strict`: only with a legal suffix or a label) or in text (also
/// after "work at", "team at", … at a lower confidence).
pub(super) fn company_in(text: &str, strict: bool) -> Option<(String, f32)> {
    if let Some(c) = COMPANY_LABEL.captures(text) {
        return Some((c[1].trim().to_string(), 0.85));
    }
    if let Some(c) = COMPANY_WITH_SUFFIX.captures(text) {
        return Some((strip_leading_noise(c[1].trim()), 0.7));
    }
    if strict {
        // "E-commerce Lead, Fernwood Home", "Head of Sales | Acme", "CTO at Brightlane"
        return text.lines().find_map(|line| {
            let c = TITLE_COMPANY.captures(line.trim())?;
            let title = c["title"].to_lowercase();
            let is_title = title
                .split(|ch: char| !ch.is_alphanumeric())
                .any(|w| TITLE_WORDS.contains(&w));
            let company = c["company"].trim();
            (is_title && company.split_whitespace().count() <= 6)
                .then(|| (company.to_string(), 0.7))
        });
    }
    COMPANY_AFTER_CUE
        .captures(text)
        .map(|c: Captures| (c[1].trim().to_string(), 0.5))
}

/// "mail.acme-corp.co.uk" → "Acme Corp".
pub(super) fn company_of_domain(domain: &str) -> Option<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return None;
    }
    let last_two = labels[labels.len() - 2..].join(".");
    let idx = if TWO_LEVEL_SUFFIXES.contains(&last_two.as_str()) && labels.len() >= 3 {
        labels.len() - 3
    } else {
        labels.len() - 2
    };
    let name: Vec<String> = labels[idx]
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_uppercase().chain(cs).collect())
                .unwrap_or_default()
        })
        .collect();
    (!name.is_empty()).then(|| name.join(" "))
}

#[cfg(test)]
mod tests {
    use super::super::email::is_free_mail;
    use super::*;

    #[test]
    fn domain_to_company() {
        assert_eq!(
            company_of_domain("mail.acme-corp.co.uk").as_deref(),
            Some("Acme Corp")
        );
        assert!(is_free_mail("GMX.de"));
    }
}
