//! Street addresses from their shape: a street core (house number plus a street word in one of
//! several languages, or a street word plus a number), extended over the usual tail (unit,
//! city, state, country, postcode) across commas and line breaks; PO boxes, US military
//! addresses and street corners ("the corner of X and Y").

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::resolve::{Candidate, Tier};
use super::super::text::context_before;

/// Street words written as a separate word ("Botley Road", "Luite tee", "út").
const STREET_WORDS: &str = "street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|square|sq|terrace|ter|trail|trl|parkway|pkwy|highway|hwy|bypass|gateway|crescent|cres|close|circle|cir|row|walk|path|alley|pike|plaza|mews|gardens|grove|park|view|union|loop|point|pass|crossing|landing|ridge|green|wharf|quay|heights|estates|expressway|freeway|junction|meadows|orchard|square|str|tee|tänav|út|útja|utca|ulica|vej|gade|weg|straat|laan|gasse|allee|platz|ring|gata|gatan|vägen|väg|vegen|veien|katu|tie|polku|kuja";

/// Street words unambiguous enough to stand before a house number ("Luite tee 87", "út 98").
const STREET_WORDS_BEFORE_NUMBER: &str = "street|road|avenue|lane|drive|boulevard|tee|tänav|út|útja|utca|u|ulica|vej|gade|weg|straat|laan|gasse|allee|platz|gata|gatan|vägen|väg|vegen|veien|katu|tie|polku|kuja";

/// Street words glued to the name ("Koskikatu", "Pohlstrasse", "Sludevej").
const GLUED_ENDINGS: &str = "straße|strasse|str|straat|laan|weg|gasse|platz|allee|damm|ring|vej|gade|gatan|vägen|gata|stræti|katu|tie|polku|kuja|utca|útja|veien|vegen|plein|gracht|kade|singel|dreef|steeg|vei|gränd|torget|torg|tér|sor";

/// Street types written before the name ("rue de la Hulotais", "ul. Jesionowa").
const PREFIX_WORDS: &str = "rue|avenue|av|avda|via|viale|piazza|corso|largo|calle|avenida|paseo|plaza|carrer|rua|travessa|ul|ulica|al|aleja|os|chemin|boulevard|bd|impasse|allée|quai|route|strada|camino|praça|plac";

/// Function words that cannot sit inside a street name.
const NOT_IN_STREET: &[&str] = &[
    "and", "or", "the", "a", "an", "to", "in", "on", "at", "of", "for", "with", "is", "are", "was",
    "i", "my", "you", "your", "it", "this", "that", "from", "by", "we", "me", "he", "she", "they",
];

/// Words right before an address ("lives at", "Address:", "send it to").
const CUES: &str = r"(?i)(?-u:\b)(?:address(?:\s+is)?|lives?\s+(?:at|on|in)|located\s+(?:at|on)|(?-u:\b)is\s+(?:at|on)|sen[dt]\s+(?:[\w']+\s+){0,3}?to|deliver(?:ed)?\s+to|ship(?:ped)?\s+to|moved\s+to|meet\s+you\s+at|off\s+at|enter\s+on|stop\s+at|arrived\s+at|side\s+of|reside\s+at|home\s+is|user)[\s:]*";

pub(super) struct AddressDetector {
    core: Regex,
    /// A street without a known street word: house number, words, number ("20789 Allika 46").
    loose_core: Regex,
    /// After a cue, a street name and number without a house number ("Joaquin Suarez 2906").
    named_street: Regex,
    /// A cue right before a position.
    cue_before: Regex,
    /// Cues anywhere in the text.
    cue: Regex,
    unit: Regex,
    postcode: Regex,
    /// More digits right after a postcode: the "postcode" is the start of another number.
    digits_follow: Regex,
    state: Regex,
    place: Regex,
    po_box: Regex,
    military: Regex,
    corner: Regex,
}

