//! Grounding: what an engine says about a lead must be found in the lead. Every check on an
//! answer, the model's and the local engine's alike, lives here, and runs before a result is
//! stored or published (`Engines::process_lead` calls [`ground_lead`]; the provider's summary
//! step asks [`check_summary`] before a summary may replace the local one).
//!
//! An extracted value is kept only when the lead's text, subject, contact record or form fields
//! contain it after normalisation: e-mail case, phone digits (E.164 against the national or
//! international form written), amounts with their thousands separators and `k`/`Mio`
//! suffixes, currencies by code, symbol or name, dates as written or implied relative to the
//! job's time ("tomorrow", "next month", "in 3 weeks"), names and companies word by word, any
//! other phrase as a whole. A value that is not found is dropped and the reason recorded in the
//! result's `grounding` block (the field, where it came from and why; never the value).
//!
//! Owns: the checks. Must not know: providers, queues, stores.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{Value, json};
use time::{Date, Duration, Month, OffsetDateTime};

use crate::contract::job::Lead;
use crate::text::language;
use crate::triage::route;
use crate::triage::text::extract::{MULT, currencies_named, multiplier, parse_number};

/// Everything a lead says, prepared for the checks.
pub struct Evidence {
    /// Lower case, every character that is not a letter or digit a space, spaces collapsed,
    /// padded with one space at each end (so `" word "` finds whole words).
    words: String,
    /// Lower case, as written (e-mail addresses, URLs).
    lower: String,
    /// National significant digits of every phone-like run (trunk `0` and `00` removed).
    phone_digits: Vec<String>,
    /// The digits of every phone-like run as written.
    phone_digits_raw: Vec<String>,
    /// Every number written, with its multiplier applied when it has one (`10k` gives 10 and
    /// 10000).
    numbers: Vec<f64>,
    /// ISO 4217 codes of the currencies named.
    currencies: BTreeSet<&'static str>,
    /// Dates the lead states or implies: (first day, last day) ranges.
    dates: Vec<(Date, Date)>,
}

/// A value an engine gave that the lead does not contain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    /// The `extracted` key (`email`, `budget`, a tenant field...).
    pub field: String,
    /// Where the engine said it came from (`model`, `text`, `form`...).
    pub source: String,
    pub reason: &'static str,
    /// The value itself, for the evaluation's report on fixtures; never serialised into a
    /// result.
    #[serde(skip)]
    pub value: Value,
}

impl Evidence {
    /// The evidence of `lead`, with `received` (the job's `created_at`) for relative dates.
    pub fn of(lead: &Lead, received: Option<OffsetDateTime>) -> Evidence {
        let mut pieces: Vec<String> = Vec::new();
        pieces.extend(lead.subject.clone());
        pieces.push(lead.body.clone());
        if let Some(contact) = &lead.contact {
            pieces.extend(contact.name.clone());
            pieces.extend(contact.email.clone());
            pieces.extend(contact.phone.clone());
        }
        for (key, value) in lead.fields.iter().flatten() {
            pieces.push(key.replace('_', " "));
            match value {
                Value::String(s) => pieces.push(s.clone()),
                Value::Number(n) => pieces.push(n.to_string()),
                Value::Array(items) => {
                    pieces.extend(items.iter().filter_map(|v| v.as_str().map(str::to_owned)))
                }
                _ => {}
            }
        }
        Evidence::from_texts(&pieces, received)
    }

    /// The evidence of loose texts (tests, conversations).
    pub fn from_texts(texts: &[String], received: Option<OffsetDateTime>) -> Evidence {
        let raw = texts.join("\n");
        let lower = raw.to_lowercase();
        let runs = phone_runs(&raw);
        Evidence {
            words: words_of(&lower),
            phone_digits: runs.iter().map(|r| r.national.clone()).collect(),
            phone_digits_raw: runs.into_iter().map(|r| r.written).collect(),
            numbers: numbers_in(&lower),
            currencies: currencies_in(&raw),
            dates: dates_in(&lower, received.map(OffsetDateTime::date)),
            lower,
        }
    }

    fn has_phrase(&self, value: &str) -> bool {
        let value = words_of(&value.to_lowercase());
        !value.trim().is_empty() && self.words.contains(&value)
    }

    fn has_every_word(&self, value: &str) -> bool {
        let value = words_of(&value.to_lowercase());
        let mut words = value.split_whitespace().peekable();
        words.peek().is_some() && words.all(|w| self.words.contains(&format!(" {w} ")))
    }

