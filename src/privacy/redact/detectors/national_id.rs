//! National identifiers: US SSN (issuance rules), US driver's licence numbers (keyword context
//! only, formats vary by state), Spanish DNI/NIE (check letter) and UK National Insurance numbers.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::{context_before, has_word, is_standalone};

const SSN_CUES: &[&str] = &["ssn", "social security", "social sec", "ss#", "ss #"];
const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
const NINO_BAD_PREFIXES: &[&str] = &["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"];

pub(super) struct NationalIdDetector {
    ssn: Regex,
    licence: Regex,
    dni: Regex,
    nino: Regex,
}

impl NationalIdDetector {
    pub fn new() -> Self {
        Self {
            ssn: compile(r"(?-u:\b)(\d{3})([- ]?)(\d{2})([- ]?)(\d{4})(?-u:\b)"),
            licence: compile(
                r"(?i)(?:driver'?s?|driving)\s+licen[cs]e(?:\s+(?:number|no\.?|num|#))?(?:\s+is)?[\s:#]*([A-Z0-9][A-Z0-9-]{4,19})(?-u:\b)",
            ),
            dni: compile(r"(?-u:\b)([XYZxyz]?)(\d{7,8})[- ]?([A-Za-z])(?-u:\b)"),
            nino: compile(
                r"(?-u:\b)([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?-u:\b)",
            ),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut push = |start, end, score, tier| {
            out.push(Candidate::new(
                EntityType::NationalId,
                start,
                end,
                score,
                tier,
            ))
        };
        for c in self.ssn.captures_iter(text) {
            let (Some(all), Some(area), Some(sep1), Some(group), Some(sep2), Some(serial)) =
                (c.get(0), c.get(1), c.get(2), c.get(3), c.get(4), c.get(5))
            else {
                continue;
            };
            let cue = has_word(&context_before(text, all.start(), 40), SSN_CUES);
            let separated = sep1.as_str() == sep2.as_str() && !sep1.as_str().is_empty();
            if (separated || cue) && ssn_rules_ok(area.as_str(), group.as_str(), serial.as_str()) {
                push(
                    all.start(),
                    all.end(),
                    if cue { 0.95 } else { 0.85 },
                    Tier::Validated,
                );
            }
        }
        for c in self.licence.captures_iter(text) {
            if let Some(id) = c
                .get(1)
                .filter(|id| id.as_str().bytes().filter(u8::is_ascii_digit).count() >= 4)
            {
                // the keyword names the number outright: as strong as a checksum here
                push(id.start(), id.end(), 0.9, Tier::Validated);
            }
        }
        for c in self.dni.captures_iter(text) {
            let (Some(all), Some(prefix), Some(number), Some(letter)) =
                (c.get(0), c.get(1), c.get(2), c.get(3))
            else {
                continue;
            };
            if dni_ok(prefix.as_str(), number.as_str(), letter.as_str())
                && is_standalone(text, all.start(), all.end())
            {
                push(all.start(), all.end(), 0.85, Tier::Validated);
            }
        }
        for c in self.nino.captures_iter(text) {
            let (Some(all), Some(prefix)) = (c.get(0), c.get(1)) else {
                continue;
            };
            if !NINO_BAD_PREFIXES.contains(&prefix.as_str()) {
                push(all.start(), all.end(), 0.8, Tier::Validated);
            }
        }
    }
}

/// SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000.
fn ssn_rules_ok(area: &str, group: &str, serial: &str) -> bool {
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// Spanish DNI (8 digits) or NIE (X/Y/Z + 7 digits): the letter is `number mod 23` in a table.
fn dni_ok(prefix: &str, number: &str, letter: &str) -> bool {
    let lead = match prefix.to_ascii_uppercase().as_str() {
        "" if number.len() == 8 => "",
        "X" if number.len() == 7 => "0",
        "Y" if number.len() == 7 => "1",
        "Z" if number.len() == 7 => "2",
        _ => return false,
    };
    let Ok(n) = format!("{lead}{number}").parse::<usize>() else {
        return false;
    };
    letter.len() == 1 && letter.as_bytes()[0].to_ascii_uppercase() == DNI_LETTERS[n % 23]
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn ids(text: &str) -> Vec<&str> {
        let d = NationalIdDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn ssn_rules() {
        assert_eq!(ids("Here's my SSN: 460-89-9847"), vec!["460-89-9847"]);
        assert_eq!(ids("ssn 460899847"), vec!["460899847"]);
        assert!(ids("id 460899847").is_empty());
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
            "123-45 6789",
        ] {
            assert!(ids(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn driver_licence_needs_context() {
        assert_eq!(
            ids("My driver's license number is U62928788557186"),
            vec!["U62928788557186"]
        );
        assert_eq!(ids("driving licence: 6940579"), vec!["6940579"]);
        assert!(ids("My licence is ABCDEFG").is_empty());
    }

    #[test]
    fn dni_nie_and_nino() {
        assert_eq!(ids("DNI 12345678Z"), vec!["12345678Z"]);
        assert_eq!(ids("NIE X1234567L"), vec!["X1234567L"]);
        assert!(ids("DNI 12345678A").is_empty());
        assert_eq!(ids("NI number AB 12 34 56 C"), vec!["AB 12 34 56 C"]);
        assert!(ids("GB 12 34 56 C").is_empty());
    }
}
