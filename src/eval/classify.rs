//! `eval classify`: the category classifier on Banking77 (`train.csv`, `test.csv`), configured
//! as a tenant would: 10 examples per category (a deterministic sample, seed 0) and the full
//! training set. Reports accuracy, macro-F1 and expected calibration error on the test split.
//!
//! Each category is configured with its name (in words: "card arrival") and its examples; the
//! name is one more training text (see `CategoryModel::train`).
//!
//! Sampling: all training rows in file order are shuffled once (Fisher-Yates on SplitMix64
//! seeded with 0) and the first `k` rows of each category in that order are kept.
//! `JAMBO_EVAL_CLASSIFY_CONFIG` may hold a JSON `CategoryConfig` (missing fields default) and
//! `JAMBO_EVAL_SHOTS` the comma-separated runs (default `10,full`), for experiments;
//! `JAMBO_EVAL_DEV=1` scores on training rows instead of the test split (the rows not sampled,
//! or every 10th row held out of the full set), for choosing settings without the test split.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use super::EvalError;
use super::embed_cache::{EmbeddingCache, SplitMix64};
use crate::config::Config;
use crate::triage::learn::classify::{CategoryConfig, CategoryModel, Example, humanize};

/// The seed of the k-per-category sample.
pub const SAMPLE_SEED: u64 = 0;

/// Figures of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub run: String,
    pub train_examples: usize,
    pub test_examples: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Expected calibration error, 15 equal-width confidence bins.
    pub ece: f64,
    pub mean_confidence: f64,
    pub temperature: f32,
    /// Share of test texts the model sends to a human, and the accuracy on the rest.
    pub needs_human_rate: f64,
    pub accuracy_when_confident: f64,
    pub train_seconds: f64,
    pub predict_ms_per_text: f64,
}

/// Reads a CSV file with a header (RFC 4180 quoting, by the `csv` crate) into rows of fields.
pub fn read_csv(path: &Path) -> Result<Vec<Vec<String>>, EvalError> {
    Ok(read_csv_table(path)?.1)
}

