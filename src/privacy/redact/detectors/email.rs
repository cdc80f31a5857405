//! E-mail addresses: an RFC 5322-ish shape, then length and label rules.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::char_before;

pub(super) struct EmailDetector {
    re: Regex,
}

impl EmailDetector {
    pub fn new() -> Self {
        let re = compile(r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+");
        Self { re }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let glued = char_before(text, m.start()).is_some_and(|c| c.is_alphanumeric());
            if !glued && is_valid(m.as_str()) {
                out.push(Candidate::new(
                    EntityType::Email,
                    m.start(),
                    m.end(),
                    0.95,
                    Tier::Validated,
                ));
            }
        }
    }
}

fn is_valid(addr: &str) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels
        .iter()
        .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'));
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().count() >= 2 && t.chars().all(char::is_alphabetic));
    local_ok && labels_ok && tld_ok && addr.len() <= 254
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn emails(text: &str) -> Vec<&str> {
        let d = EmailDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn finds_valid_addresses() {
        assert_eq!(
            emails("mail VivianPAlbert@armyspy.com now"),
            vec!["VivianPAlbert@armyspy.com"]
        );
        assert_eq!(
            emails("<jo.x+tag@mail.example.co.uk>."),
            vec!["jo.x+tag@mail.example.co.uk"]
        );
        assert_eq!(emails("ünïcode@bücher.de"), vec!["ünïcode@bücher.de"]);
    }

    #[test]
    fn rejects_invalid_addresses() {
        assert!(emails("a..b@example.com").is_empty());
        assert!(emails("user@-bad.com").is_empty());
        assert!(emails("user@host.c0m").is_empty());
        assert!(emails("@example.com and foo@ and x@y").is_empty());
    }
}
