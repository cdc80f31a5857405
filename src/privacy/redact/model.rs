//! The model tier: Rampart, a 6-layer BERT PII token classifier (CC-BY-4.0, National Design
//! Studio), run in-process on the process's one ONNX Runtime environment
//! (`knowledge::embed::onnx_runtime`), for the names and addresses the fast tier's cues miss.
//!
//! Pipeline: WordPiece tokens from the model's `tokenizer.json` (byte offsets into the text),
//! windows of at most [`ModelTierConfig::max_tokens`] tokens overlapping by
//! [`ModelTierConfig::stride`] (a token seen in two windows keeps the prediction of the window
//! where it is further from an edge), softmax per token, the label of a word is the label of its
//! first piece and the word covers all its pieces, then words of one contract type are merged into
//! spans (`B-` of a sub-type already in the span starts a new one). The label map is read from the
//! model's `config.json` (`id2label`), never hard-coded.
//!
//! Owns: turning text into model spans. Must not know: the fast tier (see `gate.rs` and
//! `Redactor::detect` for how the two are combined).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ort::session::Session;
use ort::value::Tensor;
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::models::{EmbedError, ModelCache, onnx_runtime};

use super::entity::EntityType;
use super::text::{ceil_boundary, floor_boundary};

/// How the model tier runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTierConfig {
    /// Folder with `model_q4.onnx`, `tokenizer.json` and `config.json` (the fetch script's
    /// `rampart/`).
    pub model_dir: PathBuf,
    /// `libonnxruntime.so`; only the first ONNX model loaded in the process decides which.
    pub onnxruntime_library: PathBuf,
    /// A word is an entity when the model gives it at least this probability of not being `O`.
    pub threshold: f32,
    /// Tokens per model window, `[CLS]` and `[SEP]` included (the model's limit is 512).
    pub max_tokens: usize,
    /// Tokens shared by consecutive windows of a long text.
    pub stride: usize,
    /// Windows per model run.
    pub batch_windows: usize,
    /// Sessions, so this many threads can run the model at once (one intra-op thread each).
    pub sessions: usize,
    /// Run the model only on the segments that can still hold an undetected name or address
    /// (see `gate.rs`). Off: on the whole text (for measuring what the gate costs in recall).
    pub gate: bool,
}

impl ModelTierConfig {
    /// Rampart from the model cache, when its files and ONNX Runtime are there; `None` otherwise
    /// (the redactor then runs the fast tier only).
    pub fn from_cache(cache: &ModelCache) -> Option<Self> {
        let files = cache.rampart().ok()?;
        let library = cache.onnxruntime_library().ok()?;
        files.dir.join("config.json").is_file().then_some(Self {
            model_dir: files.dir,
            onnxruntime_library: library,
            threshold: 0.5,
            max_tokens: 512,
            stride: 64,
            batch_windows: 8,
            sessions: 1,
            gate: true,
        })
    }
}

/// Why the model tier could not be loaded: a setup problem (run `scripts/fetch-models.sh`).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Runtime(#[from] EmbedError),
    #[error("{path}: {message}")]
    Files { path: PathBuf, message: String },
}

/// A model span before it meets the fast tier: byte offsets into the text given to `tag`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ModelSpan {
    pub kind: EntityType,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// What a label of the model means for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label {
    /// `None`: `O`, or a type the model tier does not report (the fast tier's validated
    /// detectors own e-mail, phone, card, IBAN and ID numbers).
    kind: Option<EntityType>,
    /// Index of the raw sub-type (GIVEN_NAME, SURNAME, CITY, ...) in `Labels::sub_types`.
    sub_type: usize,
    begin: bool,
}

#[derive(Debug, Clone)]
struct Labels {
    by_id: Vec<Label>,
    outside: usize,
}

/// The loaded tagger. `Send + Sync`; runs on the calling thread.
pub(super) struct ModelTagger {
    tokenizer: Tokenizer,
    sessions: Vec<Mutex<Session>>,
    next_session: AtomicUsize,
    labels: Labels,
    config: ModelTierConfig,
    /// Bytes and windows given to the model so far (for the gate's measurements).
    pub bytes_tagged: AtomicUsize,
    pub windows_run: AtomicUsize,
}

/// One token's prediction, with where it came from.
#[derive(Debug, Clone, Copy)]
struct TokenPrediction {
    start: usize,
    end: usize,
    continuation: bool,
    label: usize,
    probability: f32,
    outside_probability: f32,
    /// Distance to the nearest window edge: of two predictions of one token, the larger wins.
    margin: usize,
}

