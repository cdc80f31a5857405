//! Accuracy metrics on a labelled PII data set in presidio-research's format (issue 4):
//! (a) "any PII" token level: a whitespace token is PII when it overlaps a targeted gold span,
//!     predicted when it overlaps a predicted span; tokens in non-targeted gold spans count
//!     neither way; (b) per entity type, span level, a match being the same type at IoU >= 0.9.
//!
//! Gold offsets are Unicode code points; they are converted to byte offsets here.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::Redactor;
use super::entity::{Entity, EntityType};

/// Minimum intersection over union (in code points) for a span-level match.
pub const IOU_THRESHOLD: f64 = 0.9;

/// One labelled document.
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    pub full_text: String,
    pub spans: Vec<GoldSpan>,
}

/// A gold span; positions are code-point offsets, end exclusive.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldSpan {
    pub entity_type: String,
    pub start_position: usize,
    pub end_position: usize,
}

/// How a gold label is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoldRole {
    /// Targeted, and which of our types it corresponds to.
    Target(EntityType),
    /// Not targeted (ORGANIZATION, GPE, DATE_TIME, ...): predictions inside it are not scored.
    Ignored,
}

/// Maps presidio-research labels to ours; every other label is not targeted.
pub fn gold_role(label: &str) -> GoldRole {
    match label {
        "PERSON" => GoldRole::Target(EntityType::Person),
        "STREET_ADDRESS" => GoldRole::Target(EntityType::StreetAddress),
        "CREDIT_CARD" => GoldRole::Target(EntityType::CreditCard),
        "IBAN_CODE" => GoldRole::Target(EntityType::Iban),
        "US_SSN" | "US_DRIVER_LICENSE" => GoldRole::Target(EntityType::NationalId),
        "PHONE_NUMBER" => GoldRole::Target(EntityType::Phone),
        "EMAIL_ADDRESS" => GoldRole::Target(EntityType::Email),
        "IP_ADDRESS" => GoldRole::Target(EntityType::IpAddress),
        _ => GoldRole::Ignored,
    }
}

/// True positive, false positive and false negative counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// F-beta with beta = 2 (recall weighted four times precision).
    pub fn f2(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            5.0 * p * r / (4.0 * p + r)
        }
    }
}

/// The evaluation result.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub documents: usize,
    pub any_pii_tokens: Counts,
    pub per_type: BTreeMap<EntityType, Counts>,
}

/// A gold span resolved to byte offsets.
struct Gold {
    role: GoldRole,
    start: usize,
    end: usize,
}

/// Runs the redactor on every sample and scores it.
pub fn evaluate(redactor: &Redactor, samples: &[Sample]) -> Report {
    let predictions: Vec<Vec<Entity>> = samples
        .iter()
        .map(|s| redactor.detect(&s.full_text))
        .collect();
    score(samples, &predictions)
}

/// Scores predictions made elsewhere (one list per sample, byte offsets into its text), with
/// the same rules as [`evaluate`].
pub fn score(samples: &[Sample], predictions: &[Vec<Entity>]) -> Report {
    let mut report = Report {
        documents: samples.len(),
        ..Report::default()
    };
    let none = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        let text = sample.full_text.as_str();
        let gold = gold_spans(sample);
        let predicted = predictions.get(i).unwrap_or(&none);
        score_tokens(text, &gold, predicted, &mut report.any_pii_tokens);
        score_spans(text, &gold, predicted, &mut report.per_type);
    }
    report
}

/// Another system's predictions for one sample, as `eval redact --predictions FILE` reads them:
/// a JSON array with one object per sample, in the data set's order,
/// `{"entities": [{"type": "PERSON", "start": 0, "end": 5}]}` with code-point offsets (as in the
/// data set) and contract type names; entities of other types are dropped.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalPrediction {
    pub entities: Vec<ExternalEntity>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExternalEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub start: usize,
    pub end: usize,
    #[serde(default)]
    pub score: f32,
}

/// Converts external predictions to entities with byte offsets into each sample's text.
pub fn external_entities(
    samples: &[Sample],
    predictions: &[ExternalPrediction],
) -> Vec<Vec<Entity>> {
    samples
        .iter()
        .zip(predictions)
        .map(|(sample, prediction)| {
            let byte_at = byte_offsets(&sample.full_text);
            prediction
                .entities
                .iter()
                .filter_map(|e| {
                    Some(Entity {
                        kind: EntityType::from_name(&e.kind)?,
                        start: byte_at(e.start),
                        end: byte_at(e.end),
                        score: e.score,
                    })
                })
                .filter(|e| e.start < e.end)
                .collect()
        })
        .collect()
}

/// Code point index to byte offset in `text` (past the end: the text's length).
fn byte_offsets(text: &str) -> impl Fn(usize) -> usize + '_ {
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    move |cp: usize| offsets.get(cp).copied().unwrap_or(text.len())
}

