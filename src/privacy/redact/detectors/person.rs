//! Person names from context: introductions ("my name is", "call me"), greetings and titles,
//! family and speech cues, chat speaker labels, and capitalised runs that contain a name from the
//! name lists. Without name lists only the cue rules fire.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::compile;

use super::super::entity::EntityType;
use super::super::names::NameLists;
use super::super::resolve::{Candidate, Tier};
use super::super::text::{char_before, is_standalone};

/// Cues after which the name may be written in lower case ("people call me višeslav").
const STRONG_CUES: &str = r"(?i)(?:(?-u:\b)my\s+name\s+is|(?-u:\b)my\s+name's|(?-u:\b)name\s+is|(?-u:\b)(?:people|they|friends)\s+call\s+me|(?-u:\b)calls?\s+me|(?-u:\b)known\s+as|(?-u:\b)i\s+am\s+called|(?-u:\b)(?:sur|first\s+|last\s+|full\s+|family\s+)?name\s*:|(?-u:\b)what'?s\s+your\s+(?:full\s+|first\s+|last\s+|sur)?name\?(?:\s+user:)?|(?-u:\b)name\s+on\s+the\s+(?:account|card)(?:\s+is)?\??(?:\s+user:)?|(?-u:\b)under\s+the\s+name(?:\s+of)?|(?-u:\b)(?:it'?s|is|booked|registered)\s+under|(?-u:\b)change\s+it\s+to|(?-u:\b)signed|(?-u:\b)regards,|(?-u:\b)sincerely,|(?-u:\b)(?:directed|written|produced|composed)\s+by:|(?-u:\b)was\s+called|(?-u:\b)were\s+called|(?-u:\b)named)\s*";

/// Cues after which the name must be capitalised.
const WEAK_CUES: &str = r"(?i:(?-u:\b)(?:hi|hello|hey|dear|greetings|thanks|thank\s+you|cheers|bye|goodbye|welcome|good\s+(?:morning|afternoon|evening)|i'?m|i\s+am|this\s+is|meet|says|said|asked|told|wrote|replied|shouted\s+at|according\s+to|assistant\s+to|talk\s+to|speak\s+(?:to|with)|ask\s+for|name|(?:sung|written|directed|produced|composed|performed|painted|signed|founded|led|hosted|presented|narrated|recorded|arranged|played)\s+by|my\s+(?:son|daughter|wife|husband|kid|child|mother|mom|mum|father|dad|brother|sister|friend|colleague|boss|manager|partner|uncle|aunt|cousin|grandfather|grandmother|grandson|granddaughter|neighbou?r|doctor|lawyer))(?-u:\b))[,:]?\s+";

const TITLES: &str = r"(?-u:\b)(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Madam|Mme|Mlle|Herr|Frau|Sr|Sra|Srta|Mister|Doctor|Professor)\.?\s+";

/// One name word: a letter run with inner apostrophes or hyphens (O'Brien, Hauta-aho), or an
/// initial with its dot.
const WORD: &str = r"^(?:\p{L}\.|\p{L}[\p{L}\p{M}]*(?:['’\-]\p{L}[\p{L}\p{M}]*)*)";

/// A run of up to four capitalised words or initials on one line.
/// Name particles ("Maika van de Noort") allowed between capitalised words.
const CAPITALISED_RUN: &str = r"\p{Lu}[\p{L}\p{M}]*(?:['’\-]\p{L}[\p{L}\p{M}]*)*(?:[ \t]{1,2}(?:(?:van|von|de|der|den|ten|ter|da|di|del|della|du|la|le|bin|ibn|al|el|dos|das|do)[ \t])*(?:\p{Lu}\.|\p{Lu}[\p{L}\p{M}]*(?:['’\-]\p{L}[\p{L}\p{M}]*)*)){0,3}";

/// A line holding only a capitalised name of two or three words (letterheads, signatures).
const NAME_LINE: &str = r"(?m)^[ \t>*?•\-]*(\p{Lu}[\p{Ll}\p{M}'’\-]+(?:[ \t]{1,2}(?:\p{Lu}\.?|\p{Lu}[\p{Ll}\p{M}'’\-]+)){1,2})[ \t]*$";

/// A chat speaker label at the start of a line ("Melanie: ...").
const SPEAKER: &str = r"(?m)^[ \t>*?•\-]*(\p{L}[\p{L}\p{M}'’\-]{1,30}):";