    fn has_email(&self, value: &str) -> bool {
        let value = value.trim().to_lowercase();
        value.contains('@') && self.lower.contains(&value)
    }

    fn has_phone(&self, value: &str) -> bool {
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        if self.phone_digits_raw.contains(&digits) {
            return true;
        }
        digits.len() >= 6
            && self
                .phone_digits
                .iter()
                .any(|run| run.len() >= 6 && digits.ends_with(run.as_str()))
    }

    fn has_website(&self, value: &str) -> bool {
        let value = value.trim().to_lowercase();
        let without_scheme = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .unwrap_or(&value);
        let without_www = without_scheme
            .strip_prefix("www.")
            .unwrap_or(without_scheme);
        let (host, path) = without_www.split_once('/').unwrap_or((without_www, ""));
        let path = path.trim_end_matches('/');
        host.contains('.')
            && self.lower.contains(host)
            && (path.is_empty() || self.lower.contains(path))
    }

    fn has_number(&self, amount: f64) -> bool {
        self.numbers
            .iter()
            .any(|n| (n - amount).abs() <= amount.abs() * 0.005 + 0.005)
    }

    fn has_date(&self, value: &str) -> bool {
        let Some((first, last)) = parse_iso(value.trim()) else {
            return false;
        };
        self.dates
            .iter()
            .any(|(from, to)| first <= *to && last >= *from)
    }
}

/// Checks every value of a lead result's `extracted` object against `evidence`: a value not
/// found is set to `null` (with its confidence and source), and the result gains a `grounding`
/// block: `{"dropped": [{field, source, reason}], "inferred": [...]}`.
pub fn ground_lead(result: &mut Value, evidence: &Evidence) -> Vec<Dropped> {
    let mut dropped = Vec::new();
    let mut inferred = Vec::new();
    if let Some(extracted) = result.get_mut("extracted").and_then(Value::as_object_mut) {
        let keys: Vec<String> = extracted
            .keys()
            .filter(|k| !matches!(k.as_str(), "confidence" | "source"))
            .cloned()
            .collect();
        for key in keys {
            let value = extracted[&key].clone();
            if value.is_null() {
                continue;
            }
            let source = extracted["source"][&key]
                .as_str()
                .unwrap_or("unknown")
                .to_owned();
            let verdict = check_value(&key, &value, &source, evidence);
            match verdict {
                Verdict::Found => {}
                Verdict::Inferred(what) => inferred.push(json!({"field": key, "what": what})),
                Verdict::Missing(reason) => {
                    extracted.insert(key.clone(), Value::Null);
                    if let Some(map) = extracted
                        .get_mut("confidence")
                        .and_then(Value::as_object_mut)
                    {
                        map.remove(&key);
                    }
                    if let Some(map) = extracted.get_mut("source").and_then(Value::as_object_mut) {
                        map.remove(&key);
                    }
                    dropped.push(Dropped {
                        field: key,
                        source,
                        reason,
                        value,
                    });
                }
            }
        }
    }
    if let Some(object) = result.as_object_mut() {
        // a second pass (the provider grounds its extraction early, the engines again at the
        // end) adds to what the first recorded
        let block = object
            .entry("grounding")
            .or_insert_with(|| json!({"dropped": [], "inferred": []}));
        let mut append = |key: &str, values: Vec<Value>| {
            if !block[key].is_array() {
                block[key] = json!([]);
            }
            if let Some(list) = block[key].as_array_mut() {
                for value in values {
                    if !list.contains(&value) {
                        list.push(value);
                    }
                }
            }
        };
        append("dropped", dropped.iter().map(|d| json!(d)).collect());
        append("inferred", inferred);
    }
    dropped
}

