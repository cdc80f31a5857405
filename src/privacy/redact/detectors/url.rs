//! URLs that carry credentials: a password in the userinfo (`scheme://user:pass@host`) or a
//! token-like query parameter. The whole URL is tagged `URL`; plain URLs are not PII here.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::secret::looks_random;

const TOKEN_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "auth_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "client_secret",
    "password",
    "pass",
    "pwd",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "code",
    "session",
    "sessionid",
    "sid",
    "jwt",
];

pub(super) struct UrlDetector {
    re: Regex,
}

impl UrlDetector {
    pub fn new() -> Self {
        let re = compile(
            r"(?i)(?-u:\b)(?:https?|ftps?|sftp|wss?|postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|rediss|amqps?)://[^\s<>`]+",
        );
        Self { re }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let url = m
                .as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"']);
            if carries_credentials(url) {
                out.push(Candidate::new(
                    EntityType::Url,
                    m.start(),
                    m.start() + url.len(),
                    0.9,
                    Tier::Validated,
                ));
            }
        }
    }
}

fn carries_credentials(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let has_userinfo = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| !userinfo.is_empty());
    let query = after_scheme.split_once('?').map_or("", |(_, q)| q);
    let fragment = after_scheme.split_once('#').map_or("", |(_, f)| f);
    let has_token = query.split('&').chain(fragment.split('&')).any(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        !value.is_empty()
            && (TOKEN_PARAMS.contains(&name.to_ascii_lowercase().as_str()) || looks_random(value))
    });
    has_userinfo || has_token
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        let d = UrlDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn credential_urls() {
        assert_eq!(
            urls("use amqp://bob:s3cret@mq.local:5672/vh."),
            vec!["amqp://bob:s3cret@mq.local:5672/vh"]
        );
        assert_eq!(
            urls("see https://x.io/reset?token=abc123&u=1)"),
            vec!["https://x.io/reset?token=abc123&u=1"]
        );
        assert_eq!(
            urls("https://cdn.example.com/f.png?X-Amz-Signature=9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
            vec!["https://cdn.example.com/f.png?X-Amz-Signature=9f8e7d6c5b4a39281706f5e4d3c2b1a0"]
        );
    }

    #[test]
    fn plain_urls_are_left_alone() {
        assert!(urls("My website is https://www.HowDangerous.be/").is_empty());
        assert!(urls("https://example.com/search?q=shoes&page=2").is_empty());
    }
}
