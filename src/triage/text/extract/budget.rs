//! The budget: amounts with a currency or a multiplier, ranges ("between 10 and 20k USD"), read
//! in both number conventions; a cue ("budget", "presupuesto", "up to", …) or a budget form field
//! makes a bare number count, and the currency falls back to the TLD's or the language's.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Budget;
use super::tables::{CUR, MULT, currency_code, multiplier};

const NUM: &str = r"\d{1,3}(?:[.,'’ \u{202f}]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?";

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:(?P<pre>{CUR})[ \t]?)?(?P<num>{NUM})(?:[ \t]?(?P<mult>{MULT})\b)?(?:\.?[ \t]?(?P<post>{CUR})(?:\b|$|[^\p{{L}}]))?"
    ))
    .expect("static regex")
});
static RANGE_JOIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[ \t]*(?:-|–|—|to|and|und|bis|y|a|et|à|en|e|tot)[ \t]*$")
        .expect("static regex")
});
static BUDGET_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)budget|presupuesto|orçamento|orcamento|bilancio|spend|ausgeben|investieren|invertir|investir|investeren|investire|price range|preisrahmen|kostenrahmen|up to|bis zu|hasta|jusqu'à|tot|fino a|até")
        .expect("static regex")
});

/// One amount found in text.
struct Amount {
    start: usize,
    end: usize,
    value: f64,
    raw_number: f64,
    has_mult: bool,
    currency: Option<&'static str>,
}

/// "5.000" → 5000, "12,500" → 12500, "1.234,56" → 1234.56, "5.5" → 5.5, "12,5" → 12.5.
pub(crate) fn parse_number(raw: &str) -> Option<f64> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\'' | '’' | '\u{a0}' | '\u{202f}'))
        .collect();
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let normalized = if dots > 0 && commas > 0 {
        let last_dot = s.rfind('.').unwrap_or(0);
        let last_comma = s.rfind(',').unwrap_or(0);
        if last_dot > last_comma {
            s.replace(',', "")
        } else {
            s.replace('.', "").replace(',', ".")
        }
    } else if dots + commas == 0 {
        s
    } else {
        let sep = if dots > 0 { '.' } else { ',' };
        let after = s.rsplit(sep).next().unwrap_or("");
        if dots + commas > 1 || after.len() == 3 {
            s.replace(sep, "")
        } else {
            s.replace(sep, ".")
        }
    };
    normalized.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Every amount in `text`, in order.
fn amounts(text: &str) -> Vec<Amount> {
    AMOUNT
        .captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            // not inside a longer number, a word or a date ("A4", "2026-03-01", "10.0.0.1")
            let before = text[..whole.start()].chars().next_back();
            if before.is_some_and(|b| b.is_alphanumeric() || matches!(b, '/' | '.' | '+' | ',')) {
                return None;
            }
            let raw_number = parse_number(c.name("num")?.as_str())?;
            let mult = c
                .name("mult")
                .map(|m| multiplier(m.as_str()))
                .unwrap_or(1.0);
            let currency = c
                .name("pre")
                .or(c.name("post"))
                .and_then(|m| currency_code(m.as_str()));
            let end = c
                .name("post")
                .or(c.name("mult"))
                .or(c.name("num"))
                .map_or(whole.end(), |m| m.end());
            Some(Amount {
                start: whole.start(),
                end,
                value: raw_number * mult,
                raw_number,
                has_mult: c.name("mult").is_some(),
                currency,
            })
        })
        .collect()
}

