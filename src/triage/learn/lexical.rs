//! Sparse lexical features of a text: TF-IDF of word 1-2-grams and of character 3-5-grams taken
//! inside words (scikit-learn's `char_wb`), each block L2-normalised and weighted.
//!
//! Terms are identified by a stable 64-bit FNV-1a hash of their characters (word and character
//! terms hashed apart), so a fitted vocabulary serialises as numbers and means the same thing in
//! every build. Text is lower-cased and every digit becomes `0`, so "£1500" and "£2000" share
//! their shapes. Only the first [`MAX_CHARS`] characters of a text are read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Characters of a text that are looked at; the rest is ignored (bounded cost for huge input).
pub const MAX_CHARS: usize = 5000;

/// Which terms and how much each block weighs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LexicalConfig {
    /// Weight (L2 norm) of the word n-gram block; 0 leaves it out.
    pub word_weight: f32,
    /// Weight of the character n-gram block; 0 leaves it out.
    pub char_weight: f32,
    /// Longest word n-gram (1 = unigrams only).
    pub max_word_ngram: usize,
    /// Shortest and longest character n-gram.
    pub min_char_ngram: usize,
    pub max_char_ngram: usize,
    /// Terms in fewer training texts than this are dropped.
    pub min_df: u32,
    /// At most this many terms are kept (the most frequent in documents).
    pub max_features: usize,
}

impl Default for LexicalConfig {
    fn default() -> Self {
        LexicalConfig {
            word_weight: 1.0,
            char_weight: 1.0,
            max_word_ngram: 2,
            min_char_ngram: 3,
            max_char_ngram: 5,
            min_df: 1,
            max_features: 60_000,
        }
    }
}

/// A fitted vocabulary with inverse document frequencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexicalVectorizer {
    config: LexicalConfig,
    /// term hash -> (feature index, is a word term)
    vocab: HashMap<u64, (u32, bool)>,
    idf: Vec<f32>,
}

