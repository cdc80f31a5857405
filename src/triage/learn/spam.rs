//! Spam and bot-form detection.
//!
//! [`SpamDetector`] adds up hand-weighted heuristic signals into a prior logit, each signal that
//! fires reported as a reason:
//! - link density (link farms), known spam offers (a phrase list),
//! - gibberish and keyboard mashing (rows of the keyboard, unpronounceable words),
//! - identical or random-looking form fields (bots fill every field with the same string),
//! - disposable e-mail domains (a curated list, `disposable_domains.txt`).
//!
//! A detector trained on a tenant's own examples ([`SpamDetector::train`]) adds a learned part:
//! logistic regression on TF-IDF word 1-2-grams and character 3-5-grams (and the text's
//! embedding when the examples have one), fitted *on top of* the heuristic prior (the prior is
//! a fixed offset of the logit), so signals the examples never show keep their hand weight and
//! the model learns what the tenant's spam looks like. With spam examples only, texts that are
//! near-copies of one of them are flagged. Nothing is trained from any data set at run time.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::classify::unit;
use super::lexical::{self, LexicalConfig, LexicalVectorizer};
use super::linear::{self, Features, FitConfig, LinearModel};

/// What is checked: the message text, the sender's e-mail and the form fields (name, value).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpamInput<'a> {
    pub text: &'a str,
    pub email: Option<&'a str>,
    pub fields: &'a [(&'a str, &'a str)],
    /// The text's embedding, used when the detector was trained with embeddings.
    pub embedding: Option<&'a [f32]>,
}

/// The verdict: `score` is the probability-like spam score, `reasons` every signal that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpamVerdict {
    pub is_spam: bool,
    pub score: f32,
    pub reasons: Vec<String>,
}

/// One training example of a tenant.
#[derive(Debug, Clone, Copy)]
pub struct SpamExample<'a> {
    pub text: &'a str,
    pub is_spam: bool,
    pub embedding: Option<&'a [f32]>,
}

/// Settings of the detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpamConfig {
    /// `is_spam` when the score is at least this.
    pub threshold: f32,
    pub lexical: LexicalConfig,
    pub fit: FitConfig,
    /// Weight of the embedding block when examples have embeddings (0 leaves it out).
    pub embedding_weight: f32,
    /// Cosine similarity (character n-grams) above which a text is a near-copy of a spam example.
    pub near_copy: f32,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            threshold: 0.5,
            lexical: LexicalConfig::default(),
            fit: FitConfig {
                l2: 1e-4,
                ..FitConfig::default()
            },
            embedding_weight: 1.0,
            near_copy: 0.9,
        }
    }
}

/// Heuristic signals plus, when trained, the tenant's learned model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpamDetector {
    config: SpamConfig,
    learned: Option<Learned>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Learned {
    lexical: LexicalVectorizer,
    /// Two classes (ham, spam); `None` when the examples had only one class.
    model: Option<LinearModel>,
    dense_dim: usize,
    /// Lexical vectors of the spam examples, for near-copies.
    spam_vectors: Vec<Vec<(u32, f32)>>,
}

/// Logit of the prior when no signal fires (about 5 %).
const PRIOR_BIAS: f32 = -3.0;

impl Default for SpamDetector {
    fn default() -> Self {
        SpamDetector::new(SpamConfig::default())
    }
}

impl SpamDetector {
    /// Heuristics only.
    pub fn new(config: SpamConfig) -> SpamDetector {
        SpamDetector {
            config,
            learned: None,
        }
    }