impl ModelTagger {
    pub fn load(config: ModelTierConfig) -> Result<Self, ModelError> {
        let files_error = |path: &Path, message: String| ModelError::Files {
            path: path.to_path_buf(),
            message,
        };
        let config_path = config.model_dir.join("config.json");
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|err| files_error(&config_path, err.to_string()))?;
        let labels = Labels::from_config(&config_text)
            .map_err(|message| files_error(&config_path, message))?;

        let tokenizer_path = config.model_dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|err| files_error(&tokenizer_path, err.to_string()))?;
        let max_tokens = config.max_tokens.clamp(16, 512);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                // must stay below the window's content length
                stride: config.stride.min(max_tokens / 2),
                direction: TruncationDirection::Right,
            }))
            .map_err(|err| files_error(&tokenizer_path, err.to_string()))?;
        tokenizer.with_padding(None);

        let environment = onnx_runtime::environment(&config.onnxruntime_library)?;
        let model_path = config.model_dir.join("model_q4.onnx");
        let sessions = (0..config.sessions.max(1))
            .map(|_| {
                onnx_runtime::session(
                    &environment,
                    &model_path,
                    1,
                    onnx_runtime::Allocation::PerRun,
                )
                .map(Mutex::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            tokenizer,
            sessions,
            next_session: AtomicUsize::new(0),
            labels,
            config,
            bytes_tagged: AtomicUsize::new(0),
            windows_run: AtomicUsize::new(0),
        })
    }

    pub fn config(&self) -> &ModelTierConfig {
        &self.config
    }

    /// Model spans in each of `ranges` of `text` (byte ranges on char boundaries), with offsets
    /// into `text`. Each range is tagged on its own (no context from outside it).
    pub fn tag(&self, text: &str, ranges: &[(usize, usize)]) -> Result<Vec<ModelSpan>, String> {
        let pieces: Vec<(usize, &str)> = ranges
            .iter()
            .filter_map(|&(start, end)| Some((start, text.get(start..end)?)))
            .filter(|(_, piece)| !piece.trim().is_empty())
            .collect();
        if pieces.is_empty() {
            return Ok(Vec::new());
        }
        // one at a time: encode_batch would hand a few short pieces to a thread pool
        let encodings = pieces
            .iter()
            .map(|(_, piece)| self.tokenizer.encode(*piece, true))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| format!("tokenization failed: {err}"))?;
        // every window of every piece: (piece index, window)
        let windows: Vec<(usize, &Encoding)> = encodings
            .iter()
            .enumerate()
            .flat_map(|(i, e)| {
                std::iter::once((i, e)).chain(e.get_overflowing().iter().map(move |o| (i, o)))
            })
            .filter(|(_, e)| !e.is_empty())
            .collect();
        self.bytes_tagged
            .fetch_add(pieces.iter().map(|(_, p)| p.len()).sum(), Ordering::Relaxed);
        self.windows_run.fetch_add(windows.len(), Ordering::Relaxed);

        let mut predictions: Vec<BTreeMap<usize, TokenPrediction>> =
            vec![BTreeMap::new(); pieces.len()];
        let mut session = self.session();
        for batch in windows.chunks(self.config.batch_windows.max(1)) {
            let logits = run(&mut session, batch.iter().map(|(_, e)| *e))?;
            for ((piece, window), rows) in batch.iter().zip(logits) {
                for p in self.window_predictions(window, &rows) {
                    let slot = predictions[*piece].entry(p.start).or_insert(p);
                    if p.margin > slot.margin {
                        *slot = p;
                    }
                }
            }
        }
        drop(session);

        let mut spans = Vec::new();
        for ((offset, piece), tokens) in pieces.iter().zip(predictions) {
            let tokens: Vec<TokenPrediction> = tokens.into_values().collect();
            for span in self.spans(piece, &tokens) {
                spans.push(ModelSpan {
                    start: span.start + offset,
                    end: span.end + offset,
                    ..span
                });
            }
        }
        Ok(spans)
    }

    /// A free session if there is one, else the next one in turn.
    fn session(&self) -> MutexGuard<'_, Session> {
        for session in &self.sessions {
            if let Ok(guard) = session.try_lock() {
                return guard;
            }
        }
        let i = self.next_session.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
        self.sessions[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Softmax and argmax per content token of one window.
    fn window_predictions(&self, window: &Encoding, rows: &[Vec<f32>]) -> Vec<TokenPrediction> {
        let specials = window.get_special_tokens_mask();
        let content = specials.iter().filter(|&&s| s == 0).count();
        let mut out = Vec::with_capacity(content);
        let mut position = 0;
        for (t, row) in rows.iter().enumerate() {
            if specials.get(t).copied().unwrap_or(1) != 0 {
                continue;
            }
            let (Some(&(start, end)), Some(token)) =
                (window.get_offsets().get(t), window.get_tokens().get(t))
            else {
                continue;
            };
            let probabilities = softmax(row);
            let outside = self.labels.outside;
            let outside_probability = probabilities.get(outside).copied().unwrap_or(1.0);
            let (label, probability) = probabilities
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != outside)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or((outside, 0.0), |(i, &p)| (i, p));
            out.push(TokenPrediction {
                start,
                end,
                continuation: token.starts_with("##"),
                label,
                probability,
                outside_probability,
                margin: position.min(content - 1 - position),
            });
            position += 1;
        }
        out
    }

    /// Words from tokens, then spans from words (offsets into `piece`).
    fn spans(&self, piece: &str, tokens: &[TokenPrediction]) -> Vec<ModelSpan> {
        // (start, end, label id or None, score)
        let mut words: Vec<(usize, usize, Option<Label>, f32)> = Vec::new();
        for token in tokens {
            match words.last_mut() {
                Some(word) if token.continuation && token.start <= word.1 + 1 => {
                    word.1 = word.1.max(token.end);
                }
                _ => {
                    let entity = 1.0 - token.outside_probability;
                    let label = self
                        .labels
                        .by_id
                        .get(token.label)
                        .copied()
                        .filter(|l| l.kind.is_some() && entity >= self.config.threshold);
                    words.push((token.start, token.end, label, token.probability));
                }
            }
        }

        let mut spans: Vec<ModelSpan> = Vec::new();
        let mut current: Option<(ModelSpan, Vec<usize>, usize)> = None; // span, sub-types, words
        for (start, end, label, score) in words {
            let Some(label) = label else {
                if let Some((span, _, n)) = current.take() {
                    spans.push(finish(span, n));
                }
                continue;
            };
            let kind = label.kind.unwrap_or(EntityType::Person);
            if let Some((span, sub_types, n)) = current.as_mut() {
                let gap = piece.get(span.end..start).unwrap_or("x");
                let restarts = label.begin && sub_types.contains(&label.sub_type);
                if span.kind == kind && joinable(kind, gap) && !restarts {
                    span.end = end;
                    span.score += score;
                    sub_types.push(label.sub_type);
                    *n += 1;
                    continue;
                }
            }
            if let Some((span, _, n)) = current.take() {
                spans.push(finish(span, n));
            }
            let span = ModelSpan {
                kind,
                start,
                end,
                score,
            };
            current = Some((span, vec![label.sub_type], 1));
        }
        if let Some((span, _, n)) = current.take() {
            spans.push(finish(span, n));
        }
        spans
            .into_iter()
            .map(|s| ModelSpan {
                start: floor_boundary(piece, s.start),
                end: ceil_boundary(piece, s.end),
                ..s
            })
            .filter(|s| s.start < s.end)
            .collect()
    }
}

