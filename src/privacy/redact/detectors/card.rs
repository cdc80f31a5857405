//! Payment card numbers: 12 to 19 digits (plain or in 4-digit groups) passing the Luhn check,
//! with a card-network prefix or a card keyword nearby.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::{context_before, continues_number, has_word};

const CUES: &[&str] = &[
    "card",
    "cards",
    "visa",
    "mastercard",
    "amex",
    "credit",
    "debit",
    "cc",
    "pan",
    "payment",
];

pub(super) struct CardDetector {
    re: Regex,
}

impl CardDetector {
    pub fn new() -> Self {
        let re = compile(
            r"\d{12,19}|\d{4}(?: \d{4}){2} \d{1,7}|\d{4}(?:-\d{4}){2}-\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5}",
        );
        Self { re }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut from = 0;
        while let Some(m) = self.re.find_at(text, from) {
            // a rejected candidate may have swallowed the start of a real card: retry one digit on
            from = m.start() + 1;
            if continues_number(text, m.start(), m.end()) {
                continue;
            }
            let digits: Vec<u8> = m
                .as_str()
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| b - b'0')
                .collect();
            if !(12..=19).contains(&digits.len())
                || !luhn(&digits)
                || digits.iter().all(|&d| d == digits[0])
            {
                continue;
            }
            let cue = has_word(&context_before(text, m.start(), 40), CUES);
            let accepted = cue || (digits.len() >= 13 && has_network_prefix(&digits));
            if accepted {
                let score = if cue { 0.95 } else { 0.9 };
                out.push(Candidate::new(
                    EntityType::CreditCard,
                    m.start(),
                    m.end(),
                    score,
                    Tier::Validated,
                ));
                from = m.end();
            }
        }
    }
}

/// The Luhn (mod 10) check over decimal digits.
pub(super) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer prefixes in use by the card networks (Visa 4, Mastercard 2/5, Amex/Diners/JCB 3,
/// Discover/UnionPay/Maestro 6, legacy JCB 1800).
fn has_network_prefix(digits: &[u8]) -> bool {
    matches!(digits.first(), Some(2..=6)) || digits.starts_with(&[1, 8, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn cards(text: &str) -> Vec<&str> {
        let d = CardDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn accepts_luhn_valid_numbers() {
        assert_eq!(
            cards("limit for 4454794511390933?"),
            vec!["4454794511390933"]
        );
        assert_eq!(
            cards("visa 4111 1111 1111 1111."),
            vec!["4111 1111 1111 1111"]
        );
        assert_eq!(cards("amex 3782-822463-10005"), vec!["3782-822463-10005"]);
        assert_eq!(
            cards("credit card 060426070011 transactions"),
            vec!["060426070011"]
        );
    }

    #[test]
    fn rejects_bad_luhn_missing_prefix_and_repeats() {
        assert!(cards("card 4111111111111112").is_empty());
        assert!(cards("order 9234567890123452").is_empty());
        assert!(cards("ref 060426070011").is_empty());
        assert!(cards("card 0000000000000000").is_empty());
        assert!(cards("x4111111111111111").is_empty());
        assert_eq!(
            cards("SSN 460-89-9847 4111 1111 1111 1111"),
            vec!["4111 1111 1111 1111"]
        );
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
    }
}