    /// Heuristics plus a model learned from the tenant's examples.
    pub fn train(examples: &[SpamExample<'_>], config: SpamConfig) -> SpamDetector {
        if examples.is_empty() {
            return SpamDetector::new(config);
        }
        let texts: Vec<&str> = examples.iter().map(|e| e.text).collect();
        let lexical = LexicalVectorizer::fit(&texts, config.lexical);
        let dense_dim = match examples[0].embedding {
            Some(e)
                if config.embedding_weight > 0.0
                    && examples
                        .iter()
                        .all(|x| x.embedding.map(<[f32]>::len) == Some(e.len())) =>
            {
                e.len()
            }
            _ => 0,
        };
        let features: Vec<Features> = examples
            .iter()
            .map(|e| features(&lexical, &config, dense_dim, e.text, e.embedding))
            .collect();
        let has_spam = examples.iter().any(|e| e.is_spam);
        let has_ham = examples.iter().any(|e| !e.is_spam);
        let model = (has_spam && has_ham).then(|| {
            let ys: Vec<usize> = examples.iter().map(|e| usize::from(e.is_spam)).collect();
            let offsets: Vec<Vec<f32>> = examples
                .iter()
                .map(|e| {
                    let prior = signals(&SpamInput {
                        text: e.text,
                        ..SpamInput::default()
                    })
                    .logit();
                    vec![0.0, prior]
                })
                .collect();
            LinearModel::fit(
                &features,
                &ys,
                2,
                dense_dim,
                lexical.dimension(),
                Some(&offsets),
                &config.fit,
            )
        });
        let spam_vectors = examples
            .iter()
            .zip(&features)
            .filter(|(e, _)| e.is_spam)
            .map(|(_, f)| f.sparse.clone())
            .collect();
        SpamDetector {
            config,
            learned: Some(Learned {
                lexical,
                model,
                dense_dim,
                spam_vectors,
            }),
        }
    }

    pub fn config(&self) -> &SpamConfig {
        &self.config
    }

    /// Checks one input. Never panics, whatever the input.
    pub fn check(&self, input: &SpamInput<'_>) -> SpamVerdict {
        let signals = signals(input);
        let mut reasons = signals.reasons.clone();
        let prior = signals.logit();
        let mut score = sigmoid(prior);
        if let Some(learned) = &self.learned {
            let x = features(
                &learned.lexical,
                &self.config,
                learned.dense_dim,
                input.text,
                input.embedding,
            );
            if let Some(model) = &learned.model {
                let z = model.logits(&x);
                let p = linear::probabilities(&[z[0], z[1] + prior], 1.0)[1];
                if p >= self.config.threshold && score < self.config.threshold {
                    reasons.push(format!(
                        "like the tenant's spam examples (learned score {p:.2})"
                    ));
                }
                score = p;
            }
            let nearest = learned
                .spam_vectors
                .iter()
                .map(|v| sparse_dot(v, &x.sparse) / self.config.lexical_norm())
                .fold(0f32, f32::max);
            if nearest >= self.config.near_copy && !x.sparse.is_empty() {
                reasons.push(format!(
                    "near-copy of one of the tenant's spam examples (similarity {nearest:.2})"
                ));
                score = score.max(0.95);
            }
        }
        let score = if score.is_finite() { score } else { 0.0 };
        SpamVerdict {
            is_spam: score >= self.config.threshold,
            score,
            reasons,
        }
    }
}

impl SpamConfig {
    /// The squared norm of a full lexical vector (both blocks present).
    fn lexical_norm(&self) -> f32 {
        (self.lexical.word_weight.powi(2) + self.lexical.char_weight.powi(2)).max(1e-6)
    }
}

fn features(
    lexical: &LexicalVectorizer,
    config: &SpamConfig,
    dense_dim: usize,
    text: &str,
    embedding: Option<&[f32]>,
) -> Features {
    let dense = match embedding {
        Some(e) if dense_dim > 0 && e.len() == dense_dim => unit(e)
            .into_iter()
            .map(|v| v * config.embedding_weight)
            .collect(),
        _ => vec![0.0; dense_dim],
    };
    Features {
        dense,
        sparse: lexical.transform(text),
    }
}

fn sparse_dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// The heuristic signals that fired: their summed weight and their reasons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    pub weight: f32,
    pub reasons: Vec<String>,
}

impl Signals {
    fn add(&mut self, weight: f32, reason: String) {
        self.weight += weight;
        self.reasons.push(reason);
    }

    /// The prior logit of spam.
    pub fn logit(&self) -> f32 {
        PRIOR_BIAS + self.weight
    }
}

/// Characters of the text the heuristics read (bounded cost on huge input).
const MAX_CHARS: usize = 20_000;

static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:https?://|www\.)[^\s<>]+|\b[a-z0-9-]{2,}\.(?:com|net|org|info|biz|ru|cn|xyz|top|online|site|club|shop|store|io|co|uk|de|pw|tk|ml|ga|cf|gq|ly|me|us)\b(?:/[^\s<>]*)?",
    )
    .expect("link pattern")
});