/// The mean word score.
fn finish(span: ModelSpan, words: usize) -> ModelSpan {
    ModelSpan {
        score: span.score / words.max(1) as f32,
        ..span
    }
}

/// Whether two words of one type with `gap` between them are one entity: names across spaces,
/// hyphens, apostrophes and initials' dots; addresses also across commas and line breaks.
fn joinable(kind: EntityType, gap: &str) -> bool {
    if gap.len() > 4 {
        return false;
    }
    gap.chars().all(|c| match kind {
        EntityType::StreetAddress => {
            matches!(c, ' ' | '\t' | '\n' | '\r' | ',' | '.' | '-' | '/' | '#')
        }
        _ => matches!(c, ' ' | '\t' | '-' | '\'' | '’' | '.'),
    }) && gap.matches('\n').count() <= 2
}

impl Labels {
    /// Reads `id2label` from the model's `config.json`.
    fn from_config(config: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Config {
            id2label: BTreeMap<String, String>,
        }
        let config: Config = serde_json::from_str(config).map_err(|err| err.to_string())?;
        let mut by_id = vec![
            Label {
                kind: None,
                sub_type: 0,
                begin: false,
            };
            config.id2label.len()
        ];
        let mut sub_types: Vec<String> = Vec::new();
        let mut outside = None;
        for (id, name) in &config.id2label {
            let id: usize = id.parse().map_err(|_| format!("label id {id:?}"))?;
            let slot = by_id
                .get_mut(id)
                .ok_or_else(|| format!("label id {id} out of range"))?;
            let (begin, raw) = match name.split_once('-') {
                Some(("B", raw)) => (true, raw),
                Some(("I", raw)) => (false, raw),
                _ => {
                    outside = Some(id);
                    continue;
                }
            };
            let sub_type = sub_types.iter().position(|s| s == raw).unwrap_or_else(|| {
                sub_types.push(raw.to_owned());
                sub_types.len() - 1
            });
            *slot = Label {
                kind: contract_type(raw),
                sub_type,
                begin,
            };
        }
        let outside = outside.ok_or("no O label in id2label")?;
        Ok(Self { by_id, outside })
    }
}