enum Verdict {
    Found,
    /// Kept, but not written in the lead: how it was inferred.
    Inferred(&'static str),
    Missing(&'static str),
}

fn check_value(key: &str, value: &Value, source: &str, evidence: &Evidence) -> Verdict {
    let found = |ok: bool, reason: &'static str| {
        if ok {
            Verdict::Found
        } else {
            Verdict::Missing(reason)
        }
    };
    if key == "budget" {
        return check_budget(value, source, evidence);
    }
    // what the lead says literally is grounded, whatever the field (a form's "000000" too)
    if let Some(text) = value.as_str()
        && !text.trim().is_empty()
        && evidence.lower.contains(&text.trim().to_lowercase())
    {
        return Verdict::Found;
    }
    let Some(text) = value.as_str() else {
        // numbers and flags of tenant fields: the number must be written
        return match value.as_f64() {
            Some(n) => found(evidence.has_number(n), "the number is not in the lead"),
            None => found(
                evidence.has_phrase(&value.to_string()),
                "the value is not in the lead",
            ),
        };
    };
    match key {
        "email" => found(evidence.has_email(text), "the address is not in the lead"),
        "phone" => found(evidence.has_phone(text), "the number is not in the lead"),
        "website" => found(evidence.has_website(text), "the site is not in the lead"),
        "name" | "company" => found(
            evidence.has_every_word(text),
            "not every word of it is in the lead",
        ),
        "timeline" => found(
            evidence.has_phrase(text) || evidence.has_date(text),
            "the lead states no such time",
        ),
        _ => found(evidence.has_phrase(text), "the value is not in the lead"),
    }
}

fn check_budget(value: &Value, source: &str, evidence: &Evidence) -> Verdict {
    let Some(amount) = value["amount"].as_f64() else {
        return Verdict::Missing("the budget has no amount");
    };
    if !evidence.has_number(amount) {
        return Verdict::Missing("the amount is not in the lead");
    }
    if let Some(max) = value["max"].as_f64()
        && !evidence.has_number(max)
    {
        return Verdict::Missing("the upper amount is not in the lead");
    }
    let currency = value["currency"]
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    if evidence
        .currencies
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&currency))
    {
        return Verdict::Found;
    }
    if evidence.currencies.is_empty() && source != "model" {
        // the local engine infers the currency from the e-mail domain or the language and says
        // so; a model's currency must be written
        return Verdict::Inferred("currency from the e-mail domain or language");
    }
    Verdict::Missing("the currency is not in the lead")
}

/// A model's category checked against the local engine's: when they differ and the local one
/// was confident (at least `route::MIN_CONFIDENCE`), or the model's category says spam while
/// the spam detector says it is not (or the reverse), the route asks a human, and the result
/// carries both answers and the reason. Never a silent pick: a confident local label stays the
/// result's with the model's beside it (`category.model`); else the model's label stands with
/// the local one beside it (`category.local`).
pub fn cross_check_category(
    result: &mut Value,
    local: Option<(&str, f32)>,
    is_spam: bool,
    spam_score: f32,
) {
    let model = result["category"]["label"].as_str().map(str::to_owned);
    let mut reasons = Vec::new();
    if let (Some(model), Some((label, confidence))) = (&model, local)
        && model != label
    {
        let local_answer =
            json!({"label": label, "confidence": (f64::from(confidence) * 100.0).round() / 100.0});
        if confidence >= route::MIN_CONFIDENCE {
            // the confident local label stays the result's; the model's goes beside it
            let model_answer =
                json!({"label": model, "confidence": result["category"]["confidence"]});
            result["category"]["label"] = local_answer["label"].clone();
            result["category"]["confidence"] = local_answer["confidence"].clone();
            result["category"]["model"] = model_answer;
            reasons.push(format!(
                "the model says category {model:?}, the local classifier {label:?} ({confidence:.2})"
            ));
        } else {
            result["category"]["local"] = local_answer;
        }
    }
    if let Some(model) = &model {
        let says_spam = model.eq_ignore_ascii_case("spam");
        if route::spam_category_contradicts_detector(model, is_spam, spam_score) {
            reasons.push(format!(
                "the model says spam, the spam detector scores it {spam_score:.2}"
            ));
        } else if !says_spam && is_spam {
            reasons.push(format!(
                "the spam detector says spam ({spam_score:.2}), the model says {model:?}"
            ));
        }
    }
    if reasons.is_empty() {
        return;
    }
    result["route"]["needs_human"] = json!(true);
    if !result["route"]["reasons"].is_array() {
        result["route"]["reasons"] = json!([]);
    }
    if let Some(list) = result["route"]["reasons"].as_array_mut() {
        list.extend(reasons.into_iter().map(Value::from));
    }
}