/// A capitalised name right before a verb of speech ("Mehrudin shouted", "says Hauta-aho").
const SPEECH: &str = r"(\p{Lu}[\p{L}\p{M}'’\-]*(?:[ \t]+\p{Lu}[\p{L}\p{M}'’\-]*){0,2}),?[ \t]+(?:said|says|shouted|asked|told|explained|replied|wrote|added|answered|whispered|yelled|laughed|smiled)(?-u:\b)";

/// An enumeration of single capitalised words: "A, B and C", "A and B".
const ENUMERATION: &str = r"\p{Lu}[\p{L}\p{M}'’\-]*(?:,[ \t]+\p{Lu}[\p{L}\p{M}'’\-]*)*,?[ \t]+and[ \t]+\p{Lu}[\p{L}\p{M}'’\-]*";

/// Labels of form fields, never chat speakers.
const FIELD_LABELS: &[&str] = &[
    "name", "phone", "e-mail", "email", "website", "address", "date", "user", "bot", "agent",
    "customer", "subject", "from", "to", "cc", "re", "note", "answer", "question", "q", "a", "tel",
    "fax", "mobile", "zip", "city", "country", "title", "company", "position", "summary", "ps",
];

const SURNAME_ENDINGS: &[&str] = &[
    "ova", "ov", "ev", "ski", "ska", "sky", "cki", "cka", "ić", "sson", "dóttir", "dottir", "escu",
    "enko", "vich", "poulos", "akis", "oglu", "oğlu", "yan", "czyk", "wicz",
];

/// Common English words that also appear in name lists, never a name on their own here.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "if",
    "then",
    "so",
    "as",
    "at",
    "by",
    "for",
    "from",
    "in",
    "into",
    "of",
    "on",
    "to",
    "with",
    "about",
    "after",
    "all",
    "am",
    "are",
    "be",
    "been",
    "before",
    "can",
    "could",
    "did",
    "do",
    "does",
    "each",
    "few",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "is",
    "it",
    "its",
    "just",
    "me",
    "more",
    "most",
    "my",
    "no",
    "not",
    "now",
    "only",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "some",
    "such",
    "than",
    "that",
    "their",
    "them",
    "there",
    "these",
    "they",
    "this",
    "those",
    "too",
    "under",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "would",
    "you",
    "your",
    "yes",
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "please",
    "sorry",
    "ok",
    "okay",
    "well",
    "also",
    "maybe",
    "may",
    "might",
    "must",
    "shall",
    "new",
    "old",
    "good",
    "great",
    "best",
    "first",
    "last",
    "next",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "god",
    "lord",
    "king",
    "queen",
    "prince",
    "princess",
    "sir",
    "saint",
    "street",
    "road",
    "avenue",
    "north",
    "south",
    "east",
    "west",
    "central",
    "city",
    "state",
    "river",
    "lake",
    "mountain",
    "park",
    "hill",
    "church",
    "company",
    "bank",
    "love",
    "hope",
    "faith",
    "joy",
    "grace",
    "summer",
    "autumn",
    "winter",
    "spring",
    "star",
    "moon",
    "sky",
    "stone",
    "rock",
    "pop",
    "gold",
    "silver",
    "baby",
    "angel",
    "heaven",
    "destiny",
    "liberty",
    "justice",
    "mercy",
    "patience",
    "charity",
    "chance",
    "lucky",
    "happy",
    "merry",
    "harmony",
    "melody",
    "bill",
    "mark",
    "art",
    "guy",
    "max",
    "page",
    "rich",
    "long",
    "young",
    "brown",
    "white",
    "black",
    "green",
    "gray",
    "grey",
    "red",
    "blue",
    "english",
    "french",
    "german",
    "major",
    "duke",
    "earl",
    "major",
    "care",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "miss",
    "user",
    "bot",
    "name",
    "phone",
    "email",
    "address",
    "date",
    "apt",
    "suite",
    "unit",
    "box",
    "i'm",
    "i'd",
    "i'll",
    "i've",
    "i’m",
];

pub(super) struct PersonDetector {
    names: NameLists,
    strong: Regex,
    weak: Regex,
    title: Regex,
    word: Regex,
    run: Regex,
    speaker: Regex,
    speech: Regex,
    enumeration: Regex,
    lower_word: Regex,
    name_line: Regex,
}