/// The contract type of one of the model's entity types, for those the model tier reports.
fn contract_type(raw: &str) -> Option<EntityType> {
    match raw {
        "GIVEN_NAME" | "SURNAME" | "FIRST_NAME" | "LAST_NAME" | "PERSON" | "NAME" => {
            Some(EntityType::Person)
        }
        "BUILDING_NUMBER" | "STREET_NAME" | "SECONDARY_ADDRESS" | "STREET_ADDRESS" | "CITY"
        | "STATE" | "ZIP_CODE" => Some(EntityType::StreetAddress),
        _ => None,
    }
}

fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    if sum > 0.0 && sum.is_finite() && exp.iter().all(|e| e.is_finite()) {
        exp.iter().map(|e| e / sum).collect()
    } else {
        vec![0.0; row.len()]
    }
}

/// One model run over `windows`, padded to the longest; the logits of each window, one row per
/// token.
fn run<'a>(
    session: &mut Session,
    windows: impl ExactSizeIterator<Item = &'a Encoding> + Clone,
) -> Result<Vec<Vec<Vec<f32>>>, String> {
    let rows = windows.len();
    let cols = windows.clone().map(Encoding::len).max().unwrap_or(0).max(1);
    let mut ids = vec![0i64; rows * cols];
    let mut mask = vec![0i64; rows * cols];
    let types = vec![0i64; rows * cols];
    let mut lengths = Vec::with_capacity(rows);
    for (row, window) in windows.enumerate() {
        let start = row * cols;
        for (t, (&id, &m)) in window
            .get_ids()
            .iter()
            .zip(window.get_attention_mask())
            .enumerate()
        {
            ids[start + t] = id.into();
            mask[start + t] = m.into();
        }
        lengths.push(window.len());
    }
    let shape = [rows, cols];
    let tensor = |data: Vec<i64>| Tensor::from_array((shape, data)).map_err(|e| e.to_string());
    let outputs = session
        .run(ort::inputs![
            "input_ids" => tensor(ids)?,
            "attention_mask" => tensor(mask)?,
            "token_type_ids" => tensor(types)?,
        ])
        .map_err(|e| format!("inference failed: {e}"))?;
    let (out_shape, logits) = outputs["logits"]
        .try_extract_tensor::<f32>()
        .map_err(|e| format!("inference output: {e}"))?;
    let labels = match &**out_shape {
        &[r, c, l] if r == rows as i64 && c == cols as i64 && l > 0 => l as usize,
        _ => return Err(format!("unexpected logits shape {:?}", out_shape.to_vec())),
    };
    Ok(lengths
        .iter()
        .enumerate()
        .map(|(row, &len)| {
            (0..len)
                .map(|t| logits[(row * cols + t) * labels..][..labels].to_vec())
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_config() {
        let config = r#"{"id2label": {"0": "O", "1": "B-GIVEN_NAME", "2": "I-GIVEN_NAME",
            "3": "B-EMAIL", "4": "B-CITY"}}"#;
        let labels = Labels::from_config(config).unwrap();
        assert_eq!(labels.outside, 0);
        assert_eq!(labels.by_id[1].kind, Some(EntityType::Person));
        assert!(labels.by_id[1].begin && !labels.by_id[2].begin);
        assert_eq!(labels.by_id[1].sub_type, labels.by_id[2].sub_type);
        assert_eq!(labels.by_id[3].kind, None);
        assert_eq!(labels.by_id[4].kind, Some(EntityType::StreetAddress));
        assert!(Labels::from_config(r#"{"id2label": {"0": "B-X"}}"#).is_err());
    }

    #[test]
    fn joins_names_and_address_blocks() {
        assert!(joinable(EntityType::Person, " "));
        assert!(joinable(EntityType::Person, "-"));
        assert!(!joinable(EntityType::Person, ", "));
        assert!(joinable(EntityType::StreetAddress, ",\n "));
        assert!(!joinable(EntityType::StreetAddress, " and "));
    }

    #[test]
    fn softmax_is_safe() {
        let p = softmax(&[0.0, 0.0]);
        assert!((p[0] - 0.5).abs() < 1e-6);
        assert!(softmax(&[f32::NAN, 1.0]).iter().all(|v| v.is_finite()));
        assert!(softmax(&[f32::INFINITY, 1.0]).iter().all(|v| v.is_finite()));
    }
}