/// The budget in `text` and its confidence. `is_field`: the text is a budget form field, so a
/// bare number counts.
pub(super) fn find_budget(
    text: &str,
    is_field: bool,
    currency_hint: Option<&str>,
) -> Option<(Budget, f32)> {
    let found = amounts(text);
    let mut best: Option<(Budget, f32)> = None;
    let mut i = 0;
    while i < found.len() {
        let a = &found[i];
        // a range: "between 10 and 20k USD", "€10k–€20k", "10-20k EUR"
        let next = found.get(i + 1).filter(|b| {
            text.get(a.end..b.start)
                .is_some_and(|between| RANGE_JOIN.is_match(between))
        });
        let (low, high, end, currency, has_mult) = match next {
            Some(b) => {
                let low = if !a.has_mult && b.has_mult && a.raw_number < b.raw_number {
                    a.raw_number * (b.value / b.raw_number)
                } else {
                    a.value
                };
                (low, Some(b.value), b.end, a.currency.or(b.currency), true)
            }
            None => (a.value, None, a.end, a.currency, a.has_mult),
        };
        i += if next.is_some() { 2 } else { 1 };

        let sentence_start = text[..a.start]
            .rfind(['.', '!', '?', '\n'])
            .map_or(0, |p| p + 1);
        let cue = BUDGET_CUE.is_match(&text[sentence_start..end.min(text.len())]);
        let is_year =
            high.is_none() && !has_mult && currency.is_none() && (1900.0..=2100.0).contains(&low);
        let confidence = match (currency.is_some(), cue || is_field) {
            (true, true) => 0.85,
            (true, false) => 0.7,
            (false, true) if (has_mult || low >= 100.0) && !is_year => 0.5,
            _ => continue,
        };
        if low <= 0.0 {
            continue;
        }
        let (currency, confidence) = match currency {
            Some(c) => (c.to_string(), confidence),
            None => match currency_hint {
                Some(h) => (h.to_string(), confidence),
                None => continue,
            },
        };
        let start = range_start(text, a.start);
        let budget = Budget {
            amount: low,
            max: high.filter(|h| *h > low),
            currency,
            text: text.get(start..end).unwrap_or("").trim().to_string(),
        };
        if best.as_ref().is_none_or(|(_, c)| confidence > *c) {
            best = Some((budget, confidence));
        }
    }
    best
}

/// The one currency `texts` name (by code, symbol or word), if they name exactly one: a
/// remittance's "Amount (EUR)" header says what its bare numbers are, better than the e-mail
/// domain's country.
pub(super) fn stated_currency(texts: &[&str]) -> Option<&'static str> {
    let named: BTreeSet<&'static str> = texts.iter().flat_map(|t| currencies_named(t)).collect();
    match named.len() {
        1 => named.into_iter().next(),
        _ => None,
    }
}

/// The ISO 4217 codes of every currency `text` names by code, symbol or word.
pub(crate) fn currencies_named(text: &str) -> BTreeSet<&'static str> {
    static STATED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r"(?i)(?:^|[^\p{{L}}])({CUR})(?:$|[^\p{{L}}])")).expect("static regex")
    });
    STATED
        .captures_iter(text)
        .filter_map(|c| currency_code(&c[1]))
        .collect()
}

/// Takes "between"/"zwischen"/"entre"/… right before a range into its text.
fn range_start(text: &str, start: usize) -> usize {
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?:between|from|zwischen|von|entre|tussen|tra|fra|de)[ \t]+$")
            .expect("static regex")
    });
    BEFORE.find(&text[..start]).map_or(start, |m| m.start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_stated_currency_is_the_hint() {
        assert_eq!(
            stated_currency(&["Invoice  Amount (EUR)\nTH-1  1,188.00"]),
            Some("EUR")
        );
        assert_eq!(stated_currency(&["AED 150,000 – 200,000"]), Some("AED"));
        assert_eq!(stated_currency(&["$5k or 4000 EUR"]), None);
        assert_eq!(stated_currency(&["no money words, europe"]), None);
    }

    #[test]
    fn numbers_parse_in_both_conventions() {
        assert_eq!(parse_number("5.000"), Some(5000.0));
        assert_eq!(parse_number("12,500"), Some(12500.0));
        assert_eq!(parse_number("1.234,56"), Some(1234.56));
        assert_eq!(parse_number("1,234.56"), Some(1234.56));
        assert_eq!(parse_number("5.5"), Some(5.5));
        assert_eq!(parse_number("12,5"), Some(12.5));
    }
}