static OFFERS: LazyLock<Regex> = LazyLock::new(|| {
    let phrases = [
        r"viagra",
        r"cialis",
        r"casino",
        r"porn\w*",
        r"xxx",
        r"escort service",
        r"crypto(?:currency)? (?:invest\w*|trading|profits?)",
        r"bitcoin (?:invest\w*|profits?|trading)",
        r"forex",
        r"binary options",
        r"seo (?:services?|expert|agency|packages?)",
        r"search engine optimi[sz]ation",
        r"backlinks?",
        r"link building",
        r"guest posts?",
        r"first page (?:of|on) google",
        r"rank(?:ing)? (?:your (?:site|website)|on google)",
        r"(?:more|targeted|website) traffic",
        r"payday loans?",
        r"no credit check",
        r"weight loss",
        r"diet pills?",
        r"work from home",
        r"make money (?:online|fast|from home)",
        r"earn (?:\$|£|€)?\d[\d,]*",
        r"get rich",
        r"you(?:'ve| have)? (?:been )?(?:won|selected)",
        r"claim (?:your )?(?:prize|reward|gift|cash)",
        r"(?:cash|guaranteed) prize",
        r"free (?:gift|prize|iphone|entry|ringtones?|tones?)",
        r"prize draw",
        r"lottery",
        r"congratulations",
        r"act now",
        r"limited time offer",
        r"100% free",
        r"risk[- ]free",
        r"hot singles",
        r"dating (?:site|service)",
        r"adult (?:content|dating|videos?)",
        r"click (?:here|below|the link)",
        r"(?:txt|text|reply) stop",
        r"to opt out",
        r"unsubscribe",
        r"inheritance",
        r"next of kin",
        r"wire transfer",
        r"investment opportunity",
        r"double your (?:money|income|investment)",
        r"buy (?:instagram |tiktok |youtube )?followers",
        r"email (?:list|database)",
        r"(?:b2b|leads) database",
        r"rolex",
        r"replica watches",
    ];
    Regex::new(&format!(r"(?i)(?:^|\W)({})(?:\W|$)", phrases.join("|"))).expect("offer pattern")
});

/// Runs every heuristic on `input`.
pub fn signals(input: &SpamInput<'_>) -> Signals {
    let text = cut_chars(input.text, MAX_CHARS);
    let mut s = Signals::default();

    // links
    let links = LINK.find_iter(text).count();
    let words = text.split_whitespace().count().max(1);
    if links >= 3 || (links >= 2 && links * 4 >= words) {
        s.add(3.5, format!("link farm: {links} links in {words} words"));
    } else if links == 2 {
        s.add(1.0, "2 links".to_owned());
    }

    // known offers
    let offers: HashSet<String> = OFFERS
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_lowercase()))
        .collect();
    if !offers.is_empty() {
        let mut found: Vec<&str> = offers.iter().map(String::as_str).collect();
        found.sort_unstable();
        let weight = match found.len() {
            1 => 1.5,
            2 => 2.5,
            _ => 3.5,
        };
        s.add(weight, format!("known spam offers: {}", found.join(", ")));
    }

    // gibberish and keyboard mashing in the text
    let (mashed, total) = mashing(text);
    if mashed > 0 && (mashed * 2 >= total || mashed >= 3) {
        s.add(
            3.5,
            format!("gibberish or keyboard mashing ({mashed} of {total} words)"),
        );
    }

    // form fields: identical values, random or mashed values
    let mut values: Vec<(&str, String)> = input
        .fields
        .iter()
        .map(|(k, v)| (*k, cut_chars(v.trim(), 1000).to_lowercase()))
        .filter(|(_, v)| v.chars().count() >= 2)
        .collect();
    values.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
    let same: Vec<&str> = values
        .windows(2)
        .filter(|w| w[0].1 == w[1].1)
        .flat_map(|w| [w[0].0, w[1].0])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if same.len() >= 2 {
        s.add(2.5, format!("identical form fields: {}", same.join(", ")));
    }
    let odd: Vec<&str> = input
        .fields
        .iter()
        .filter(|(_, v)| {
            let v = cut_chars(v.trim(), 1000);
            looks_random(v) || {
                let (m, t) = mashing(v);
                m > 0 && m * 2 >= t
            }
        })
        .map(|(k, _)| *k)
        .collect();
    if !odd.is_empty() {
        s.add(
            2.5,
            format!("random or mashed form fields: {}", odd.join(", ")),
        );
    }

    // disposable e-mail
    if let Some(domain) = input.email.and_then(email_domain)
        && let Some(listed) = disposable(&domain)
    {
        s.add(3.2, format!("disposable e-mail domain {listed}"));
    }
    s
}

fn cut_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// (mashed words, words with letters) of a text.
fn mashing(text: &str) -> (usize, usize) {
    let words = lexical::words(text);
    let mut mashed = 0;
    let mut total = 0;
    for word in &words {
        if !word.iter().any(|c| c.is_alphabetic()) {
            continue;
        }
        total += 1;
        if is_mashed(word) {
            mashed += 1;
        }
    }
    (mashed, total)
}

/// Keyboard runs of four keys (rows, both directions) that natural words almost never contain.
const KEYBOARD_RUNS: &[&str] = &[
    "qwer", "rtyu", "tyui", "yuio", "uiop", "poiu", "oiuy", "iuyt", "uytr", "asdf", "sdfg", "dfgh",
    "fghj", "ghjk", "hjkl", "lkjh", "kjhg", "jhgf", "hgfd", "gfds", "fdsa", "zxcv", "xcvb", "cvbn",
    "vbnm", "mnbv", "nbvc", "bvcx", "vcxz",
];

