//! `eval spam`: the spam detector on the SMS Spam Collection (TSV `Label<TAB>SMS`, header line,
//! labels `ham`/`spam`). Stratified 80/20 split, seed 0: the ham rows and then the spam rows (in
//! file order) are shuffled with one SplitMix64 seeded 0 and the first 80 % of each are the
//! training part. Reports precision, recall and F1 of the spam class for the heuristics alone,
//! the detector trained on the training part, and the same with the text's embedding.
//! `JAMBO_EVAL_SPAM_CONFIG` may hold a JSON `SpamConfig` for experiments.

use std::path::Path;
use std::time::Instant;

use super::EvalError;
use super::classify::f1;
use super::embed_cache::{EmbeddingCache, SplitMix64};
use crate::config::Config;
use crate::triage::learn::spam::{SpamConfig, SpamDetector, SpamExample, SpamInput};

pub const SPLIT_SEED: u64 = 0;

/// Figures of one variant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SpamReport {
    pub variant: String,
    pub train_messages: usize,
    pub test_messages: usize,
    pub test_spam: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
    pub train_seconds: f64,
}

fn read(data: &Path) -> Result<Vec<(String, bool)>, EvalError> {
    let path = if data.is_dir() {
        data.join("SMSSpamCollection")
    } else {
        data.to_owned()
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| EvalError::Data(format!("{}: {err}", path.display())))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || (i == 0 && line.starts_with("Label")) {
            continue;
        }
        let (label, sms) = line.split_once('\t').ok_or_else(|| {
            EvalError::Data(format!(
                "{} line {}: expected `label<TAB>sms`",
                path.display(),
                i + 1
            ))
        })?;
        let is_spam = match label {
            "spam" => true,
            "ham" => false,
            other => {
                return Err(EvalError::Data(format!(
                    "{} line {}: label {other:?} is not ham or spam",
                    path.display(),
                    i + 1
                )));
            }
        };
        rows.push((sms.to_owned(), is_spam));
    }
    Ok(rows)
}

/// (train, test) row indices of the stratified split.
pub fn split(rows: &[(String, bool)], train_share: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in [false, true] {
        let mut members: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].1 == class).collect();
        rng.shuffle(&mut members);
        let cut = (members.len() as f64 * train_share).round() as usize;
        train.extend_from_slice(&members[..cut]);
        test.extend_from_slice(&members[cut..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

pub fn evaluate(config: &Config, data: &Path) -> Result<Vec<SpamReport>, EvalError> {
    let rows = read(data)?;
    let (train, test) = split(&rows, 0.8, SPLIT_SEED);
    let spam_config: SpamConfig = match std::env::var("JAMBO_EVAL_SPAM_CONFIG") {
        Ok(json) => serde_json::from_str(&json)
            .map_err(|err| EvalError::Data(format!("JAMBO_EVAL_SPAM_CONFIG: {err}")))?,
        Err(_) => SpamConfig::default(),
    };
    let mut cache = EmbeddingCache::open(config)?;
    let texts: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    let vectors = cache.embed(&texts)?;

    let mut reports = Vec::new();
    for variant in ["heuristics only", "trained", "trained + embedding"] {
        let with_embedding = variant.ends_with("embedding");
        let started = Instant::now();
        let detector = if variant == "heuristics only" {
            SpamDetector::new(spam_config)
        } else {
            let examples: Vec<SpamExample<'_>> = train
                .iter()
                .map(|&i| SpamExample {
                    text: &rows[i].0,
                    is_spam: rows[i].1,
                    embedding: with_embedding.then_some(vectors[i].as_slice()),
                })
                .collect();
            SpamDetector::train(&examples, spam_config)
        };
        let train_seconds = started.elapsed().as_secs_f64();
        let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
        for &i in &test {
            let verdict = detector.check(&SpamInput {
                text: &rows[i].0,
                embedding: with_embedding.then_some(vectors[i].as_slice()),
                ..SpamInput::default()
            });
            match (verdict.is_spam, rows[i].1) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                (false, false) => tn += 1,
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        reports.push(SpamReport {
            variant: variant.to_owned(),
            train_messages: if variant == "heuristics only" {
                0
            } else {
                train.len()
            },
            test_messages: test.len(),
            test_spam: tp + fn_,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            f1: f1(tp, fp, fn_),
            accuracy: ratio(tp + tn, test.len()),
            train_seconds,
        });
    }
    Ok(reports)
}

pub fn table(reports: &[SpamReport]) -> String {
    let mut out = String::from(
        "variant                 train   test  spam  precision  recall     F1  accuracy  train s\n",
    );
    for r in reports {
        out.push_str(&format!(
            "{:<22} {:>6} {:>6} {:>5}  {:>9.3}  {:>6.3}  {:.3}  {:>7.2}%  {:>7.1}\n",
            r.variant,
            r.train_messages,
            r.test_messages,
            r.test_spam,
            r.precision,
            r.recall,
            r.f1,
            100.0 * r.accuracy,
            r.train_seconds
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_and_deterministic() {
        let rows: Vec<(String, bool)> = (0..100).map(|i| (format!("m{i}"), i % 5 == 0)).collect();
        let (train, test) = split(&rows, 0.8, 0);
        assert_eq!(train.len(), 80);
        assert_eq!(test.len(), 20);
        assert_eq!(test.iter().filter(|&&i| rows[i].1).count(), 4);
        assert_eq!((train, test), split(&rows, 0.8, 0));
    }
}