fn gold_spans(sample: &Sample) -> Vec<Gold> {
    let byte_at = byte_offsets(&sample.full_text);
    sample
        .spans
        .iter()
        .map(|s| Gold {
            role: gold_role(&s.entity_type),
            start: byte_at(s.start_position),
            end: byte_at(s.end_position),
        })
        .collect()
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn score_tokens(text: &str, gold: &[Gold], predicted: &[Entity], counts: &mut Counts) {
    for token in whitespace_tokens(text) {
        let is_pii = gold
            .iter()
            .any(|g| matches!(g.role, GoldRole::Target(_)) && overlaps(token, (g.start, g.end)));
        let ignored = gold
            .iter()
            .any(|g| g.role == GoldRole::Ignored && overlaps(token, (g.start, g.end)));
        let flagged = predicted.iter().any(|p| overlaps(token, (p.start, p.end)));
        match (is_pii, flagged) {
            (true, true) => counts.tp += 1,
            (true, false) => counts.fn_ += 1,
            (false, true) if !ignored => counts.fp += 1,
            (false, _) => {}
        }
    }
}

fn whitespace_tokens(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    text.split_whitespace().map(move |t| {
        let start = t.as_ptr() as usize - text.as_ptr() as usize;
        (start, start + t.len())
    })
}

fn score_spans(
    text: &str,
    gold: &[Gold],
    predicted: &[Entity],
    per_type: &mut BTreeMap<EntityType, Counts>,
) {
    let chars = |a: usize, b: usize| text.get(a..b).map_or(0, |s| s.chars().count());
    let iou = |a: (usize, usize), b: (usize, usize)| {
        let inter = if overlaps(a, b) {
            chars(a.0.max(b.0), a.1.min(b.1))
        } else {
            0
        };
        let union = chars(a.0.min(b.0), a.1.max(b.1));
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    };
    let mut matched = vec![false; predicted.len()];
    for g in gold {
        let GoldRole::Target(kind) = g.role else {
            continue;
        };
        let counts = per_type.entry(kind).or_default();
        let hit = predicted.iter().enumerate().find(|(i, p)| {
            !matched[*i]
                && p.kind == kind
                && iou((g.start, g.end), (p.start, p.end)) >= IOU_THRESHOLD
        });
        match hit {
            Some((i, _)) => {
                matched[i] = true;
                counts.tp += 1;
            }
            None => counts.fn_ += 1,
        }
    }
    for (p, _) in predicted.iter().zip(&matched).filter(|(_, m)| !**m) {
        let inside_ignored = gold
            .iter()
            .any(|g| g.role == GoldRole::Ignored && g.start <= p.start && p.end <= g.end);
        if !inside_ignored {
            per_type.entry(p.kind).or_default().fp += 1;
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, name: &str, c: &Counts| {
            writeln!(
                f,
                "| {name:<16} | {:>5} | {:>5} | {:>5} | {:>9.3} | {:>6.3} | {:>5.3} |",
                c.tp,
                c.fp,
                c.fn_,
                c.precision(),
                c.recall(),
                c.f2()
            )
        };
        writeln!(f, "documents: {}", self.documents)?;
        writeln!(
            f,
            "| scope            |    tp |    fp |    fn | precision | recall |    f2 |"
        )?;
        writeln!(
            f,
            "|------------------|-------|-------|-------|-----------|--------|-------|"
        )?;
        row(f, "any PII (tokens)", &self.any_pii_tokens)?;
        for (kind, counts) in &self.per_type {
            row(f, kind.name(), counts)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::RedactorConfig;
    use super::*;

    fn sample(text: &str, spans: &[(&str, usize, usize)]) -> Sample {
        Sample {
            full_text: text.into(),
            spans: spans
                .iter()
                .map(|&(t, s, e)| GoldSpan {
                    entity_type: t.into(),
                    start_position: s,
                    end_position: e,
                })
                .collect(),
        }
    }

    #[test]
    fn code_point_offsets_and_ignored_types() {
        let redactor = Redactor::new(RedactorConfig::default());
        // "é" is two bytes: the e-mail starts at code point 6 but byte 7
        let s = sample(
            "Café: jo@example.com in Paris",
            &[("EMAIL_ADDRESS", 6, 20), ("GPE", 24, 29)],
        );
        let report = evaluate(&redactor, &[s]);
        assert_eq!(
            report.any_pii_tokens,
            Counts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            report.per_type.get(&EntityType::Email),
            Some(&Counts {
                tp: 1,
                fp: 0,
                fn_: 0
            })
        );
    }

    #[test]
    fn f2_weights_recall() {
        let c = Counts {
            tp: 8,
            fp: 8,
            fn_: 2,
        };
        assert!((c.precision() - 0.5).abs() < 1e-9);
        assert!((c.recall() - 0.8).abs() < 1e-9);
        assert!((c.f2() - 5.0 * 0.4 / (2.0 + 0.8)).abs() < 1e-9);
    }
}