/// A lower-case word that looks typed at random: a keyboard run, six consonants in a row, a
/// long word without vowels, or one key held down. Only ASCII words are judged.
fn is_mashed(word: &[char]) -> bool {
    if word.len() < 4 || !word.iter().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let s: String = word.iter().collect();
    if KEYBOARD_RUNS.iter().any(|run| s.contains(run)) {
        return true;
    }
    let is_vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut run = 0;
    let mut longest = 0;
    for &c in word {
        run = if is_vowel(c) { 0 } else { run + 1 };
        longest = longest.max(run);
    }
    let vowels = word.iter().filter(|&&c| is_vowel(c)).count();
    let held = word.windows(4).any(|w| w.iter().all(|&c| c == w[0]));
    longest >= 6 || (word.len() >= 6 && vowels == 0) || held
}

/// A field value that is one long token of letters with case flipping inside it, as bots
/// generate ("xKjQpLzWm"), or of letters and digits alternating ("a8f9k2l3x").
fn looks_random(value: &str) -> bool {
    if value.contains(char::is_whitespace) || value.contains('@') {
        return false;
    }
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 8 || !chars.iter().all(char::is_ascii_alphanumeric) {
        return false;
    }
    let flips = chars
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count();
    let alternations = chars
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    flips >= 3 || alternations >= 4
}

fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

static DISPOSABLE: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("disposable_domains.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// The listed disposable domain `domain` is or is a subdomain of.
fn disposable(domain: &str) -> Option<&'static str> {
    let mut rest = domain;
    loop {
        if let Some(&listed) = DISPOSABLE.get(rest) {
            return Some(listed);
        }
        rest = rest.split_once('.')?.1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn mashing_is_told_from_words() {
        for word in ["asdfgh", "qwerty", "jjjjjj", "xkcdwq", "bcdfghk"] {
            assert!(is_mashed(&w(word)), "{word}");
        }
        for word in [
            "strengths",
            "property",
            "hello",
            "rhythm",
            "ärger",
            "wert",
            "lengths",
        ] {
            assert!(!is_mashed(&w(word)), "{word}");
        }
    }

    #[test]
    fn random_values_are_told_from_names() {
        assert!(looks_random("xKjQpLzWmB"));
        assert!(looks_random("a8f9k2l3x"));
        assert!(!looks_random("McDonald"));
        assert!(!looks_random("Jane Doe"));
        assert!(!looks_random("jane@example.com"));
    }

    #[test]
    fn disposable_domains_match_subdomains() {
        assert_eq!(disposable("mailinator.com"), Some("mailinator.com"));
        assert_eq!(disposable("x.mailinator.com"), Some("mailinator.com"));
        assert_eq!(disposable("gmail.com"), None);
        assert_eq!(email_domain("A@Yopmail.COM"), Some("yopmail.com".into()));
        assert_eq!(email_domain("no-at-sign"), None);
    }

    #[test]
    fn sparse_dot_merges_sorted_indices() {
        assert_eq!(
            sparse_dot(&[(1, 2.0), (3, 1.0)], &[(0, 5.0), (3, 4.0)]),
            4.0
        );
        assert_eq!(sparse_dot(&[], &[(0, 1.0)]), 0.0);
    }

    #[test]
    fn trained_detector_learns_and_keeps_the_heuristics() {
        let mut examples = Vec::new();
        let spam = [
            "WIN a free holiday, call now",
            "Free holiday winner, call 0800 now",
            "You have been chosen for a free holiday",
        ];
        let ham = [
            "Can we move our meeting to Tuesday?",
            "Please send the invoice for March",
            "Is the Tuesday meeting still on?",
        ];
        for t in spam {
            examples.push(SpamExample {
                text: t,
                is_spam: true,
                embedding: None,
            });
        }
        for t in ham {
            examples.push(SpamExample {
                text: t,
                is_spam: false,
                embedding: None,
            });
        }
        let detector = SpamDetector::train(&examples, SpamConfig::default());
        let check = |text| {
            detector.check(&SpamInput {
                text,
                ..SpamInput::default()
            })
        };
        assert!(check("free holiday, call now").score > check("the meeting on Tuesday").score);
        let email = SpamInput {
            text: "hello",
            email: Some("bot@mailinator.com"),
            ..SpamInput::default()
        };
        assert!(detector.check(&email).reasons[0].contains("disposable"));
        let json = serde_json::to_string(&detector).unwrap();
        let back: SpamDetector = serde_json::from_str(&json).unwrap();
        assert_eq!(back, detector);
    }
}