/// Why a summary may not replace the local one, if it may not: written in another language than
/// the lead's, or naming an e-mail address, phone number, amount or date the lead does not.
pub fn check_summary(
    summary: &str,
    lead_language: &str,
    evidence: &Evidence,
) -> Result<(), String> {
    // placeholders (`<PERSON_1>`, `<EMAIL_2>`) stand for values of the lead: not new facts
    let summary = &*PLACEHOLDER.replace_all(summary, " ");
    if lead_language != language::UNDETERMINED {
        let mut allow: Vec<&str> = language::DEFAULT_LANGUAGES.to_vec();
        allow.push(lead_language);
        let detected = language::detect_among(summary, &allow);
        if detected.code != language::UNDETERMINED
            && detected.code != lead_language
            && detected.confidence >= 0.5
        {
            return Err(format!(
                "the summary is in {:?}, the lead in {lead_language:?}",
                detected.code
            ));
        }
    }
    for email in EMAIL.find_iter(summary) {
        if !evidence.has_email(email.as_str()) {
            return Err("the summary names an e-mail address the lead does not".into());
        }
    }
    let lower = summary.to_lowercase();
    for number in numbers_in(&lower) {
        if !evidence.has_number(number) {
            return Err("the summary names a number the lead does not".into());
        }
    }
    for run in phone_runs(summary).into_iter().map(|r| r.national) {
        if run.len() >= 6 && !evidence.phone_digits.iter().any(|r| r.ends_with(&run)) {
            return Err("the summary names a phone number the lead does not".into());
        }
    }
    let words = words_of(&lower);
    for (month, _) in MONTH_NAMES {
        if words.contains(&format!(" {month} ")) && !evidence.words.contains(&format!(" {month} "))
        {
            return Err("the summary names a month the lead does not".into());
        }
    }
    Ok(())
}

/// A model's reply after [`check_reply`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedReply {
    /// The sentences kept, with the citation markers of shown passages only.
    pub text: String,
    /// The passages the kept sentences cite (1-based numbers as shown), in order of first use.
    pub cited: Vec<usize>,
    /// Why something was removed (never the removed text).
    pub removed: Vec<String>,
}

/// Checks a model's reply against what it was shown: every sentence that states a fact must end
/// with a citation `[n]` of a passage that was in the prompt (`passages[n - 1]`). Markers that
/// name no shown passage are removed; a sentence that states a fact and cites no shown passage
/// is removed, and so is one whose only citations name no shown passage; a cited sentence is
/// removed when it names a number, e-mail address or link that
/// neither its cited passages nor the conversation contain. A sentence states a fact when it
/// names a number, address or link, or at least two words of the passages that the conversation
/// does not use; greetings, thanks and "a colleague will follow up" need no citation.
pub fn check_reply(text: &str, passages: &[&str], conversation: &str) -> CheckedReply {
    let conversation_lower = conversation.to_lowercase();
    let conversation_words = words_of(&conversation_lower);
    let passages_lower: Vec<String> = passages.iter().map(|p| p.to_lowercase()).collect();
    let passage_words: Vec<String> = passages_lower.iter().map(|p| words_of(p)).collect();
    let mut kept: Vec<String> = Vec::new();
    let mut cited: Vec<usize> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for (sentence, markers) in sentences_with_markers(text) {
        let shown: Vec<usize> = markers
            .iter()
            .copied()
            .filter(|n| (1..=passages.len()).contains(n))
            .collect();
        if shown.len() < markers.len() {
            removed.push(format!(
                "{} citation(s) of passages that were not shown",
                markers.len() - shown.len()
            ));
        }
        let bare = PLACEHOLDER.replace_all(&sentence, " ").to_lowercase();
        let words = words_of(&bare);
        let new_words = words
            .split_whitespace()
            .filter(|w| w.chars().count() >= 4 && !conversation_words.contains(&format!(" {w} ")))
            .filter(|w| passage_words.iter().any(|p| p.contains(&format!(" {w} "))))
            .collect::<BTreeSet<_>>()
            .len();
        let specifics = specifics_of(&bare);
        let states_a_fact = !specifics.is_empty() || new_words >= 2;
        if shown.is_empty() {
            // a sentence that cites only passages never shown claims what nothing supports
            if !markers.is_empty() {
                removed.push("a sentence citing only passages that were not shown".into());
                continue;
            }
            if states_a_fact {
                removed.push("a sentence that states a fact without a citation".into());
                continue;
            }
            kept.push(sentence);
            continue;
        }
        let names = |text: &str, item: &str| {
            if item.bytes().all(|b| b.is_ascii_digit()) {
                digit_runs(text).any(|run| run == item)
            } else {
                text.contains(item)
            }
        };
        let supported = specifics.iter().all(|item| {
            names(&conversation_lower, item)
                || shown.iter().any(|&n| names(&passages_lower[n - 1], item))
        });
        if !supported {
            removed.push(
                "a sentence naming a number, address or link its cited passages do not".into(),
            );
            continue;
        }
        let marks: String = shown.iter().map(|n| format!(" [{n}]")).collect();
        let (body, end) = split_final_stop(&sentence);
        kept.push(format!("{body}{marks}{end}"));
        for n in shown {
            if !cited.contains(&n) {
                cited.push(n);
            }
        }
    }
    CheckedReply {
        text: kept.join(" "),
        cited,
        removed,
    }
}

