//! Routing a triaged lead to one of the tenant's destinations: the `[[routes]]` in order, first
//! match wins, then `default_route`. The destination is always one the tenant configured; the
//! result names the rule and the reasons, and asks for a human when signals conflict.
//!
//! Conditions in `when` (all must hold; a list means "any of"):
//! `category`, `language`, `sentiment` (`negative|neutral|positive`), `urgency`
//! (`low|normal|high`), `spam` (bool), `channel`, `keywords` (any word or phrase in the subject or
//! body, case-insensitive), `has` (extracted fields that must be present, e.g. `["phone",
//! "budget"]`), `min_budget` (number, in the lead's currency), and `field.<name>` (a form field
//! equal to the value). An unknown key never matches, so a typo cannot route leads by accident.

use serde::Serialize;
use serde_json::Value;

use crate::contract::tenant::{Route, TenantSettings};

/// What routing looks at.
#[derive(Debug, Clone, Default)]
pub struct Signals<'a> {
    pub category: Option<&'a str>,
    pub category_confidence: f32,
    /// Why the classifier wants a human, if it does.
    pub category_needs_human: Option<String>,
    pub language: &'a str,
    pub sentiment: &'a str,
    pub urgency: &'a str,
    pub is_spam: bool,
    pub spam_score: f32,
    pub channel: &'a str,
    /// Subject and body, for keyword conditions.
    pub text: &'a str,
    /// Names of the extracted fields that have a value.
    pub extracted: Vec<&'a str>,
    pub budget: Option<f64>,
    pub fields: Option<&'a serde_json::Map<String, Value>>,
}

/// The `route` object of a `lead.processed` result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteDecision {
    pub destination: String,
    /// `routes[i]` of the rule that matched, or `default_route`.
    pub rule: String,
    pub confidence: f32,
    pub needs_human: bool,
    pub reasons: Vec<String>,
}

/// Below this category confidence a category-based route asks for a human.
pub const MIN_CONFIDENCE: f32 = 0.5;

/// True when `category` is the tenant's spam category while the spam detector, which did not
/// flag the lead, scores it low: the two disagree, whichever engine chose the category.
pub fn spam_category_contradicts_detector(category: &str, is_spam: bool, spam_score: f32) -> bool {
    category.eq_ignore_ascii_case("spam") && !is_spam && spam_score < 0.35
}

/// Routes a lead. Never returns a destination the tenant did not configure.
pub fn route(tenant: &TenantSettings, signals: &Signals<'_>) -> RouteDecision {
    let mut reasons = Vec::new();
    let mut decision = None;
    for (i, rule) in tenant.routes.iter().enumerate() {
        if let Some(matched) = matches(rule, signals) {
            reasons.push(format!("routes[{i}] matched: {}", matched.join(", ")));
            let uses_category = rule.when.contains_key("category");
            let confidence = if uses_category {
                signals.category_confidence
            } else {
                1.0
            };
            decision = Some((rule.to.clone(), format!("routes[{i}]"), confidence));
            break;
        }
    }
    let (destination, rule, mut confidence) = decision.unwrap_or_else(|| {
        reasons.push("no route matched: default_route".into());
        (tenant.default_route.clone(), "default_route".into(), 1.0)
    });
    let mut needs_human = false;
    if let Some(why) = &signals.category_needs_human {
        needs_human = true;
        reasons.push(why.clone());
    }
    if rule != "default_route" && confidence < MIN_CONFIDENCE {
        needs_human = true;
        reasons.push(format!(
            "category confidence {confidence:.2} is below {MIN_CONFIDENCE}"
        ));
    }
    if (0.35..0.65).contains(&signals.spam_score) {
        needs_human = true;
        reasons.push(format!(
            "spam score {:.2} is inconclusive",
            signals.spam_score
        ));
        confidence = confidence.min(0.5);
    }
    if signals.is_spam && signals.urgency == "high" {
        needs_human = true;
        reasons.push("flagged as spam but written as urgent".into());
    }
    if signals.is_spam
        && signals.category.is_some_and(|c| c != "spam")
        && signals.category_confidence >= 0.8
    {
        needs_human = true;
        reasons.push("flagged as spam but confidently categorised".into());
    }
    if signals
        .category
        .is_some_and(|c| spam_category_contradicts_detector(c, signals.is_spam, signals.spam_score))
    {
        needs_human = true;
        reasons.push(format!(
            "categorised as spam but the spam detector scores it {:.2}",
            signals.spam_score
        ));
    }
    // By construction the destination is a configured one; checked again so no change above
    // can ever break it.
    let destination = if tenant.destinations().contains(&destination.as_str()) {
        destination
    } else {
        needs_human = true;
        reasons.push("destination not configured: default_route".into());
        tenant.default_route.clone()
    };
    RouteDecision {
        destination,
        rule,
        confidence,
        needs_human,
        reasons,
    }
}

