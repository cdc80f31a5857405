//! Phone numbers: a permissive shape, then libphonenumber validation (international form, or
//! each configured region in turn). Numbers libphonenumber rejects are still taken, at a lower
//! tier, when a phone keyword stands next to them.

use phonenumber::country;
use phonenumber::metadata::DATABASE;
use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::{context_after, context_before, continues_number, has_word};

const CUES_BEFORE: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "mobile",
    "mob",
    "cell",
    "fax",
    "call",
    "calling",
    "ring",
    "text",
    "sms",
    "whatsapp",
    "contact",
    "reach",
    "dial",
    "answering",
    "hotline",
    "landline",
];
const CUES_AFTER: &[&str] = &[
    "office", "mobile", "fax", "home", "work", "cell", "phone", "tel",
];

pub(super) struct PhoneDetector {
    shape: Regex,
    date: Regex,
    regions: Vec<country::Id>,
}

impl PhoneDetector {
    pub fn new(regions: Vec<country::Id>) -> Self {
        let shape = compile(
            r"(?x)
            (?:(?:\+|(?-u:\b)00)\ ?)?                   # international prefix
            \(?\d{1,4}\)?                         # first group, maybe in parentheses
            (?:[\ .\-/]{0,2}\(?\d{1,5}\)?){1,6}   # further groups
            (?:\ ?(?:x|ext\.?|\#)\ ?\d{1,6}(?-u:\b))?   # extension",
        );
        let date =
            compile(r"^(?:\d{4}[-/.](\d{1,2})[-/.](\d{1,2})|(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4})");
        Self {
            shape,
            date,
            regions,
        }
    }

    /// `validated` holds spans other detectors already proved (cards, IBANs, IPs...): a number
    /// never runs into them.
    pub fn detect(&self, text: &str, validated: &[(usize, usize)], out: &mut Vec<Candidate>) {
        let mut from = 0;
        while let Some(m) = self.shape.find_at(text, from) {
            let (start, end) = trim_parens(text, m.start(), m.end());
            let end = validated
                .iter()
                .filter(|v| start < v.0 && v.0 < end)
                .map(|v| v.0)
                .min()
                .unwrap_or(end);
            // the shape is greedy and may run into the next number: try every shorter prefix too
            // (at most seven groups, and most prefixes fail the digit count before validation)
            let found = group_ends(text, start, end)
                .into_iter()
                .rev()
                .find_map(|e| self.judge(text, start, e).map(|verdict| (e, verdict)));
            match found {
                Some((end, (score, tier))) => {
                    out.push(Candidate::new(EntityType::Phone, start, end, score, tier));
                    from = end;
                }
                // a rejected candidate may have swallowed the start of a real number
                None => from = next_group(text, m.start(), m.end()),
            }
        }
    }

    /// The score and tier of `start..end` as a phone number, if it is one.
    fn judge(&self, text: &str, start: usize, end: usize) -> Option<(f32, Tier)> {
        let candidate = text.get(start..end)?;
        let main = candidate.split(['x', 'e', '#']).next().unwrap_or(candidate);
        let digits = main.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits)
            || mixed_separators(main)
            || continues_number(text, start, end)
            || self.starts_with_date(candidate)
        {
            return None;
        }
        let cue = has_cue(text, start, end);
        // a bare national number that libphonenumber accepts is weaker evidence than a
        // checksum: many digit runs are valid somewhere, so it only reaches the pattern tier
        match (self.validate(main), cue) {
            (Some(Validity::International), _) => Some((0.9, Tier::Validated)),
            (Some(Validity::National), true) => Some((0.85, Tier::Validated)),
            (Some(Validity::National), false) => Some((0.7, Tier::Pattern)),
            (None, true) if digits <= 13 => Some((0.6, Tier::Pattern)),
            (None, _) => None,
        }
    }

    /// True when the candidate starts like a date (`2012-10-01`, `6/24/1991`) with a real month
    /// and day in either order.
    fn starts_with_date(&self, candidate: &str) -> bool {
        let Some(c) = self.date.captures(candidate) else {
            return false;
        };
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let (a, b) = match (num(1), num(2)) {
            (Some(a), Some(b)) => (a, b),
            _ => (num(3).unwrap_or(0), num(4).unwrap_or(0)),
        };
        let month_day = (1..=12).contains(&a) && (1..=31).contains(&b);
        let day_month = (1..=31).contains(&a) && (1..=12).contains(&b);
        month_day || day_month
    }

    /// libphonenumber's verdict: international numbers as written, national ones per region.
    fn validate(&self, number: &str) -> Option<Validity> {
        let trimmed = number.trim();
        if let Some(rest) = trimmed.strip_prefix("00") {
            return is_valid(None, &format!("+{rest}")).then_some(Validity::International);
        }
        if trimmed.starts_with('+') {
            return is_valid(None, trimmed).then_some(Validity::International);
        }
        self.regions
            .iter()
            .any(|&r| is_valid_in_region(r, trimmed))
            .then_some(Validity::National)
    }
}

/// How a number passed libphonenumber's validation.
enum Validity {
    /// Written with its country code.
    International,
    /// Valid in one of the configured regions.
    National,
}

fn is_valid(region: Option<country::Id>, number: &str) -> bool {
    phonenumber::parse(region, number).is_ok_and(|n| phonenumber::is_valid(&n))
}

/// libphonenumber's validity test restricted to one region: the number matches the region's
/// general pattern and one of its number types. `phonenumber::is_valid` would also try every
/// region sharing the calling code (25 for +1), thrashing its 100-entry regex cache; this keeps
/// a national lookup to one region's patterns.
fn is_valid_in_region(region: country::Id, number: &str) -> bool {
    let Ok(parsed) = phonenumber::parse(Some(region), number) else {
        return false;
    };
    let Some(meta) = DATABASE.by_id(region.as_ref()) else {
        return false;
    };
    let national = parsed.national().to_string();
    let d = meta.descriptors();
    // the types people write in messages; fewer patterns keep the regex cache from thrashing
    let types = [d.fixed_line(), d.mobile(), d.toll_free(), d.voip()];
    parsed.code().value() == meta.country_code()
        && d.general().is_match(&national)
        && types.into_iter().flatten().any(|t| t.is_match(&national))
}

/// Phone numbers keep to one separator style; "7777777 10.0.0.1" is a number and an IP address.
fn mixed_separators(number: &str) -> bool {
    let has = |c: char| number.trim().contains(c);
    let punctuation = ['.', '-', '/'].into_iter().filter(|&c| has(c)).count();
    punctuation > 1 || (has('.') && has(' '))
}

/// Ends of the digit groups in `start..end` (extensions count as part of the last group).
fn group_ends(text: &str, start: usize, end: usize) -> Vec<usize> {
    let span = text.get(start..end).unwrap_or("");
    let mut ends: Vec<usize> = span
        .char_indices()
        .filter(|&(i, c)| {
            c.is_ascii_digit()
                && !span[i + 1..].starts_with(|n: char| n.is_ascii_digit() || n == ')')
        })
        .map(|(i, _)| start + i + 1)
        .filter(|&e| !text[e..end].contains(['x', 'e', '#']))
        .collect();
    if ends.last() != Some(&end) {
        ends.push(end);
    }
    ends
}

/// The start of the second digit group of `start..end`, or `end` when there is none.
fn next_group(text: &str, start: usize, end: usize) -> usize {
    let span = text.get(start..end).unwrap_or("");
    let first_group_end = span
        .find(|c: char| c.is_ascii_digit())
        .and_then(|d| span[d..].find(|c: char| !c.is_ascii_digit()).map(|n| d + n));
    let next =
        first_group_end.and_then(|g| span[g..].find(|c: char| c.is_ascii_digit()).map(|n| g + n));
    next.map_or(end, |n| start + n)
}

/// Drops a dangling `(` or `)` the shape took at either end.
fn trim_parens(text: &str, start: usize, end: usize) -> (usize, usize) {
    let s = text.get(start..end).unwrap_or("");
    let balanced = s.matches('(').count() == s.matches(')').count();
    let start = if !balanced && s.starts_with('(') {
        start + 1
    } else {
        start
    };
    let end = if !balanced && s.ends_with(')') {
        end - 1
    } else {
        end
    };
    (start, end.max(start))
}

fn has_cue(text: &str, start: usize, end: usize) -> bool {
    has_word(&context_before(text, start, 40), CUES_BEFORE)
        || has_word(&context_after(text, end, 12), CUES_AFTER)
}

#[cfg(test)]
mod tests {
    use super::super::super::DEFAULT_PHONE_REGIONS;
    use super::super::found;
    use super::*;

