//! The Cranfield 1400 collection in its classic SMART files (`cran.all.1400`, `cran.qry`,
//! `cranqrel`) and the ranking metrics reported on it (nDCG@k with graded gains, Recall@k).
//!
//! Query numbers in `cranqrel` are the 1-based positions of the queries in `cran.qry` (whose own
//! `.I` numbers skip values), as in every published use of the collection.

use std::collections::HashMap;
use std::path::Path;

use super::EvalError;

/// One document of the collection.
#[derive(Debug, Clone)]
pub struct Doc {
    pub id: u32,
    pub title: String,
    pub text: String,
}

/// The loaded collection.
#[derive(Debug, Clone)]
pub struct Cranfield {
    pub docs: Vec<Doc>,
    /// (query number, text), numbered 1..=225 by position.
    pub queries: Vec<(u32, String)>,
    /// query number -> doc id -> grade as in the file (1 = complete answer … 4 = minimum
    /// interest, -1 = no interest).
    pub qrels: HashMap<u32, HashMap<u32, i32>>,
}

impl Cranfield {
    pub fn load(dir: &Path) -> Result<Cranfield, EvalError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map_err(|err| EvalError::Data(format!("{}: {err}", path.display())))
        };
        let docs = parse_smart(&read("cran.all.1400")?)
            .into_iter()
            .map(|(id, fields)| Doc {
                id,
                title: fields.get(&'T').cloned().unwrap_or_default(),
                text: fields.get(&'W').cloned().unwrap_or_default(),
            })
            .collect::<Vec<_>>();
        let queries = parse_smart(&read("cran.qry")?)
            .into_iter()
            .enumerate()
            .map(|(position, (_, fields))| {
                (
                    position as u32 + 1,
                    fields.get(&'W').cloned().unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>();
        let mut qrels: HashMap<u32, HashMap<u32, i32>> = HashMap::new();
        for (number, line) in read("cranqrel")?.lines().enumerate() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.is_empty() {
                continue;
            }
            let parsed = (parts.len() == 3)
                .then(|| {
                    Some((
                        parts[0].parse().ok()?,
                        parts[1].parse().ok()?,
                        parts[2].parse().ok()?,
                    ))
                })
                .flatten();
            let Some((query, doc, grade)) = parsed else {
                return Err(EvalError::Data(format!(
                    "cranqrel line {}: expected `query doc grade`",
                    number + 1
                )));
            };
            qrels.entry(query).or_default().insert(doc, grade);
        }
        if docs.len() != 1400 || queries.len() != 225 {
            return Err(EvalError::Data(format!(
                "expected 1400 documents and 225 queries, found {} and {}",
                docs.len(),
                queries.len()
            )));
        }
        Ok(Cranfield {
            docs,
            queries,
            qrels,
        })
    }
}

/// Parses SMART records: `.I id` starts a record, `.X` lines start a field, other lines continue
/// the current field.
fn parse_smart(text: &str) -> Vec<(u32, HashMap<char, String>)> {
    let mut records: Vec<(u32, HashMap<char, String>)> = Vec::new();
    let mut field = None;
    for line in text.lines() {
        if let Some(id) = line.strip_prefix(".I") {
            records.push((id.trim().parse().unwrap_or(0), HashMap::new()));
            field = None;
            continue;
        }
        let mut chars = line.chars();
        if line.len() == 2 && chars.next() == Some('.') {
            field = chars.next();
            continue;
        }
        if let (Some((_, fields)), Some(key)) = (records.last_mut(), field) {
            let value = fields.entry(key).or_default();
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(line.trim());
        }
    }
    records
}

/// How a grade of `cranqrel` becomes a gain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gains {
    /// The grade as written (negative = 0), as trec_eval and pytrec_eval read the file.
    AsWritten,
    /// Cleverdon's scale inverted (1 = complete answer gets 4, 4 gets 1), as the readme defines it.
    Cleverdon,
}

fn gain(grade: i32, gains: Gains) -> f64 {
    match gains {
        Gains::AsWritten => f64::from(grade.max(0)),
        Gains::Cleverdon if (1..=4).contains(&grade) => f64::from(5 - grade),
        Gains::Cleverdon => 0.0,
    }
}

/// nDCG@k with linear gains and a log2 discount.
pub fn ndcg_at(k: usize, ranked: &[u32], judged: &HashMap<u32, i32>, gains: Gains) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, doc)| {
            gain(judged.get(doc).copied().unwrap_or(0), gains) / (rank as f64 + 2.0).log2()
        })
        .sum();
    let mut ideal: Vec<f64> = judged
        .values()
        .map(|g| gain(*g, gains))
        .filter(|g| *g > 0.0)
        .collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, g)| g / (rank as f64 + 2.0).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the relevant documents (gain > 0) found in the top k.
pub fn recall_at(k: usize, ranked: &[u32], judged: &HashMap<u32, i32>, gains: Gains) -> f64 {
    let relevant: Vec<u32> = judged
        .iter()
        .filter(|(_, g)| gain(**g, gains) > 0.0)
        .map(|(d, _)| *d)
        .collect();
    if relevant.is_empty() {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|d| relevant.contains(d))
        .count();
    found as f64 / relevant.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_empty_rankings() {
        let judged: HashMap<u32, i32> = [(1, 3), (2, 2), (3, -1)].into_iter().collect();
        assert!((ndcg_at(10, &[1, 2], &judged, Gains::AsWritten) - 1.0).abs() < 1e-9);
        assert!(ndcg_at(10, &[2, 1], &judged, Gains::AsWritten) < 1.0);
        assert_eq!(ndcg_at(10, &[9], &judged, Gains::AsWritten), 0.0);
        assert_eq!(recall_at(1, &[1, 2], &judged, Gains::AsWritten), 0.5);
        // Under Cleverdon's scale grade 2 outranks grade 3.
        assert!((ndcg_at(10, &[2, 1], &judged, Gains::Cleverdon) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn parses_smart_records() {
        let records =
            parse_smart(".I 1\n.T\nflow\nover wings\n.W\nan abstract\n.I 2\n.W\nsecond\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].1[&'T'], "flow over wings");
        assert_eq!(records[1].1[&'W'], "second");
    }
}