impl LexicalVectorizer {
    /// Learns the vocabulary and IDF (smooth: `ln((1 + n) / (1 + df)) + 1`) from `texts`.
    pub fn fit<S: AsRef<str>>(texts: &[S], config: LexicalConfig) -> LexicalVectorizer {
        let mut df: HashMap<u64, (u32, bool)> = HashMap::new();
        let mut seen: HashMap<u64, bool> = HashMap::new();
        for text in texts {
            seen.clear();
            terms(text.as_ref(), &config, |hash, is_word| {
                seen.insert(hash, is_word);
            });
            for (&hash, &is_word) in &seen {
                df.entry(hash).or_insert((0, is_word)).0 += 1;
            }
        }
        let mut kept: Vec<(u64, u32, bool)> = df
            .into_iter()
            .filter(|(_, (count, _))| *count >= config.min_df.max(1))
            .map(|(hash, (count, is_word))| (hash, count, is_word))
            .collect();
        // most frequent first, ties by hash: deterministic whatever the map's order
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        kept.truncate(config.max_features);
        kept.sort_unstable_by_key(|&(hash, _, _)| hash);
        let n = texts.len() as f32;
        let mut vocab = HashMap::with_capacity(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        for (index, (hash, count, is_word)) in kept.into_iter().enumerate() {
            vocab.insert(hash, (index as u32, is_word));
            idf.push(((1.0 + n) / (1.0 + count as f32)).ln() + 1.0);
        }
        LexicalVectorizer { config, vocab, idf }
    }

    /// Number of features (the sparse dimension).
    pub fn dimension(&self) -> usize {
        self.idf.len()
    }

    /// The text's features, sorted by index: sublinear TF (`1 + ln tf`) times IDF, each block
    /// scaled to its weight. Terms outside the vocabulary are ignored.
    pub fn transform(&self, text: &str) -> Vec<(u32, f32)> {
        let mut counts: HashMap<u32, (f32, bool)> = HashMap::new();
        terms(text, &self.config, |hash, _| {
            if let Some(&(index, is_word)) = self.vocab.get(&hash) {
                counts.entry(index).or_insert((0.0, is_word)).0 += 1.0;
            }
        });
        let mut features: Vec<(u32, f32, bool)> = counts
            .into_iter()
            .map(|(index, (tf, is_word))| {
                (index, (1.0 + tf.ln()) * self.idf[index as usize], is_word)
            })
            .collect();
        features.sort_unstable_by_key(|f| f.0);
        let norm = |word: bool| {
            features
                .iter()
                .filter(|f| f.2 == word)
                .map(|f| f.1 * f.1)
                .sum::<f32>()
                .sqrt()
        };
        let (word_norm, char_norm) = (norm(true), norm(false));
        features
            .into_iter()
            .filter_map(|(index, value, is_word)| {
                let (weight, norm) = if is_word {
                    (self.config.word_weight, word_norm)
                } else {
                    (self.config.char_weight, char_norm)
                };
                (weight > 0.0 && norm > 0.0).then(|| (index, value * weight / norm))
            })
            .collect()
    }
}

/// The normalised words of a text: lower case, digits as `0`, split at anything that is not a
/// letter or digit.
pub fn words(text: &str) -> Vec<Vec<char>> {
    let mut words = Vec::new();
    let mut current = Vec::new();
    for ch in text.chars().take(MAX_CHARS) {
        if ch.is_alphanumeric() {
            if ch.is_numeric() {
                current.push('0');
            } else {
                current.extend(ch.to_lowercase());
            }
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Calls `emit(hash, is_word)` for every term occurrence of `text`.
fn terms(text: &str, config: &LexicalConfig, mut emit: impl FnMut(u64, bool)) {
    let words = words(text);
    if config.word_weight > 0.0 {
        for n in 1..=config.max_word_ngram.max(1) {
            for gram in words.windows(n) {
                let mut h = Fnv::new(b'w');
                for (i, word) in gram.iter().enumerate() {
                    if i > 0 {
                        h.char(' ');
                    }
                    word.iter().for_each(|&c| h.char(c));
                }
                emit(h.finish(), true);
            }
        }
    }
    if config.char_weight > 0.0 {
        let mut padded = Vec::new();
        for word in &words {
            padded.clear();
            padded.push(' ');
            padded.extend_from_slice(word);
            padded.push(' ');
            for n in config.min_char_ngram.max(1)..=config.max_char_ngram {
                if n > padded.len() {
                    break;
                }
                for gram in padded.windows(n) {
                    let mut h = Fnv::new(b'c');
                    gram.iter().for_each(|&c| h.char(c));
                    emit(h.finish(), false);
                }
            }
        }
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike std's hasher).
struct Fnv(u64);

impl Fnv {
    fn new(tag: u8) -> Fnv {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.byte(tag);
        h
    }
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        c.encode_utf8(&mut buf).bytes().for_each(|b| self.byte(b));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_with_digits_folded() {
        let w: Vec<String> = words("Call 0800-123 NOW, Ärger!")
            .into_iter()
            .map(|w| w.into_iter().collect())
            .collect();
        assert_eq!(w, vec!["call", "0000", "000", "now", "ärger"]);
    }

    #[test]
    fn blocks_are_unit_norm_times_weight() {
        let texts = [
            "free prize now",
            "meeting at noon",
            "free entry to win a prize",
        ];
        let v = LexicalVectorizer::fit(&texts, LexicalConfig::default());
        let f = v.transform("free prize");
        let total: f32 = f.iter().map(|(_, x)| x * x).sum();
        // two blocks of norm 1 each
        assert!((total - 2.0).abs() < 1e-4, "{total}");
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(v.transform("").is_empty());
        assert!(v.transform("zzzz qqqq").is_empty());
    }

    #[test]
    fn min_df_and_max_features_bound_the_vocabulary() {
        let texts = ["a b c", "a b", "a"];
        let config = LexicalConfig {
            char_weight: 0.0,
            max_word_ngram: 1,
            min_df: 2,
            ..LexicalConfig::default()
        };
        assert_eq!(LexicalVectorizer::fit(&texts, config).dimension(), 2);
        let config = LexicalConfig {
            max_features: 1,
            ..config
        };
        assert_eq!(LexicalVectorizer::fit(&texts, config).dimension(), 1);
    }
}