impl PersonDetector {
    pub fn new(names: NameLists) -> Self {
        Self {
            names,
            strong: compile(STRONG_CUES),
            weak: compile(WEAK_CUES),
            title: compile(TITLES),
            word: compile(WORD),
            run: compile(CAPITALISED_RUN),
            speaker: compile(SPEAKER),
            speech: compile(SPEECH),
            enumeration: compile(ENUMERATION),
            lower_word: compile(r"\p{Ll}[\p{Ll}\p{M}'’\-]*"),
            name_line: compile(NAME_LINE),
        }
    }

    pub fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut found: Vec<((usize, usize), f32)> = Vec::new();
        for cue in self.strong.find_iter(text) {
            if let Some(span) = self.name_after(text, cue.end(), true) {
                found.push((span, 0.85));
            }
        }
        for cue in self.weak.find_iter(text).chain(self.title.find_iter(text)) {
            if let Some(span) = self.name_after(text, cue.end(), false) {
                found.push((span, 0.75));
            }
        }
        for name in self.speech.captures_iter(text).filter_map(|c| c.get(1)) {
            if let Some(span) = self.name_after(text, name.start(), false) {
                found.push((span, 0.7));
            }
        }
        for run in self.run.find_iter(text) {
            if let Some(hit) = self.name_in_run(text, run.start(), run.end()) {
                found.push(hit);
            }
        }
        self.speakers(text, &mut found);
        self.name_lines(text, &mut found);
        self.enumerations(text, &mut found);
        if !text.chars().any(char::is_uppercase) {
            self.lowercase_full_names(text, &mut found);
        }
        repeated_name_parts(text, &mut found);
        for ((start, end), score) in found {
            out.push(Candidate::new(
                EntityType::Person,
                start,
                end,
                score,
                Tier::Context,
            ));
        }
    }

    /// Chat speaker labels ("Melanie: ..."): a listed first name, or any label in a dialogue
    /// where another label is a listed first name.
    fn speakers(&self, text: &str, found: &mut Vec<((usize, usize), f32)>) {
        let labels: Vec<regex::Match<'_>> = self
            .speaker
            .captures_iter(text)
            .filter_map(|c| c.get(1))
            .filter(|l| {
                !is_stopword(l.as_str())
                    && !FIELD_LABELS.contains(&l.as_str().to_lowercase().as_str())
            })
            .collect();
        let dialogue =
            labels.len() >= 2 && labels.iter().any(|l| self.names.is_first_name(l.as_str()));
        for label in labels {
            if dialogue || self.names.is_first_name(label.as_str()) {
                found.push(((label.start(), label.end()), 0.75));
            }
        }
    }

    /// In a block of three or more lines (a contact card, a signature), a line that holds only
    /// a capitalised two- or three-word name.
    fn name_lines(&self, text: &str, found: &mut Vec<((usize, usize), f32)>) {
        if text.lines().filter(|l| !l.trim().is_empty()).count() < 3 {
            return;
        }
        for name in self.name_line.captures_iter(text).filter_map(|c| c.get(1)) {
            if !name.as_str().split_whitespace().any(is_stopword) {
                found.push(((name.start(), name.end()), 0.6));
            }
        }
    }

    /// "Kónya, Becker and Vasquez": when one member of an enumeration of single capitalised
    /// words is a listed name, the others are taken as names too.
    fn enumerations(&self, text: &str, found: &mut Vec<((usize, usize), f32)>) {
        for list in self.enumeration.find_iter(text) {
            let members: Vec<(usize, &str)> = list
                .as_str()
                .split([',', ' ', '\t'])
                .filter(|w| !w.is_empty() && *w != "and")
                .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
                .collect();
            let any_listed = members
                .iter()
                .any(|(_, w)| self.is_listed(w) && !is_stopword(w));
            if any_listed {
                for (start, word) in members.into_iter().filter(|(_, w)| !is_stopword(w)) {
                    found.push(((start, start + word.len()), 0.6));
                }
            }
        }
    }

    /// In all-lower-case text, a listed first name followed by a listed last name.
    fn lowercase_full_names(&self, text: &str, found: &mut Vec<((usize, usize), f32)>) {
        let words: Vec<regex::Match<'_>> = self.lower_word.find_iter(text).collect();
        for pair in words.windows(2) {
            let (first, last) = (pair[0], pair[1]);
            let adjacent = text.get(first.end()..last.start()) == Some(" ");
            let listed =
                self.names.is_first_name(first.as_str()) && self.names.is_last_name(last.as_str());
            if adjacent && listed && !is_stopword(first.as_str()) && !is_stopword(last.as_str()) {
                found.push(((first.start(), last.end()), 0.6));
            }
        }
    }

    fn is_listed(&self, word: &str) -> bool {
        self.names.is_first_name(word) || self.names.is_last_name(word)
    }

    /// The name starting at `pos` (after spaces): up to four words, at least one of them not an
    /// initial; lower-case words only when `allow_lower`. Stops at stopwords and line ends.
    fn name_after(&self, text: &str, pos: usize, allow_lower: bool) -> Option<(usize, usize)> {
        let mut i = pos;
        let mut span: Option<(usize, usize)> = None;
        let mut has_word = false;
        for _ in 0..4 {
            let gap = text
                .get(i..)?
                .bytes()
                .take_while(|b| *b == b' ' || *b == b'\t')
                .count();
            if span.is_some() && gap == 0 || gap > 4 {
                break;
            }
            let start = i + gap;
            let Some(m) = text.get(start..).and_then(|rest| self.word.find(rest)) else {
                break;
            };
            let word = m.as_str();
            let (word, possessive) = strip_possessive(word);
            let capitalised = word.chars().next().is_some_and(char::is_uppercase);
            if is_stopword(word)
                || !(capitalised || allow_lower || is_particle(word))
                || word.chars().count() > 30
            {
                break;
            }
            has_word |= !is_initial(word);
            let end = start + word.len();
            span = Some((span.map_or(start, |(s, _)| s), end));
            i = end;
            if possessive {
                break;
            }
        }
        span.filter(|_| has_word)
    }

    /// A capitalised run that looks like a name: it holds a listed name or a surname-like word,
    /// or has the "First I. Last" shape. Returns the name part and a score.
    fn name_in_run(&self, text: &str, start: usize, end: usize) -> Option<((usize, usize), f32)> {
        let run = text.get(start..end)?;
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut offset = 0;
        for part in run.split([' ', '\t']) {
            if !part.is_empty() {
                let (word, _) = strip_possessive(part);
                words.push((start + offset, start + offset + word.len()));
            }
            offset += part.len() + 1;
        }
        let word_at = |&(s, e): &(usize, usize)| text.get(s..e).unwrap_or("");
        while words
            .first()
            .is_some_and(|w| is_stopword(word_at(w)) || is_initial(word_at(w)))
        {
            words.remove(0);
        }
        while words
            .last()
            .is_some_and(|w| is_stopword(word_at(w)) || is_initial(word_at(w)))
        {
            words.pop();
        }
        // "Producer James Sparks": an unlisted leading word before a listed first name
        if words.len() >= 3
            && !self.is_listed(word_at(&words[0]))
            && self.names.is_first_name(word_at(&words[1]))
        {
            words.remove(0);
        }
        let (first, last) = (words.first()?, words.last()?);
        if words.iter().any(|w| is_stopword(word_at(w)))
            || words.iter().all(|w| is_all_caps(word_at(w)))
        {
            return None;
        }
        let span = (first.0, last.1);
        let first_listed = self.names.is_first_name(word_at(first));
        let last_listed =
            self.names.is_last_name(word_at(last)) || has_surname_ending(word_at(last));
        let initial_inside = words.len() >= 3
            && words[1..words.len() - 1]
                .iter()
                .any(|w| is_initial(word_at(w)));
        let score = match (words.len(), first_listed, last_listed) {
            (1, true, _) => 0.6,
            (1, false, true) if !sentence_initial(text, first.0) => 0.5,
            (1, _, _) => return None,
            (_, true, true) => 0.85,
            _ if initial_inside => 0.75,
            (_, true, false) | (_, false, true) => 0.7,
            (_, false, false) => return None,
        };
        Some((span, score))
    }
}