static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]").expect("static regex"));

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:https?://|www\.)[^\s<>()\[\]]+[^\s<>()\[\].,;:!?]").expect("static regex")
});

/// The reply's sentences without their citation markers, each with the passage numbers it
/// cites. A marker written after the full stop (`... today. [2] Next ...`) belongs to the
/// sentence before it.
fn sentences_with_markers(text: &str) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for sentence in crate::text::sentences::split(text, crate::text::sentences::NextWord::Any) {
        let mut numbers = Vec::new();
        for captures in MARKER.captures_iter(sentence) {
            numbers.extend(
                captures[1]
                    .split(',')
                    .filter_map(|n| n.trim().parse::<usize>().ok()),
            );
        }
        let leading = MARKER
            .find(sentence)
            .filter(|m| m.start() == 0)
            .map(|m| m.end());
        let cleaned = MARKER.replace_all(sentence, "").trim().to_owned();
        match (leading, out.last_mut()) {
            // "[2]" opening this sentence closes the one before
            (Some(end), Some(previous)) => {
                let head: Vec<usize> = MARKER
                    .captures_iter(&sentence[..end])
                    .flat_map(|c| {
                        c[1].split(',')
                            .filter_map(|n| n.trim().parse::<usize>().ok())
                            .collect::<Vec<_>>()
                    })
                    .collect();
                previous.1.extend(head.iter().copied());
                let rest: Vec<usize> = numbers.into_iter().skip(head.len()).collect();
                if !cleaned.is_empty() {
                    out.push((cleaned, rest));
                }
            }
            _ if cleaned.is_empty() => {}
            _ => out.push((cleaned, numbers)),
        }
    }
    out
}

/// The runs of ASCII digits in `text`.
fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|d| !d.is_empty())
}

/// The numbers, e-mail addresses and links of a (lower-case) sentence, as written.
fn specifics_of(lower: &str) -> Vec<String> {
    let mut out: Vec<String> = EMAIL
        .find_iter(lower)
        .chain(URL.find_iter(lower))
        .map(|m| m.as_str().to_owned())
        .collect();
    let rest = URL
        .replace_all(&EMAIL.replace_all(lower, " "), " ")
        .into_owned();
    out.extend(digit_runs(&rest).map(str::to_owned));
    out
}

/// A sentence and its closing punctuation (`.`, `!`, `?`, `…`, `。` and closing quotes), so a
/// citation goes before the stop.
fn split_final_stop(sentence: &str) -> (&str, &str) {
    let body =
        sentence.trim_end_matches(['.', '!', '?', '…', '。', '！', '？', '"', '\'', ')', '»']);
    (body.trim_end(), &sentence[body.len()..])
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<[A-Z][A-Z_]*_\d+>").expect("static regex"));

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}").expect("static regex")
});

/// `" word word "`: letters and digits kept (of any script), everything else a space.
fn words_of(lower: &str) -> String {
    let mut out = String::with_capacity(lower.len() + 2);
    out.push(' ');
    let mut space = true;
    for c in lower.chars() {
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if !space {
        out.push(' ');
    }
    out
}

static PHONE_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\d[\d \t().\-/]{4,}\d").expect("static regex"));

/// The digits of one phone-like run.
struct PhoneRun {
    /// As written.
    written: String,
    /// Reduced to the national significant number: `(0)` and a leading `00` or trunk `0`
    /// removed (`+49 (0)30 1234567` and `030 1234567` give `301234567`).
    national: String,
}

fn phone_runs(text: &str) -> Vec<PhoneRun> {
    PHONE_RUN
        .find_iter(text)
        .map(|m| {
            let written: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            let run = m.as_str().replace("(0)", "");
            let digits: String = run.chars().filter(char::is_ascii_digit).collect();
            let international = run.trim_start().starts_with('+') || digits.starts_with("00");
            let digits = digits.strip_prefix("00").unwrap_or(&digits);
            let national = if international {
                digits.to_owned()
            } else {
                digits.trim_start_matches('0').to_owned()
            };
            PhoneRun { written, national }
        })
        .collect()
}

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(\d[\d.,' \x{{a0}}\x{{202f}}]*\d|\d)\s*(?:({MULT})\b)?"
    ))
    .expect("static regex")
});

