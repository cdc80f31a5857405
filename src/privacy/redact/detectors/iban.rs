//! IBANs: country code, per-country length (ISO 13616 registry) and the mod-97 check; printed
//! compact or in groups, any letter case.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::{char_at, is_standalone};

/// Country code and total IBAN length.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

pub(super) struct IbanDetector {
    start: Regex,
}

impl IbanDetector {
    pub fn new() -> Self {
        Self {
            start: compile(r"(?-u:\b)[A-Za-z]{2}\d{2} ?[A-Za-z0-9]"),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut from = 0;
        while let Some(m) = text.get(from..).and_then(|rest| self.start.find(rest)) {
            let start = from + m.start();
            from = start + 1;
            if let Some(end) = iban_end(text, start) {
                out.push(Candidate::new(
                    EntityType::Iban,
                    start,
                    end,
                    0.95,
                    Tier::Validated,
                ));
                from = end;
            }
        }
    }
}

/// The end of a valid IBAN starting at `start`, if one does.
fn iban_end(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    let country = rest.get(..2)?.to_ascii_uppercase();
    let &(_, len) = LENGTHS.iter().find(|(c, _)| *c == country)?;
    let mut compact = String::with_capacity(len);
    let mut end = start;
    let mut prev_space = false;
    for (i, c) in rest.char_indices() {
        if compact.len() == len {
            break;
        }
        if c.is_ascii_alphanumeric() {
            compact.push(c.to_ascii_uppercase());
            end = start + i + 1;
            prev_space = false;
        } else if c == ' ' && !prev_space && !compact.is_empty() {
            prev_space = true;
        } else {
            break;
        }
    }
    let complete = compact.len() == len && !char_at(text, end).is_some_and(char::is_alphanumeric);
    (complete && is_standalone(text, start, end) && mod97_ok(&compact)).then_some(end)
}

/// ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10..35).
fn mod97_ok(iban: &str) -> bool {
    let rearranged = iban
        .get(4..)
        .unwrap_or("")
        .chars()
        .chain(iban.chars().take(4));
    let mut rem: u32 = 0;
    for c in rearranged {
        let Some(v) = c.to_digit(36) else {
            return false;
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn ibans(text: &str) -> Vec<&str> {
        let d = IbanDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn accepts_valid_ibans_in_any_layout() {
        assert_eq!(
            ibans("IBAN GB82WEST12345698765432."),
            vec!["GB82WEST12345698765432"]
        );
        assert_eq!(
            ibans("to GB82 WEST 1234 5698 7654 32 and"),
            vec!["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(
            ibans("de89370400440532013000"),
            vec!["de89370400440532013000"]
        );
        assert_eq!(
            ibans("FR14 2004 1010 0505 0001 3M02 606"),
            vec!["FR14 2004 1010 0505 0001 3M02 606"]
        );
    }

    #[test]
    fn rejects_bad_checksum_length_or_country() {
        assert!(ibans("GB82WEST12345698765433").is_empty());
        assert!(ibans("GB82WEST1234569876543").is_empty());
        assert!(ibans("GB82WEST123456987654321").is_empty());
        assert!(ibans("ZZ82WEST12345698765432").is_empty());
    }
}