/// A CSV file's header row and records (the one CSV reader of the evaluations).
pub fn read_csv_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), EvalError> {
    let data_error =
        |err: &dyn std::fmt::Display| EvalError::Data(format!("{}: {err}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|err| data_error(&err))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|err| data_error(&err))?
        .iter()
        .map(str::to_owned)
        .collect();
    if headers.is_empty() {
        return Err(data_error(&"empty"));
    }
    let records = reader
        .records()
        .map(|record| {
            let record = record.map_err(|err| data_error(&err))?;
            Ok(record.iter().map(str::to_owned).collect())
        })
        .collect::<Result<_, EvalError>>()?;
    Ok((headers, records))
}

fn read_split(dir: &Path, name: &str) -> Result<Vec<(String, String)>, EvalError> {
    let path = dir.join(name);
    read_csv(&path)?
        .into_iter()
        .enumerate()
        .map(|(i, mut row)| {
            if row.len() != 2 {
                return Err(EvalError::Data(format!(
                    "{} row {}: expected `text,category`",
                    path.display(),
                    i + 2
                )));
            }
            let label = row.pop().unwrap_or_default();
            let text = row.pop().unwrap_or_default();
            Ok((text, label))
        })
        .collect()
}

/// The first `k` rows of each label after one seeded shuffle; `None` keeps every row.
pub fn sample_per_label(rows: &[(String, String)], k: Option<usize>, seed: u64) -> Vec<usize> {
    let Some(k) = k else {
        return (0..rows.len()).collect();
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let mut taken: HashMap<&str, usize> = HashMap::new();
    let mut chosen: Vec<usize> = order
        .into_iter()
        .filter(|&i| {
            let n = taken.entry(rows[i].1.as_str()).or_default();
            *n += 1;
            *n <= k
        })
        .collect();
    chosen.sort_unstable();
    chosen
}

/// Runs the evaluation on the Banking77 folder `data`.
pub fn evaluate(config: &Config, data: &Path) -> Result<Vec<RunReport>, EvalError> {
    let dir = if data.is_dir() {
        data.to_owned()
    } else {
        data.parent().unwrap_or(Path::new(".")).to_owned()
    };
    let train = read_split(&dir, "train.csv")?;
    let test = read_split(&dir, "test.csv")?;
    let model_config: CategoryConfig = match std::env::var("JAMBO_EVAL_CLASSIFY_CONFIG") {
        Ok(json) => serde_json::from_str(&json)
            .map_err(|err| EvalError::Data(format!("JAMBO_EVAL_CLASSIFY_CONFIG: {err}")))?,
        Err(_) => CategoryConfig::default(),
    };
    let shots = std::env::var("JAMBO_EVAL_SHOTS").unwrap_or_else(|_| "10,full".to_owned());
    let dev_mode = std::env::var_os("JAMBO_EVAL_DEV").is_some();

    let mut cache = EmbeddingCache::open(config)?;
    let train_texts: Vec<&str> = train.iter().map(|(t, _)| t.as_str()).collect();
    let test_texts: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
    // Each category as a tenant would configure it: its name, and its examples.
    let mut labels: Vec<&str> = train.iter().map(|(_, l)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let names: Vec<String> = labels.iter().map(|l| humanize(l)).collect();
    let all: Vec<&str> = train_texts
        .iter()
        .chain(&test_texts)
        .copied()
        .chain(names.iter().map(String::as_str))
        .collect();
    let vectors = cache.embed(&all)?;
    let (train_vectors, rest) = vectors.split_at(train.len());
    let (test_vectors, name_vectors) = rest.split_at(test.len());
    let descriptions: Vec<Example<'_>> = labels
        .iter()
        .zip(&names)
        .zip(name_vectors)
        .map(|((label, name), v)| Example {
            label,
            text: name,
            embedding: v,
        })
        .collect();

    let mut reports = Vec::new();
    for run in shots.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let k = match run {
            "full" => None,
            n => Some(n.parse::<usize>().map_err(|_| {
                EvalError::Data(format!("JAMBO_EVAL_SHOTS: {n:?} is not a number or `full`"))
            })?),
        };
        let mut chosen = sample_per_label(&train, k, SAMPLE_SEED);
        // Tuning mode: score on training rows left out (every 10th row for the full set), so
        // the test split is not used to choose settings.
        let dev: Option<Vec<usize>> = dev_mode.then(|| match k {
            Some(_) => {
                let taken: std::collections::HashSet<usize> = chosen.iter().copied().collect();
                (0..train.len()).filter(|i| !taken.contains(i)).collect()
            }
            None => {
                chosen.retain(|i| i % 10 != 0);
                (0..train.len()).filter(|i| i % 10 == 0).collect()
            }
        });
        let (test, test_vectors): (Vec<(String, String)>, Vec<Vec<f32>>) = match &dev {
            Some(rows) => (
                rows.iter().map(|&i| train[i].clone()).collect(),
                rows.iter().map(|&i| train_vectors[i].clone()).collect(),
            ),
            None => (test.clone(), test_vectors.to_vec()),
        };
        let examples: Vec<Example<'_>> = chosen
            .iter()
            .map(|&i| Example {
                label: &train[i].1,
                text: &train[i].0,
                embedding: &train_vectors[i],
            })
            .collect();
        let started = Instant::now();
        let model = CategoryModel::train(&examples, &descriptions, &model_config)
            .map_err(|err| EvalError::Failed(err.to_string()))?;
        let train_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let predictions: Vec<_> = test
            .iter()
            .zip(&test_vectors)
            .map(|((text, _), v)| model.predict(text, v))
            .collect();
        let predict_ms = started.elapsed().as_secs_f64() * 1000.0 / test.len().max(1) as f64;
        let truth: Vec<&str> = test.iter().map(|(_, l)| l.as_str()).collect();
        let predicted: Vec<&str> = predictions.iter().map(|p| p.label.as_str()).collect();
        let confidences: Vec<f64> = predictions
            .iter()
            .map(|p| f64::from(p.confidence))
            .collect();
        let correct: Vec<bool> = truth.iter().zip(&predicted).map(|(a, b)| a == b).collect();
        let confident: Vec<bool> = predictions
            .iter()
            .map(|p| p.needs_human.is_none())
            .collect();
        let n_confident = confident.iter().filter(|&&c| c).count();
        let right_confident = correct
            .iter()
            .zip(&confident)
            .filter(|(r, c)| **r && **c)
            .count();
        reports.push(RunReport {
            run: match (k, dev_mode) {
                (Some(k), false) => format!("{k} per category (seed {SAMPLE_SEED})"),
                (None, false) => "full training set".to_owned(),
                (Some(k), true) => format!("DEV {k} per category"),
                (None, true) => "DEV 90% of train".to_owned(),
            },
            train_examples: examples.len(),
            test_examples: test.len(),
            accuracy: mean_bool(&correct),
            macro_f1: macro_f1(&truth, &predicted),
            ece: expected_calibration_error(&confidences, &correct, 15),
            mean_confidence: confidences.iter().sum::<f64>() / confidences.len().max(1) as f64,
            temperature: model.temperature(),
            needs_human_rate: 1.0 - n_confident as f64 / test.len().max(1) as f64,
            accuracy_when_confident: right_confident as f64 / n_confident.max(1) as f64,
            train_seconds,
            predict_ms_per_text: predict_ms,
        });
        eprintln!("{}", table(&reports[reports.len() - 1..]));
    }
    Ok(reports)
}

fn mean_bool(values: &[bool]) -> f64 {
    values.iter().filter(|&&v| v).count() as f64 / values.len().max(1) as f64
}

/// Unweighted mean over the true labels of each label's F1.
pub fn macro_f1(truth: &[&str], predicted: &[&str]) -> f64 {
    // label -> (true positives, false positives, false negatives)
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for &label in truth {
        counts.entry(label).or_default();
    }
    for (&t, &p) in truth.iter().zip(predicted) {
        if t == p {
            counts.entry(t).or_default().0 += 1;
        } else {
            counts.entry(p).or_default().1 += 1;
            counts.entry(t).or_default().2 += 1;
        }
    }
    let labels: std::collections::BTreeSet<&str> = truth.iter().copied().collect();
    let total: f64 = labels
        .iter()
        .map(|label| {
            let (tp, fp, fn_) = counts[label];
            f1(tp, fp, fn_)
        })
        .sum();
    total / labels.len().max(1) as f64
}

/// F1 from true positives, false positives and false negatives (0 when undefined).
pub fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    let denominator = 2 * tp + fp + fn_;
    if denominator == 0 {
        0.0
    } else {
        2.0 * tp as f64 / denominator as f64
    }
}

/// ECE: the confidence-weighted gap between accuracy and confidence, over `bins` equal bins.
pub fn expected_calibration_error(confidence: &[f64], correct: &[bool], bins: usize) -> f64 {
    let bins = bins.max(1);
    let mut sum_conf = vec![0f64; bins];
    let mut sum_correct = vec![0f64; bins];
    let mut count = vec![0usize; bins];
    for (&c, &ok) in confidence.iter().zip(correct) {
        let b = ((c * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        sum_conf[b] += c;
        sum_correct[b] += f64::from(u8::from(ok));
        count[b] += 1;
    }
    let n = confidence.len().max(1) as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (sum_conf[b] - sum_correct[b]).abs() / n)
        .sum()
}

/// The human-readable table of the runs.
pub fn table(reports: &[RunReport]) -> String {
    let mut out = String::from(
        "run                            train   test  accuracy  macro-F1    ECE   conf   temp  human  acc|conf  train s  ms/text\n",
    );
    for r in reports {
        out.push_str(&format!(
            "{:<30} {:>5} {:>6}  {:>7.2}%  {:>7.2}%  {:.3}  {:.3}  {:>5.2}  {:>4.1}%  {:>7.2}%  {:>7.1}  {:>7.3}\n",
            r.run,
            r.train_examples,
            r.test_examples,
            100.0 * r.accuracy,
            100.0 * r.macro_f1,
            r.ece,
            r.mean_confidence,
            r.temperature,
            100.0 * r.needs_human_rate,
            100.0 * r.accuracy_when_confident,
            r.train_seconds,
            r.predict_ms_per_text,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_on_a_small_case() {
        let truth = ["a", "a", "b", "b"];
        let predicted = ["a", "b", "b", "b"];
        // a: tp 1 fn 1 -> 2/3; b: tp 2 fp 1 -> 4/5
        assert!((macro_f1(&truth, &predicted) - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
        assert_eq!(f1(0, 0, 0), 0.0);
        let ece = expected_calibration_error(&[0.9, 0.9, 0.6, 0.6], &[true, false, true, true], 10);
        // bin 0.9: conf 1.8 vs 1 right -> 0.8; bin 0.6: 1.2 vs 2 -> 0.8; over 4 -> 0.4
        assert!((ece - 0.4).abs() < 1e-12);
    }

    #[test]
    fn sample_is_deterministic_and_per_label() {
        let rows: Vec<(String, String)> = (0..40)
            .map(|i| (format!("t{i}"), format!("l{}", i % 4)))
            .collect();
        let a = sample_per_label(&rows, Some(3), 0);
        assert_eq!(a, sample_per_label(&rows, Some(3), 0));
        assert_eq!(a.len(), 12);
        assert_ne!(a, sample_per_label(&rows, Some(3), 1));
        assert_eq!(sample_per_label(&rows, None, 0).len(), 40);
    }

    #[test]
    fn csv_quotes_and_commas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "text,category\n\"a, \"\"b\"\"\",c1\nplain,c2\n").unwrap();
        let rows = read_csv(&path).unwrap();
        assert_eq!(rows, vec![vec!["a, \"b\"", "c1"], vec!["plain", "c2"]]);
    }
}