/// Words of a multi-word name found elsewhere on their own ("Alvir ... Alvir D. Pušaver").
fn repeated_name_parts(text: &str, found: &mut Vec<((usize, usize), f32)>) {
    let parts: Vec<&str> = found
        .iter()
        .filter_map(|&((s, e), _)| text.get(s..e))
        .filter(|name| name.split_whitespace().count() >= 2)
        .flat_map(str::split_whitespace)
        .filter(|w| w.chars().count() >= 3 && w.starts_with(char::is_uppercase) && !is_stopword(w))
        .collect();
    let mut extra = Vec::new();
    for part in parts {
        for (i, _) in text.match_indices(part) {
            let span = (i, i + part.len());
            let covered = found
                .iter()
                .chain(&extra)
                .any(|&((s, e), _)| s <= span.0 && span.1 <= e);
            if !covered && is_standalone(text, span.0, span.1) {
                extra.push((span, 0.6));
            }
        }
    }
    found.extend(extra);
}

fn is_all_caps(word: &str) -> bool {
    !word.chars().any(char::is_lowercase)
}

/// Surname endings common across European naming traditions (Slavic, Nordic, Romanian...).
fn has_surname_ending(word: &str) -> bool {
    let lower = word.to_lowercase();
    lower.chars().count() >= 5 && SURNAME_ENDINGS.iter().any(|e| lower.ends_with(e))
}