/// Every number in `lower`: as written (with `.`/`,`/`'`/space thousands separators or a
/// decimal comma), and times its multiplier when a suffix follows.
fn numbers_in(lower: &str) -> Vec<f64> {
    let mut out = Vec::new();
    // "80-100k", "10 – 20 Mio": the suffix of the upper end counts for the lower one too
    for captures in RANGE_SUFFIX.captures_iter(lower) {
        if let Some(low) = parse_number(&captures[1]) {
            out.push(low * multiplier(&captures[2]));
        }
    }
    for captures in NUMBER.captures_iter(lower) {
        let written = captures[1].trim();
        // a run of numbers separated by spaces ("20 30") is several numbers too
        for part in written.split([' ', '\u{a0}', '\u{202f}']) {
            if let Some(n) = parse_number(part) {
                out.push(n);
            }
        }
        let Some(value) = parse_number(written) else {
            continue;
        };
        out.push(value);
        if let Some(suffix) = captures.get(2) {
            out.push(value * multiplier(suffix.as_str()));
        }
    }
    out
}

static RANGE_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(\d[\d.,]*)\s*(?:-|–|—|to|bis|a|à)\s*\d[\d.,]*\s*({MULT})\b"
    ))
    .expect("static regex")
});

/// Currencies a `$` may stand for.
const DOLLARS: &[&str] = &["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"];

/// The currencies `raw` names (`text::extract`'s table); a `$` may stand for any dollar.
fn currencies_in(raw: &str) -> BTreeSet<&'static str> {
    let mut out = currencies_named(raw);
    if raw.contains('$') {
        out.extend(DOLLARS.iter().copied());
    }
    out
}

const MONTH_NAMES: &[(&str, Month)] = &[
    ("january", Month::January),
    ("february", Month::February),
    ("march", Month::March),
    ("april", Month::April),
    ("june", Month::June),
    ("july", Month::July),
    ("august", Month::August),
    ("september", Month::September),
    ("october", Month::October),
    ("november", Month::November),
    ("december", Month::December),
    ("januar", Month::January),
    ("februar", Month::February),
    ("märz", Month::March),
    ("juni", Month::June),
    ("juli", Month::July),
    ("oktober", Month::October),
    ("dezember", Month::December),
    ("enero", Month::January),
    ("febrero", Month::February),
    ("marzo", Month::March),
    ("abril", Month::April),
    ("mayo", Month::May),
    ("junio", Month::June),
    ("julio", Month::July),
    ("agosto", Month::August),
    ("septiembre", Month::September),
    ("octubre", Month::October),
    ("noviembre", Month::November),
    ("diciembre", Month::December),
    ("janvier", Month::January),
    ("février", Month::February),
    ("mars", Month::March),
    ("avril", Month::April),
    ("juin", Month::June),
    ("juillet", Month::July),
    ("août", Month::August),
    ("septembre", Month::September),
    ("octobre", Month::October),
    ("novembre", Month::November),
    ("décembre", Month::December),
];

static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(20\d{2})-(\d{1,2})(?:-(\d{1,2}))?\b").expect("static regex"));
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2})[./](\d{1,2})[./](20\d{2}|\d{2})\b").expect("static regex")
});
static IN_UNITS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:in|within)\s+(\d{1,3}|a|one|two|three|four|six)\s+(day|week|month)s?\b")
        .expect("static regex")
});

/// An ISO date (`2027-03-01`) or month (`2027-03`) as a range of days.
fn parse_iso(value: &str) -> Option<(Date, Date)> {
    let captures = ISO_DATE.captures(value)?;
    if captures.get(0)?.as_str().len() != value.len() {
        return None;
    }
    let year: i32 = captures[1].parse().ok()?;
    let month = Month::try_from(captures[2].parse::<u8>().ok()?).ok()?;
    match captures.get(3) {
        Some(day) => {
            let date = Date::from_calendar_date(year, month, day.as_str().parse().ok()?).ok()?;
            Some((date, date))
        }
        None => month_range(year, month),
    }
}

fn month_range(year: i32, month: Month) -> Option<(Date, Date)> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    Some((first, last))
}