/// The conditions that held, or `None` when one did not.
fn matches(rule: &Route, s: &Signals<'_>) -> Option<Vec<String>> {
    let mut held = Vec::new();
    for (key, want) in &rule.when {
        let ok = match key.as_str() {
            "category" => s.category.is_some_and(|c| any_str(want, |w| w == c)),
            "language" => any_str(want, |w| w.eq_ignore_ascii_case(s.language)),
            "sentiment" => any_str(want, |w| w.eq_ignore_ascii_case(s.sentiment)),
            "urgency" => any_str(want, |w| w.eq_ignore_ascii_case(s.urgency)),
            "channel" => any_str(want, |w| w.eq_ignore_ascii_case(s.channel)),
            "spam" => want.as_bool() == Some(s.is_spam),
            "keywords" => {
                let text = s.text.to_lowercase();
                any_str(want, |w| {
                    !w.is_empty() && contains_phrase(&text, &w.to_lowercase())
                })
            }
            "has" => all_str(want, |w| s.extracted.contains(&w)),
            "min_budget" => want
                .as_f64()
                .is_some_and(|min| s.budget.is_some_and(|b| b >= min)),
            other => match other.strip_prefix("field.") {
                Some(name) => s
                    .fields
                    .and_then(|f| f.get(name))
                    .is_some_and(|v| value_eq(v, want)),
                None => false,
            },
        };
        if !ok {
            return None;
        }
        held.push(format!("{key}={}", compact(want)));
    }
    Some(held)
}

fn any_str(want: &Value, test: impl Fn(&str) -> bool) -> bool {
    match want {
        Value::String(w) => test(w),
        Value::Array(items) => items.iter().filter_map(Value::as_str).any(test),
        _ => false,
    }
}

fn all_str(want: &Value, test: impl Fn(&str) -> bool) -> bool {
    match want {
        Value::String(w) => test(w),
        Value::Array(items) => {
            !items.is_empty() && items.iter().filter_map(Value::as_str).all(test)
        }
        _ => false,
    }
}

/// A word or phrase at word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn value_eq(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::String(a), Value::String(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (a, Value::Array(items)) => items.iter().any(|w| value_eq(a, w)),
        (a, b) => a == b,
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tenant() -> TenantSettings {
        serde_json::from_value(json!({
            "tenant_id": "acme",
            "default_route": "inbox",
            "routes": [
                {"when": {"spam": true}, "to": "spam-folder"},
                {"when": {"category": "sales", "language": ["en", "de"]}, "to": "sales-team"},
                {"when": {"urgency": "high", "keywords": ["outage", "down"]}, "to": "on-call"},
                {"when": {"typo_key": "x"}, "to": "never"},
            ]
        }))
        .unwrap()
    }

    fn signals<'a>() -> Signals<'a> {
        Signals {
            category: Some("sales"),
            category_confidence: 0.9,
            language: "en",
            sentiment: "neutral",
            urgency: "normal",
            channel: "form",
            text: "We want a quote",
            ..Signals::default()
        }
    }

    #[test]
    fn first_matching_rule_wins_and_names_itself() {
        let d = route(&tenant(), &signals());
        assert_eq!(d.destination, "sales-team");
        assert_eq!(d.rule, "routes[1]");
        assert!(!d.needs_human);
    }

    #[test]
    fn keywords_match_words_not_substrings_and_unknown_keys_never_match() {
        let mut s = signals();
        s.category = Some("support");
        s.urgency = "high";
        s.text = "Our site is down since 9am";
        assert_eq!(route(&tenant(), &s).destination, "on-call");
        s.text = "download the invoice";
        let d = route(&tenant(), &s);
        assert_eq!(d.destination, "inbox");
        assert_eq!(d.rule, "default_route");
    }

    #[test]
    fn low_confidence_or_conflicting_signals_need_a_human() {
        let mut s = signals();
        s.category_confidence = 0.3;
        let d = route(&tenant(), &s);
        assert!(d.needs_human);
        let mut s = signals();
        s.spam_score = 0.5;
        assert!(route(&tenant(), &s).needs_human);
    }
}
