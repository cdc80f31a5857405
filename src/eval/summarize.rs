//! `eval summarize`: ROUGE of the triage summary on DialogSum (`dialogsum.test.jsonl`: a
//! dialogue and three reference summaries each; the dev file's single `summary` works too),
//! next to the lead-2 baseline (the first two turns).
//!
//! Each dialogue is fed to [`crate::triage::summarize`] with its `#PersonN#:` speaker tags
//! removed and one paragraph per turn; the lead-2 baseline gets the same tag-free turns. Scores
//! are macro-averaged F1, against the first reference and against the best of the references
//! (per dialogue and per metric).

use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use super::rouge::{Rouge, rouge};

/// One DialogSum record.
#[derive(Debug, Deserialize)]
pub struct Dialogue {
    pub dialogue: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub summary1: Option<String>,
    #[serde(default)]
    pub summary2: Option<String>,
    #[serde(default)]
    pub summary3: Option<String>,
}

impl Dialogue {
    fn references(&self) -> Vec<&str> {
        [
            &self.summary1,
            &self.summary,
            &self.summary2,
            &self.summary3,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .collect()
    }

    /// The turns without their `#PersonN#:` tags.
    fn turns(&self) -> Vec<String> {
        self.dialogue
            .lines()
            .map(|line| {
                let line = line.trim();
                match line
                    .strip_prefix('#')
                    .and_then(|rest| rest.split_once("#:"))
                {
                    Some((_, text)) => text.trim().to_string(),
                    None => line.to_string(),
                }
            })
            .filter(|t| !t.is_empty())
            .collect()
    }
}

/// Mean F1 of ROUGE-1, -2 and -L.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct MeanF1 {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
}

impl MeanF1 {
    fn add(&mut self, r: &Rouge) {
        self.rouge1 += r.rouge1.f1;
        self.rouge2 += r.rouge2.f1;
        self.rouge_l += r.rouge_l.f1;
    }

    fn add_max(&mut self, scores: &[Rouge]) {
        let max = |f: fn(&Rouge) -> f64| scores.iter().map(f).fold(0.0, f64::max);
        self.rouge1 += max(|r| r.rouge1.f1);
        self.rouge2 += max(|r| r.rouge2.f1);
        self.rouge_l += max(|r| r.rouge_l.f1);
    }

    fn divide(self, n: usize) -> Self {
        let n = n.max(1) as f64;
        Self {
            rouge1: self.rouge1 / n,
            rouge2: self.rouge2 / n,
            rouge_l: self.rouge_l / n,
        }
    }
}

/// Scores of one system.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SystemScores {
    pub first_reference: MeanF1,
    pub best_reference: MeanF1,
    /// Mean summary length in tokens.
    pub mean_tokens: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SummarizeReport {
    pub dialogues: usize,
    pub references_per_dialogue: f64,
    pub ours: SystemScores,
    pub lead2: SystemScores,
    /// Wall time of our summariser over all dialogues, in milliseconds.
    pub ours_ms: f64,
}

/// Reads a DialogSum JSONL file (or a folder holding `dialogsum.test.jsonl`).
pub fn load(path: &Path) -> Result<Vec<Dialogue>, String> {
    let path = if path.is_dir() {
        path.join("dialogsum.test.jsonl")
    } else {
        path.to_owned()
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// Scores our summaries and lead-2 on `data`.
pub fn evaluate(data: &[Dialogue]) -> SummarizeReport {
    let mut ours = (MeanF1::default(), MeanF1::default(), 0usize);
    let mut lead = (MeanF1::default(), MeanF1::default(), 0usize);
    let mut n = 0;
    let mut refs = 0;
    let mut elapsed = 0.0;
    for d in data {
        let references = d.references();
        if references.is_empty() {
            continue;
        }
        n += 1;
        refs += references.len();
        let turns = d.turns();
        let started = Instant::now();
        let summary = crate::triage::summarize(&turns.join("\n\n"), None);
        elapsed += started.elapsed().as_secs_f64();
        let lead2 = turns.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        for (system, text) in [(&mut ours, summary), (&mut lead, lead2)] {
            let scores: Vec<Rouge> = references.iter().map(|r| rouge(&text, r)).collect();
            system.0.add(&scores[0]);
            system.1.add_max(&scores);
            system.2 += super::rouge::tokenize(&text).len();
        }
    }
    let finish = |s: (MeanF1, MeanF1, usize)| SystemScores {
        first_reference: s.0.divide(n),
        best_reference: s.1.divide(n),
        mean_tokens: s.2 as f64 / n.max(1) as f64,
    };
    SummarizeReport {
        dialogues: n,
        references_per_dialogue: refs as f64 / n.max(1) as f64,
        ours: finish(ours),
        lead2: finish(lead),
        ours_ms: elapsed * 1000.0,
    }
}

impl std::fmt::Display for SummarizeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "summarize: {} dialogues, {:.1} references each; ROUGE F1 (lower-cased alphanumeric tokens, no stemming)",
            self.dialogues, self.references_per_dialogue
        )?;
        writeln!(
            f,
            "| system | reference | ROUGE-1 | ROUGE-2 | ROUGE-L | mean tokens |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for (name, s) in [
            ("ours (extractive, 1 line)", &self.ours),
            ("lead-2 (first two turns)", &self.lead2),
        ] {
            for (which, m) in [
                ("first", &s.first_reference),
                ("best of all", &s.best_reference),
            ] {
                writeln!(
                    f,
                    "| {name} | {which} | {:.3} | {:.3} | {:.3} | {:.1} |",
                    m.rouge1, m.rouge2, m.rouge_l, s.mean_tokens
                )?;
            }
        }
        write!(
            f,
            "our summariser: {:.2} ms per dialogue",
            self.ours_ms / self.dialogues.max(1) as f64
        )
    }
}