/// Dates `lower` states (ISO, `d.m.y`, `d/m/y` and `m/d/y`, a month name with the year of the
/// job or the next) or implies relative to `today` (tomorrow, next week or month, in N days,
/// weeks or months, the end of the month).
fn dates_in(lower: &str, today: Option<Date>) -> Vec<(Date, Date)> {
    let mut out = Vec::new();
    for captures in ISO_DATE.captures_iter(lower) {
        if let Some(range) = parse_iso(&captures[0]) {
            out.push(range);
        }
    }
    for captures in NUMERIC_DATE.captures_iter(lower) {
        let (Ok(a), Ok(b), Ok(year)) = (
            captures[1].parse::<u8>(),
            captures[2].parse::<u8>(),
            captures[3].parse::<i32>(),
        ) else {
            continue;
        };
        let year = if year < 100 { 2000 + year } else { year };
        for (day, month) in [(a, b), (b, a)] {
            if let Ok(month) = Month::try_from(month)
                && let Ok(date) = Date::from_calendar_date(year, month, day)
            {
                out.push((date, date));
            }
        }
    }
    let words = words_of(lower);
    let this_year = today.map_or(2026, Date::year);
    for (name, month) in MONTH_NAMES.iter().chain(&[("may", Month::May)]) {
        if words.contains(&format!(" {name} ")) {
            for year in [this_year, this_year + 1] {
                out.extend(month_range(year, *month));
            }
        }
    }
    let Some(today) = today else {
        return out;
    };
    let has = |phrase: &str| words.contains(&format!(" {phrase} "));
    if ["tomorrow", "morgen", "mañana", "demain", "domani", "amanhã"]
        .iter()
        .any(|w| has(w))
    {
        let tomorrow = today + Duration::days(1);
        out.push((tomorrow, tomorrow));
    }
    if has("next week") || has("nächste woche") || has("la semana que viene") {
        out.push((today + Duration::days(1), today + Duration::days(14)));
    }
    if has("next month") || has("nächsten monat") || has("le mois prochain") {
        let next = today.month().next();
        let year = if next == Month::January {
            today.year() + 1
        } else {
            today.year()
        };
        out.extend(month_range(year, next));
    }
    if has("end of the month") || has("end of month") || has("monatsende") {
        out.extend(month_range(today.year(), today.month()));
    }
    for captures in IN_UNITS.captures_iter(lower) {
        let count: i64 = match &captures[1] {
            "a" | "one" => 1,
            "two" => 2,
            "three" => 3,
            "four" => 4,
            "six" => 6,
            digits => digits.parse().unwrap_or(0),
        };
        let days = match &captures[2] {
            "day" => count,
            "week" => count * 7,
            _ => count * 30,
        };
        let target = today + Duration::days(days);
        // "in 3 weeks" names a time, not a day: a week either side
        out.push((target - Duration::days(7), target + Duration::days(7)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(text: &str) -> Evidence {
        let received = time::macros::datetime!(2026-11-28 10:00 UTC);
        Evidence::from_texts(&[text.to_owned()], Some(received))
    }

    fn ground(text: &str, extracted: Value) -> (Value, Vec<Dropped>) {
        let mut result = json!({ "extracted": extracted });
        let dropped = ground_lead(&mut result, &evidence(text));
        (result["extracted"].clone(), dropped)
    }

    #[test]
    fn invented_values_are_dropped_with_the_reason() {
        let (kept, dropped) = ground(
            "Hi, we would like a quote for 20 seats. Maria",
            json!({
                "name": "Maria", "email": "john_john@example.com", "phone": null,
                "company": "example.com", "website": null,
                "budget": {"amount": 1000.0, "currency": "USD"}, "timeline": "2023-01-01",
                "confidence": {"name": 0.8, "email": 0.6, "company": 0.6, "budget": 0.6, "timeline": 0.6},
                "source": {"name": "signature", "email": "model", "company": "model", "budget": "model", "timeline": "model"}
            }),
        );
        assert_eq!(kept["name"], "Maria");
        for key in ["email", "company", "budget", "timeline"] {
            assert!(kept[key].is_null(), "{key} kept: {kept}");
            assert!(kept["source"].get(key).is_none());
        }
        let fields: Vec<&str> = dropped.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["email", "company", "budget", "timeline"]);
        assert!(dropped.iter().all(|d| d.source == "model"));
    }

    #[test]
    fn values_written_differently_are_found() {
        let (kept, dropped) = ground(
            "Call me on (0)30 123 4567 or +1 (415) 555-2671. Budget about 10k EUR, \
             maybe €12.500 by end of month. Write to Maria.Lopez@Northwind.example",
            json!({
                "name": null, "email": "maria.lopez@northwind.example",
                "phone": "+49301234567", "company": "Northwind", "website": "https://www.northwind.example/",
                "budget": {"amount": 10000.0, "max": 12500.0, "currency": "EUR"},
                "timeline": "end of month",
                "confidence": {}, "source": {}
            }),
        );
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(kept["phone"], "+49301234567");
        let (_, dropped) = ground(
            "ring +1 (415) 555-2671",
            json!({"phone": "+14155552671", "source": {}}),
        );
        assert!(dropped.is_empty());
        let (_, dropped) = ground(
            "ring 0151 2345678",
            json!({"phone": "+491512345679", "source": {}}),
        );
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn dates_implied_by_the_lead_count() {
        let (_, dropped) = ground(
            "We want to start next month, the demo tomorrow please.",
            json!({"timeline": "2026-12", "source": {}}),
        );
        assert!(dropped.is_empty(), "{dropped:?}");
        let (_, dropped) = ground(
            "the demo tomorrow please",
            json!({"timeline": "2026-11-29", "source": {}}),
        );
        assert!(dropped.is_empty());
        let (_, dropped) = ground(
            "in 3 weeks",
            json!({"timeline": "2026-12-19", "source": {}}),
        );
        assert!(dropped.is_empty());
        let (_, dropped) = ground(
            "Lieferung bis 15.01.2027",
            json!({"timeline": "2027-01-15", "source": {}}),
        );
        assert!(dropped.is_empty());
        let (_, dropped) = ground(
            "next month",
            json!({"timeline": "2027-06-01", "source": {}}),
        );
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn an_inferred_currency_is_kept_only_from_the_local_engine() {
        let (kept, _) = ground(
            "budget around 5000",
            json!({"budget": {"amount": 5000.0, "currency": "EUR"}, "source": {"budget": "text"}}),
        );
        assert_eq!(kept["budget"]["amount"], 5000.0);
        let (kept, _) = ground(
            "budget around 5000",
            json!({"budget": {"amount": 5000.0, "currency": "EUR"}, "source": {"budget": "model"}}),
        );
        assert!(kept["budget"].is_null());
    }

    #[test]
    fn summaries_in_another_language_or_with_new_facts_are_refused() {
        let lead =
            evidence("Hi, we are a team of 20 and would like a quote for the Professional plan.");
        assert!(
            check_summary(
                "Team of 20 asks for a Professional plan quote.",
                "en",
                &lead
            )
            .is_ok()
        );
        assert!(
            check_summary(
                "Une équipe de 20 personnes demande un devis pour le plan.",
                "en",
                &lead
            )
            .is_err()
        );
        assert!(check_summary("Team of 25 asks for a quote.", "en", &lead).is_err());
        assert!(check_summary("Quote asked, reach them at a@b.example.", "en", &lead).is_err());
        assert!(check_summary("Quote asked for March.", "en", &lead).is_err());
        assert!(check_summary("<PERSON_1> asks for a quote for 20 seats.", "en", &lead).is_ok());
    }

    #[test]
    fn a_model_that_disagrees_with_a_confident_local_answer_asks_a_human() {
        let mut result =
            json!({"category": {"label": "sales"}, "route": {"needs_human": false, "reasons": []}});
        cross_check_category(&mut result, Some(("billing", 0.81)), false, 0.02);
        assert_eq!(result["route"]["needs_human"], true);
        assert_eq!(result["category"]["label"], "billing");
        assert_eq!(result["category"]["model"]["label"], "sales");
        let mut result =
            json!({"category": {"label": "sales"}, "route": {"needs_human": false, "reasons": []}});
        cross_check_category(&mut result, Some(("billing", 0.3)), false, 0.02);
        assert_eq!(result["route"]["needs_human"], false);
        let mut result =
            json!({"category": {"label": "spam"}, "route": {"needs_human": false, "reasons": []}});
        cross_check_category(&mut result, Some(("spam", 0.82)), false, 0.02);
        assert_eq!(result["route"]["needs_human"], true, "{result}");
    }

    #[test]
    fn numbers_as_people_write_them() {
        assert_eq!(parse_number("10,000"), Some(10000.0));
        assert_eq!(parse_number("10.000"), Some(10000.0));
        assert_eq!(parse_number("1,5"), Some(1.5));
        assert_eq!(parse_number("1.234,56"), Some(1234.56));
        assert_eq!(parse_number("1,234.56"), Some(1234.56));
        assert!(numbers_in("2,5 mio").contains(&2_500_000.0));
        assert!(numbers_in("usd 80-100k").contains(&80_000.0));
        assert!(numbers_in("usd 80 – 100k").contains(&100_000.0));
    }
}
