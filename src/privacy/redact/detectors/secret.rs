//! Secrets: API keys with well-known prefixes, JWTs, bearer tokens, PEM private keys, and
//! high-entropy values right after a word such as password, token or secret.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::is_standalone;

pub(super) struct SecretDetector {
    prefixed: Regex,
    private_key: Regex,
    bearer: Regex,
    keyword: Regex,
}

impl SecretDetector {
    pub fn new() -> Self {
        Self {
            prefixed: compile(
                r"(?x)
                sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}       # OpenAI, Anthropic
                | (?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}  # Stripe
                | gh[pousr]_[A-Za-z0-9]{30,}                # GitHub
                | github_pat_[A-Za-z0-9_]{22,}
                | glpat-[A-Za-z0-9_\-]{20,}                 # GitLab
                | (?:AKIA|ASIA)[0-9A-Z]{16}                 # AWS access key id
                | xox[abposr]-[A-Za-z0-9\-]{10,}            # Slack
                | AIza[0-9A-Za-z_\-]{35}                    # Google API key
                | SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}  # SendGrid
                | eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}  # JWT",
            ),
            private_key: compile(
                r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\z)",
            ),
            bearer: compile(r"(?i)(?-u:\b)bearer\s+([A-Za-z0-9._~+/=\-]{16,})"),
            keyword: compile(
                r#"(?i)(?-u:\b)(?:password|passwd|pwd|passcode|passphrase|pin|secret|token|api[_\- ]?key|access[_\- ]?key|client[_\- ]?secret|private[_\- ]?key|auth)(?-u:\b)(?:\s+(?:is|was|=|:))?\s*[:=]?\s*["']?([^\s"',;]{6,})"#,
            ),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut push = |start, end, score, tier| {
            out.push(Candidate::new(EntityType::Secret, start, end, score, tier))
        };
        for m in self.prefixed.find_iter(text) {
            if is_standalone(text, m.start(), m.end()) {
                push(m.start(), m.end(), 0.95, Tier::Validated);
            }
        }
        for m in self.private_key.find_iter(text) {
            push(m.start(), m.end(), 0.99, Tier::Validated);
        }
        for value in self.bearer.captures_iter(text).filter_map(|c| c.get(1)) {
            push(value.start(), value.end(), 0.9, Tier::Validated);
        }
        for value in self.keyword.captures_iter(text).filter_map(|c| c.get(1)) {
            let v = value.as_str().trim_end_matches(['.', '!', '?', ')']);
            if looks_like_password(v) {
                push(value.start(), value.start() + v.len(), 0.75, Tier::Pattern);
            }
        }
    }
}

/// A value that is not a plain word: mixes character classes, or is long and random-looking.
fn looks_like_password(value: &str) -> bool {
    let classes = [
        value.chars().any(|c| c.is_lowercase()),
        value.chars().any(|c| c.is_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_alphanumeric()),
    ];
    let class_count = classes.iter().filter(|&&b| b).count();
    value.chars().count() >= 6 && (class_count >= 2 || looks_random(value))
}

/// Long and high in Shannon entropy (bits per char), like keys and tokens are.
pub(super) fn looks_random(value: &str) -> bool {
    let len = value.chars().count();
    len >= 16 && shannon_entropy(value) >= 3.5
}

fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let len = value.chars().count() as f64;
    counts
        .values()
        .map(|&n| n as f64 / len)
        .map(|p| -p * p.log2())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn secrets(text: &str) -> Vec<&str> {
        let d = SecretDetector::new();
        let mut spans = found(text, |t, out| d.detect(t, out));
        spans.dedup();
        spans
    }

    #[test]
    fn prefixed_keys() {
        let gh = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        assert_eq!(secrets(&format!("token {gh}")), vec![gh]);
        assert_eq!(
            secrets("key AKIAIOSFODNN7EXAMPLE ok"),
            vec!["AKIAIOSFODNN7EXAMPLE"]
        );
        assert_eq!(
            secrets("sk-proj-abcdefghijklmnop0123456789"),
            vec!["sk-proj-abcdefghijklmnop0123456789"]
        );
        assert_eq!(
            secrets("xoxb-1234567890-abcdefghij"),
            vec!["xoxb-1234567890-abcdefghij"]
        );
    }

    #[test]
    fn bearer_pem_and_keywords() {
        assert_eq!(
            secrets("Authorization: Bearer abcdef0123456789xyz"),
            vec!["abcdef0123456789xyz"]
        );
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        assert_eq!(secrets(&format!("key:\n{pem}\n")), vec![pem]);
        assert_eq!(secrets("my password is hunter2."), vec!["hunter2"]);
        assert_eq!(secrets("password=Tr0ub4dor&3"), vec!["Tr0ub4dor&3"]);
    }

    #[test]
    fn plain_words_are_not_secrets() {
        assert!(secrets("the token expired yesterday").is_empty());
        assert!(secrets("reset my password please").is_empty());
        assert!(secrets("skip the sk-short one").is_empty());
    }
}
