//! IP addresses, v4 and v6, accepted only when the standard library parses them.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::{char_at, char_before};

pub(super) struct IpDetector {
    v4: Regex,
    v6: Regex,
}

impl IpDetector {
    pub fn new() -> Self {
        Self {
            v4: compile(r"\d{1,3}(?:\.\d{1,3}){3}"),
            v6: compile(
                r"(?:[0-9A-Fa-f]{0,4}:){2,6}\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
            ),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.v4.find_iter(text) {
            if standalone(text, m.start(), m.end()) && m.as_str().parse::<Ipv4Addr>().is_ok() {
                out.push(Candidate::new(
                    EntityType::IpAddress,
                    m.start(),
                    m.end(),
                    0.9,
                    Tier::Validated,
                ));
            }
        }
        for m in self.v6.find_iter(text) {
            let s = m.as_str();
            let plausible = s.len() >= 6 && (s.contains("::") || s.matches(':').count() >= 7);
            if plausible && standalone(text, m.start(), m.end()) && s.parse::<Ipv6Addr>().is_ok() {
                out.push(Candidate::new(
                    EntityType::IpAddress,
                    m.start(),
                    m.end(),
                    0.9,
                    Tier::Validated,
                ));
            }
        }
    }
}

/// Not part of a longer dotted/colon-separated token or word.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let continues =
        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == ':' || c == '_');
    let dotted_before = char_before(text, start) == Some('.')
        && start > 1
        && char_before(text, start - 1).is_some_and(|c| c.is_ascii_digit());
    let dotted_after = char_at(text, end) == Some('.')
        && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit());
    !continues(char_before(text, start))
        && !continues(char_at(text, end))
        && !dotted_before
        && !dotted_after
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn ips(text: &str) -> Vec<&str> {
        let d = IpDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn finds_v4_and_v6() {
        assert_eq!(ips("address 36.160.14.148 blocked"), vec!["36.160.14.148"]);
        assert_eq!(
            ips("6e40:4041:c617:e898:c11:40d2:c669:2eb4 blocked"),
            vec!["6e40:4041:c617:e898:c11:40d2:c669:2eb4"]
        );
        assert_eq!(
            ips("from fe80::1ff:fe23:4567:890a."),
            vec!["fe80::1ff:fe23:4567:890a"]
        );
        assert_eq!(
            ips("mapped ::ffff:192.0.2.128 here"),
            vec!["::ffff:192.0.2.128"]
        );
    }

    #[test]
    fn rejects_invalid_and_embedded() {
        assert!(ips("256.1.1.1").is_empty());
        assert!(ips("phone 01.84.17.61.18").is_empty());
        assert!(ips("at 10:30:45 today").is_empty());
        assert!(ips("v1.2.3.4").is_empty());
    }
}