    fn phones(text: &str) -> Vec<&str> {
        let regions = DEFAULT_PHONE_REGIONS
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        let d = PhoneDetector::new(regions);
        found(text, |t, out| d.detect(t, &[], out))
    }

    #[test]
    fn international_and_national_numbers() {
        assert_eq!(
            phones("call +44 20 7946 0958 today"),
            vec!["+44 20 7946 0958"]
        );
        assert_eq!(phones("mobile (202) 456-1111"), vec!["(202) 456-1111"]);
        assert_eq!(phones("ring 0049 30 901820"), vec!["0049 30 901820"]);
        assert_eq!(phones("Fax 01.84.17.61.18"), vec!["01.84.17.61.18"]);
        assert_eq!(
            phones("+1-903-140-4508x769 mobile"),
            vec!["+1-903-140-4508x769"]
        );
    }

    #[test]
    fn a_number_running_into_the_next_is_cut() {
        assert_eq!(
            phones("+44 20 7946 0958 4111 1111 1111 1111"),
            vec!["+44 20 7946 0958"]
        );
        assert_eq!(phones("x 7777777 10.0.0.1"), vec!["7777777"]);
    }

    #[test]
    fn context_rescues_unvalidated_numbers() {
        assert_eq!(
            phones("They're not answering at 78 651 450"),
            vec!["78 651 450"]
        );
        assert!(phones("The total was 78 651 450 units").is_empty());
    }

    #[test]
    fn rejects_dates_short_runs_and_glued_numbers() {
        assert!(phones("on 2012-10-01 at noon").is_empty());
        assert!(phones("Date: 2012-10-01 00:46:43").is_empty());
        assert!(phones("ref 12345").is_empty());
        assert!(phones("id ABC2025550143").is_empty());
        assert!(phones("version 1.2.3.4.5.6.7").is_empty());
    }
}