impl AddressDetector {
    pub fn new() -> Self {
        let word = r"[\p{L}\p{M}][\p{L}\p{M}'’\-]*\.?";
        let number = r"\d{1,6}[A-Za-z]?";
        let core = format!(
            r"(?ix)
            (?-u:\b)(?:
              {number}(?:[\x20\t]+\d{{1,5}})?[\x20\t]+(?:{word}[\x20\t]+){{0,3}}(?:(?:{STREET_WORDS})|[\p{{L}}\p{{M}}]*(?:{GLUED_ENDINGS}))(?-u:\b)\.?(?:[\x20\t]+\d{{1,5}}[A-Za-z]?(?-u:\b)\.?)?
            | (?:{number}(?:[\x20\t]+\d{{1,5}})?[\x20\t]+)?(?:{PREFIX_WORDS})\.?[\x20\t]+(?:{word}[\x20\t]+){{0,3}}?{word}[\x20\t]+\d{{1,5}}[A-Za-z]?(?-u:\b)\.?
            | {number}(?:[\x20\t]+\d{{1,5}})?[\x20\t]+(?:{PREFIX_WORDS})\.?(?:[\x20\t]+{word}){{1,4}}
            | (?:{word}[\x20\t]+){{0,2}}?(?:(?:{STREET_WORDS_BEFORE_NUMBER})|[\p{{L}}\p{{M}}]*(?:{GLUED_ENDINGS}))(?-u:\b)\.?[\x20\t]+\d{{1,5}}[A-Za-z]?(?-u:\b)\.?
            )"
        );
        let loose_core = format!(
            r"(?-u:\b)\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+{word}(?:[ \t]+{word}){{0,4}}?[ \t]+\d{{1,5}}[A-Za-z]?(?-u:\b)\.?"
        );
        let named_street =
            format!(r"^{word}(?:[ \t]+{word}){{0,4}}?[ \t]+\d{{1,5}}[A-Za-z]?(?-u:\b)\.?");
        Self {
            core: compile(&core),
            loose_core: compile(&loose_core),
            named_street: compile(&named_street),
            cue_before: compile(&format!("{CUES}$")),
            cue: compile(CUES),
            unit: compile(
                r"(?i)^(?:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|bldg|building|no|#)\.?[ \t]*#?\d+[A-Za-z]?\b",
            ),
            postcode: compile(
                r"^(?:\d{4,6}(?:-\d{3,4})?|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|\d{4}[ \t]?[A-Z]{2})\b",
            ),
            digits_follow: compile(r"^[ \t]?\d"),
            state: compile(r"^\p{Lu}{2,3}\b"),
            place: compile(
                r"^\p{Lu}[\p{L}\p{M}'’\-]*(?:[ \t](?:\p{Ll}{1,3}[ \t])?\p{Lu}[\p{L}\p{M}'’\-]*){0,3}\b",
            ),
            po_box: compile(r"(?i)(?-u:\b)P\.?[ \t]?O\.?[ \t]*Box[ \t]+\d{1,6}"),
            military: compile(
                r"(?i)(?-u:\b)(?:(?:PSC|CMR|Unit)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}|(?:USNS|USNV|USS|USCGC)[ \t]+\p{L}+)[\s,]*(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5}(?-u:\b)",
            ),
            corner: compile(&format!(
                r"(?i)(?-u:\b)the[ \t]+corner[ \t]+of[ \t]+(?:(?:{word}|\d{{1,6}}\.?)[ \t]+){{1,5}}?and[ \t]+(?-i:\p{{Lu}}[\p{{L}}\p{{M}}'’\-]*(?:[ \t]+\p{{Lu}}[\p{{L}}\p{{M}}'’\-]*){{0,3}})"
            )),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        // a street word, or a unit, postcode or further lines, make an address beyond reasonable
        // doubt (pattern tier); a loose core after a cue alone stays a context guess
        let mut push =
            |start: usize, (end, structured): (usize, bool), score: f32, strong_core: bool| {
                let tier = if strong_core || structured {
                    Tier::Pattern
                } else {
                    Tier::Context
                };
                let score = if structured { score + 0.1 } else { score };
                out.push(Candidate::new(
                    EntityType::StreetAddress,
                    start,
                    end,
                    score,
                    tier,
                ));
            };
        for m in self.core.find_iter(text) {
            if let Some(start) = self.core_start(&self.core, text, m.start(), m.end()) {
                push(start, self.extend_tail(text, m.end()), 0.65, true);
            }
        }
        let mut from = 0;
        while let Some(m) = self.loose_core.find_at(text, from) {
            // a rejected match may hide one starting at its next number ("12 to 30497 Ibirapita 8057")
            from = m.start() + 1;
            let Some(start) = self.core_start(&self.loose_core, text, m.start(), m.end()) else {
                continue;
            };
            let first_word_capitalised = text
                .get(start..)
                .and_then(|s| {
                    s.split_whitespace()
                        .find(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                })
                .is_some_and(|w| w.starts_with(char::is_uppercase));
            let cued = self.cue_before.is_match(&context_before(text, start, 60));
            let (end, structured) = self.extend_tail(text, m.end());
            if cued || (first_word_capitalised && structured) {
                push(start, (end, structured), 0.6, false);
                from = m.end();
            }
        }
        for cue in self.cue.find_iter(text) {
            let Some(m) = text
                .get(cue.end()..)
                .and_then(|rest| self.named_street.find(rest))
            else {
                continue;
            };
            let start = cue.end() + m.start();
            if self
                .core_start(&self.named_street, text, start, start + m.len())
                .is_some()
            {
                push(start, self.extend_tail(text, start + m.len()), 0.55, false);
            }
        }
        for m in self
            .po_box
            .find_iter(text)
            .chain(self.military.find_iter(text))
        {
            let (end, _) = self.extend_tail(text, m.end());
            push(m.start(), (end, true), 0.7, true);
        }
        for m in self.corner.find_iter(text) {
            push(m.start(), (m.end(), false), 0.7, true);
        }
    }

    /// Where a street core really starts: the leftmost match may begin with words of the
    /// sentence ("enter on Sludevej 13"), so it is cut after the last function word, and what
    /// remains must still be a whole core.
    fn core_start(&self, core_re: &Regex, text: &str, start: usize, end: usize) -> Option<usize> {
        let core = text.get(start..end)?;
        let after_function_word = core
            .split_whitespace()
            .rfind(|w| NOT_IN_STREET.contains(&w.trim_end_matches('.').to_lowercase().as_str()))
            .map(|w| w.as_ptr() as usize - core.as_ptr() as usize + w.len());
        let Some(offset) = after_function_word else {
            return Some(start);
        };
        let rest = core.get(offset..)?;
        let trimmed = rest.trim_start();
        let new_start = start + offset + (rest.len() - trimmed.len());
        core_re
            .find(trimmed)
            .filter(|m| m.start() == 0 && new_start + m.end() == end)
            .map(|_| new_start)
    }

    /// Extends an address over its tail: units, places, states and postcodes, separated by
    /// spaces, commas or line breaks (at most four lines). Returns the new end and whether a
    /// unit, a postcode or a line break was taken (a structured address).
    fn extend_tail(&self, text: &str, mut end: usize) -> (usize, bool) {
        let mut lines = 0;
        let mut structured = false;
        for _ in 0..8 {
            let Some(rest) = text.get(end..) else { break };
            let (sep_len, comma, newlines) = separator(rest);
            lines += newlines;
            let Some(next) = rest.get(sep_len..) else {
                break;
            };
            if lines > 4 || next.is_empty() {
                break;
            }
            let after_break = comma || newlines > 0;
            let (len, strong) = if let Some(m) = self.unit.find(next) {
                (m.end(), true)
            } else if let Some(m) = self
                .postcode
                .find(next)
                .filter(|m| !self.digits_follow.is_match(&next[m.end()..]))
            {
                (m.end(), true)
            } else if let Some(m) = self.state.find(next).filter(|_| after_break) {
                (m.end(), false)
            } else if let Some(m) = self.place.find(next) {
                // a place joined by a plain space must be followed by a postcode or the end
                let tail = next.get(m.end()..).unwrap_or("");
                let closes = tail.trim_start_matches([' ', '\t']);
                let ends_here =
                    closes.is_empty() || closes.starts_with(['\n', ',', '?', '!', '.', ')']);
                if !(after_break || ends_here || self.postcode.is_match(closes)) {
                    break;
                }
                (m.end(), false)
            } else {
                break;
            };
            structured |= strong || newlines > 0;
            end += sep_len + len;
        }
        (end, structured)
    }
}

/// Length of the separator at the start of `rest`, whether it holds a comma, and how many line
/// breaks it holds (a blank line inside an address block counts as two).
fn separator(rest: &str) -> (usize, bool, usize) {
    let mut len = 0;
    let (mut comma, mut newlines) = (false, 0);
    for c in rest.chars() {
        match c {
            ' ' | '\t' | '\r' | '>' => {}
            ',' if !comma => comma = true,
            '\n' if newlines < 2 => newlines += 1,
            _ => break,
        }
        len += c.len_utf8();
    }
    (len, comma, newlines)
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn addresses(text: &str) -> Vec<&str> {
        let d = AddressDetector::new();
        let mut spans = found(text, |t, out| d.detect(t, out));
        spans.sort_by_key(|s| std::cmp::Reverse(s.len()));
        spans.truncate(1);
        spans
    }

    #[test]
    fn street_cores_and_tails() {
        assert_eq!(
            addresses("lives at 221B Baker Street, London NW1 6XE."),
            vec!["221B Baker Street, London NW1 6XE"]
        );
        assert_eq!(
            addresses(
                "The address of Persint is 6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677"
            ),
            vec!["6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677"]
        );
        assert_eq!(
            addresses("Pedestrians must enter on Sludevej 13 St. the first"),
            vec!["Sludevej 13 St"]
        );
        assert_eq!(
            addresses("it is 143 31 rue de la Hulotais Apt. 087 SAINT-PRIEST France"),
            vec!["143 31 rue de la Hulotais Apt. 087 SAINT-PRIEST France"]
        );
        assert_eq!(
            addresses("Timotea lives on Via dei Fiorentini 17 street."),
            vec!["Via dei Fiorentini 17"]
        );
    }

    #[test]
    fn boxes_military_and_corners() {
        assert_eq!(
            addresses("send to PO Box 1234, Springfield, IL 62704 today"),
            vec!["PO Box 1234, Springfield, IL 62704"]
        );
        assert_eq!(
            addresses("at PSC 0729, Box 5797\nAPO AP 96854. It"),
            vec!["PSC 0729, Box 5797\nAPO AP 96854"]
        );
        assert_eq!(
            addresses("update to the corner of ul. Cicha 86 and Leokadia Trail?"),
            vec!["the corner of ul. Cicha 86 and Leokadia Trail"]
        );
    }

    #[test]
    fn not_addresses() {
        assert!(addresses("I ran 5 miles in the park").is_empty());
        assert!(addresses("We have 3 dogs and 2 cats").is_empty());
        assert!(addresses("What are my options?").is_empty());
    }
}