fn is_stopword(word: &str) -> bool {
    if word.len() == 2 && word.ends_with('.') {
        return false; // an initial ("I." in "Hanne I. Kreutzmann")
    }
    static SET: LazyLock<HashSet<&'static str>> =
        LazyLock::new(|| STOPWORDS.iter().copied().collect());
    SET.contains(word.trim_end_matches('.').to_lowercase().as_str())
}

fn is_particle(word: &str) -> bool {
    matches!(
        word,
        "van"
            | "von"
            | "de"
            | "der"
            | "den"
            | "ten"
            | "ter"
            | "da"
            | "di"
            | "del"
            | "du"
            | "la"
            | "le"
            | "bin"
            | "ibn"
    )
}

fn is_initial(word: &str) -> bool {
    word.trim_end_matches('.').chars().count() == 1
}

/// Splits a trailing `'s` off ("Franciska's kid").
fn strip_possessive(word: &str) -> (&str, bool) {
    match word.strip_suffix("'s").or_else(|| word.strip_suffix("’s")) {
        Some(stem) if !stem.is_empty() => (stem, true),
        _ => (word, false),
    }
}

/// At the start of the text, a line or a sentence, where every word is capitalised.
fn sentence_initial(text: &str, start: usize) -> bool {
    let before = text
        .get(..start)
        .unwrap_or("")
        .trim_end_matches([' ', '\t', '"', '\'', '(']);
    before.is_empty()
        || matches!(
            char_before(before, before.len()),
            Some('.' | '!' | '?' | '\n' | ':' | '>')
        )
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn people_with(names: NameLists, text: &str) -> Vec<&str> {
        let d = PersonDetector::new(names);
        let mut spans = found(text, |t, out| d.detect(t, out));
        spans.sort();
        spans.dedup();
        spans
    }

    fn people(text: &str) -> Vec<&str> {
        let lists = NameLists::from_lists(
            ["Magnus", "Anna", "Melanie", "Matthew"],
            ["Poulsen", "Vargas", "Smith"],
        );
        people_with(lists, text)
    }

    #[test]
    fn cue_rules_work_without_lists() {
        let none = NameLists::empty;
        assert_eq!(people_with(none(), "My name is Rubija"), vec!["Rubija"]);
        assert_eq!(
            people_with(none(), "sometimes people call me višeslav"),
            vec!["višeslav"]
        );
        assert_eq!(
            people_with(none(), "Hello, this is Dr. Garðar Matthíasson. Who"),
            vec!["Garðar Matthíasson"]
        );
        assert_eq!(
            people_with(none(), "Hi Manlio, I'm contacting you"),
            vec!["Manlio"]
        );
        assert_eq!(
            people_with(none(), "What's your name? Sölvi Salómonsson"),
            vec!["Sölvi Salómonsson"]
        );
        assert_eq!(
            people_with(none(), "Name:    Nayla Montero\nAddress: x"),
            vec!["Nayla Montero"]
        );
        assert_eq!(
            people_with(none(), "change it to Soib K. Kishiev"),
            vec!["Soib K. Kishiev"]
        );
    }

    #[test]
    fn listed_names_and_speakers() {
        assert_eq!(people("Magnus spent a year"), vec!["Magnus"]);
        assert_eq!(
            people("assistant to Magnus Poulsen, and"),
            vec!["Magnus Poulsen"]
        );
        assert_eq!(
            people("Sumarliðason and Vargas were"),
            vec!["Sumarliðason", "Vargas"]
        );
        assert_eq!(people("Melanie: You saved my life!"), vec!["Melanie"]);
        assert_eq!(
            people(">Matthew Abramov\n>Suite 377"),
            vec!["Matthew Abramov"]
        );
    }

    #[test]
    fn not_names() {
        assert!(
            people("Capitalized words like Wisdom and Discipline are often mistaken").is_empty()
        );
        assert!(people("I'm happy to help. This is great").is_empty());
        assert!(people("Vargas is a surname").is_empty());
        assert!(people("ANNA SMITH SHOUTED").is_empty());
    }
}
