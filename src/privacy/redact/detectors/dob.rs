//! Dates of birth: a date is taken only right after a birth keyword ("born", "DOB", "date of
//! birth"...); other dates are not personal data by themselves.

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::ceil_boundary;

/// Words allowed between the keyword and the date ("date of birth. It's 6/24/1991").
const GAP_WORDS: &[&str] = &[
    "is", "was", "it", "s", "on", "the", "of", "my", "date", "me",
];

pub(super) struct DobDetector {
    cue: Regex,
    date: Regex,
}

impl DobDetector {
    pub fn new() -> Self {
        Self {
            cue: compile(
                r"(?i)(?-u:\b)(?:date\s+of\s+birth|birth\s*date|birthday|d\.?o\.?b|born(?:\s+on)?|geboren|geb\.|né(?:e)?\s+le|fecha\s+de\s+nacimiento|date\s+de\s+naissance)(?-u:\b)",
            ),
            date: compile(
                r"(?ix)
                (?-u:\b)(?:
                  (?P<a>\d{1,2})[./-](?P<b>\d{1,2})[./-](?P<y1>\d{4}|\d{2})
                | (?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})
                | (?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?)?
                  (?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?
                  (?:\s+\d{1,2}(?:st|nd|rd|th)?,?)?\s+(?P<y3>\d{4})
                )(?-u:\b)",
            ),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        for cue in self.cue.find_iter(text) {
            // a date longer than this window is not one the date pattern knows
            let window_end = ceil_boundary(text, cue.end() + 64);
            let Some(after) = text.get(cue.end()..window_end) else {
                continue;
            };
            let Some(c) = self.date.captures(after) else {
                continue;
            };
            let Some(date) = c.get(0) else { continue };
            let gap = after.get(..date.start()).unwrap_or("");
            let gap_ok = !gap.contains('\n')
                && gap
                    .split(|c: char| !c.is_alphabetic())
                    .all(|w| w.is_empty() || GAP_WORDS.contains(&w.to_lowercase().as_str()));
            if gap_ok && plausible(&c) {
                let start = cue.end() + date.start();
                out.push(Candidate::new(
                    EntityType::DateOfBirth,
                    start,
                    start + date.len(),
                    0.85,
                    Tier::Pattern,
                ));
            }
        }
    }
}

/// Day and month in range (either order for `a/b/y`), year not in the future of a living person.
fn plausible(c: &regex::Captures<'_>) -> bool {
    let num = |name: &str| c.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let year_ok = |y: Option<u32>| y.is_none_or(|y| y < 100 || (1900..=2100).contains(&y));
    if let (Some(a), Some(b)) = (num("a"), num("b")) {
        let day_month = (1..=31).contains(&a) && (1..=12).contains(&b);
        let month_day = (1..=12).contains(&a) && (1..=31).contains(&b);
        return (day_month || month_day) && year_ok(num("y1"));
    }
    if let (Some(m), Some(d)) = (num("m2"), num("d2")) {
        return (1..=12).contains(&m) && (1..=31).contains(&d) && year_ok(num("y2"));
    }
    year_ok(num("y3"))
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn dobs(text: &str) -> Vec<&str> {
        let d = DobDetector::new();
        found(text, |t, out| d.detect(t, out))
    }

    #[test]
    fn dates_after_birth_keywords() {
        assert_eq!(
            dobs("Please tell me your date of birth. It's 6/24/1991"),
            vec!["6/24/1991"]
        );
        assert_eq!(dobs("DOB: 1980-02-29"), vec!["1980-02-29"]);
        assert_eq!(
            dobs("she was born on 3rd of March 1975."),
            vec!["3rd of March 1975"]
        );
        assert_eq!(dobs("born May 4, 1990"), vec!["May 4, 1990"]);
    }

    #[test]
    fn other_dates_are_ignored() {
        assert!(dobs("Date: 2012-10-01 00:46:43").is_empty());
        assert!(dobs("born in a small town; on 12/01/2020 we moved").is_empty());
        assert!(dobs("DOB 13/13/1990").is_empty());
    }
}
