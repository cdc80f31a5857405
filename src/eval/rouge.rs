//! ROUGE-1, ROUGE-2 and ROUGE-L (Lin 2004) F1 between a candidate and a reference summary.
//!
//! Tokens: maximal runs of alphanumeric characters, lower-cased (so `#Person1#` is `person1`);
//! no stemming and no stop-word removal. ROUGE-N counts clipped n-gram overlaps; ROUGE-L uses the
//! longest common subsequence of the two token sequences (sentence-level, not the summary-level
//! union LCS of the original script). F1 is the plain harmonic mean (beta = 1).

use std::collections::HashMap;

use serde::Serialize;

/// Precision, recall and F1 of one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn from_counts(overlap: usize, candidate: usize, reference: usize) -> Self {
        let precision = if candidate == 0 {
            0.0
        } else {
            overlap as f64 / candidate as f64
        };
        let recall = if reference == 0 {
            0.0
        } else {
            overlap as f64 / reference as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            precision,
            recall,
            f1,
        }
    }
}

/// ROUGE-1, -2 and -L of one candidate against one reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rouge {
    pub rouge1: Prf,
    pub rouge2: Prf,
    pub rouge_l: Prf,
}

/// Lower-cased alphanumeric tokens.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// ROUGE-N on token sequences.
pub fn rouge_n(candidate: &[String], reference: &[String], n: usize) -> Prf {
    let c = ngram_counts(candidate, n);
    let r = ngram_counts(reference, n);
    let overlap: usize = c
        .iter()
        .map(|(g, &k)| k.min(r.get(g).copied().unwrap_or(0)))
        .sum();
    Prf::from_counts(overlap, c.values().sum(), r.values().sum())
}

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts: HashMap<&[String], usize> = HashMap::new();
    if n > 0 && tokens.len() >= n {
        for w in tokens.windows(n) {
            *counts.entry(w).or_default() += 1;
        }
    }
    counts
}

/// ROUGE-L on token sequences (LCS in O(len(c) * len(r)) time, O(len(r)) memory).
pub fn rouge_l(candidate: &[String], reference: &[String]) -> Prf {
    let mut prev = vec![0usize; reference.len() + 1];
    let mut cur = vec![0usize; reference.len() + 1];
    for c in candidate {
        for (j, r) in reference.iter().enumerate() {
            cur[j + 1] = if c == r {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let lcs = prev[reference.len()];
    Prf::from_counts(lcs, candidate.len(), reference.len())
}

/// All three scores of `candidate` against `reference`.
pub fn rouge(candidate: &str, reference: &str) -> Rouge {
    let c = tokenize(candidate);
    let r = tokenize(reference);
    Rouge {
        rouge1: rouge_n(&c, &r, 1),
        rouge2: rouge_n(&c, &r, 2),
        rouge_l: rouge_l(&c, &r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let s = rouge("the cat sat on the mat", "the cat is on the mat");
        // unigrams: the x2, cat, on, mat overlap = 5 of 6 each way
        assert!((s.rouge1.f1 - 5.0 / 6.0).abs() < 1e-9);
        // bigrams: "the cat", "on the", "the mat" = 3 of 5
        assert!((s.rouge2.f1 - 3.0 / 5.0).abs() < 1e-9);
        // LCS: the cat on the mat = 5
        assert!((s.rouge_l.f1 - 5.0 / 6.0).abs() < 1e-9);
        assert_eq!(rouge("", "x").rouge1.f1, 0.0);
        assert_eq!(tokenize("#Person1# asks"), vec!["person1", "asks"]);
    }
}
