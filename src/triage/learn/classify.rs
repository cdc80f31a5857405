//! Lead category from the tenant's `[[categories]]`.
//!
//! [`CategoryModel`] is one linear model (multinomial logistic regression, L2, L-BFGS; see
//! `linear.rs`) over the all-MiniLM-L6-v2 embedding of the text joined with sparse lexical
//! features (TF-IDF of word 1-2-grams and character 3-5-grams; see `lexical.rs`). It is trained
//! from the tenant's examples plus one text per category made of its name and description;
//! a category without examples is trained from that text alone.
//!
//! Confidence is calibrated by temperature scaling: the temperature is fitted on out-of-fold
//! logits (stratified 5-fold cross-validation for up to 2,000 examples, one 20 % hold-out
//! beyond), so a confidence of 0.8 is right about 80 % of the time on data like the examples.
//! Below [`CategoryConfig::min_confidence`], or when the text is unlike every category
//! ([`CategoryConfig::min_similarity`]), the prediction says `needs_human` with the reason.
//!
//! A trained model is plain data (serde), so it can be cached per tenant, keyed by
//! [`CategoryModel::fingerprint`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::lexical::{LexicalConfig, LexicalVectorizer};
use super::linear::{self, Features, FitConfig, LinearModel};
use crate::contract::tenant::Category;
use crate::models::{EmbedError, Embedder};

/// Model and decision settings. The defaults are the ones measured in the README.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CategoryConfig {
    /// Weight (norm) of the embedding block against the lexical blocks.
    pub embedding_weight: f32,
    pub lexical: LexicalConfig,
    pub fit: FitConfig,
    /// Below this calibrated confidence the lead needs a human.
    pub min_confidence: f32,
    /// Below this cosine similarity between the text and its predicted category (the nearest
    /// of its examples) the lead needs a human: the text is unlike anything configured.
    pub min_similarity: f32,
    /// Calibrate the confidence (temperature scaling on held-out folds). Off, the temperature
    /// is 1 and training costs one fit instead of up to six.
    pub calibrate: bool,
    /// Weight of the nearest-centroid vote: `centroid_weight * cos(x, centroid)` is added to
    /// each category's logit and the linear model learns a correction on top of it (an
    /// ensemble of nearest-centroid and logistic regression in one model). 0 turns it off.
    pub centroid_weight: f32,
    /// Scale of the lexical blocks against the embedding. `None`: chosen from the data, as
    /// `sqrt(examples per category / 100)` clamped to [0.3, 1]: word and character n-grams
    /// need many examples to beat the embedding's generalisation (measured on Banking77
    /// training rows: best near 0.3-0.4 at 10 per category, near 1 at 130).
    pub lexical_scale: Option<f32>,
    /// L2 penalty; `None`: `1e-3 / (examples per category)` clamped to [1e-5, 1e-3] (a constant
    /// scikit-learn `C` of about 13; measured on Banking77 training rows: 1e-4 best at 10 per
    /// category, 1e-5 better than 3e-5 and 1e-4 at 117). Overrides `fit.l2` when set or auto.
    pub l2: Option<f32>,
}

impl Default for CategoryConfig {
    fn default() -> Self {
        CategoryConfig {
            embedding_weight: 1.0,
            lexical: LexicalConfig::default(),
            fit: FitConfig {
                l2: 1e-4,
                ..FitConfig::default()
            },
            min_confidence: 0.5,
            min_similarity: 0.2,
            calibrate: true,
            centroid_weight: 0.0,
            lexical_scale: None,
            l2: None,
        }
    }
}

/// One labelled training text with its embedding.
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    pub label: &'a str,
    pub text: &'a str,
    pub embedding: &'a [f32],
}

/// Why a model could not be trained.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("no categories to train on")]
    NoCategories,
    #[error("category {0:?} has neither examples nor a name or description")]
    EmptyCategory(String),
    #[error("embeddings of different dimensions ({0} and {1})")]
    Dimension(usize, usize),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// A label with its calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub label: String,
    pub confidence: f32,
}

/// What the model says about one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub label: String,
    /// Calibrated probability that `label` is right.
    pub confidence: f32,
    pub runner_up: Option<Scored>,
    /// Why a human should look, when one should.
    pub needs_human: Option<String>,
}

/// A trained category classifier (plain data: serialise it to cache it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryModel {
    labels: Vec<String>,
    dimension: usize,
    config: CategoryConfig,
    lexical: LexicalVectorizer,
    linear: LinearModel,
    temperature: f32,
    /// The lexical scale in use (see [`CategoryConfig::lexical_scale`]).
    lexical_scale: f32,
    /// Unit-length mean embedding of each label's training texts.
    centroids: Vec<Vec<f32>>,
    /// Unit-length embeddings of up to [`MAX_PROTOTYPES`] training texts per label (for the
    /// similarity check).
    prototypes: Vec<Vec<Vec<f32>>>,
    /// Labels trained from their description only.
    description_only: Vec<String>,
}

impl CategoryModel {
    /// Trains on `examples` and `descriptions` (texts that describe a category, such as its
    /// name and description, with their embeddings): descriptions are one more training text
    /// of their category, and the only one of a category without examples. Labels keep their
    /// first-seen order, examples first.
    pub fn train(
        examples: &[Example<'_>],
        descriptions: &[Example<'_>],
        config: &CategoryConfig,
    ) -> Result<CategoryModel, TrainError> {
        let mut labels: Vec<String> = Vec::new();
        let index_of =
            |labels: &mut Vec<String>, label: &str| match labels.iter().position(|l| l == label) {
                Some(i) => i,
                None => {
                    labels.push(label.to_owned());
                    labels.len() - 1
                }
            };
        let mut data: Vec<Example<'_>> = Vec::with_capacity(examples.len());
        let mut ys = Vec::with_capacity(examples.len());
        for example in examples {
            ys.push(index_of(&mut labels, example.label));
            data.push(*example);
        }
        let mut description_only = Vec::new();
        for description in descriptions {
            if description.text.trim().is_empty() {
                continue;
            }
            if !labels.iter().any(|l| l == description.label) {
                description_only.push(description.label.to_owned());
            }
            ys.push(index_of(&mut labels, description.label));
            data.push(*description);
        }
        if data.is_empty() {
            return Err(TrainError::NoCategories);
        }
        let dimension = data[0].embedding.len();
        if let Some(other) = data.iter().find(|e| e.embedding.len() != dimension) {
            return Err(TrainError::Dimension(dimension, other.embedding.len()));
        }

        let texts: Vec<&str> = data.iter().map(|e| e.text).collect();
        let lexical = LexicalVectorizer::fit(&texts, config.lexical);
        let classes = labels.len();
        let lexical_scale = config.lexical_scale.unwrap_or_else(|| {
            let per_class = data.len() as f32 / classes as f32;
            (per_class / 100.0).sqrt().clamp(0.3, 1.0)
        });
        let xs: Vec<Features> = data
            .iter()
            .map(|e| features(&lexical, config, lexical_scale, e.text, e.embedding))
            .collect();
        let fit_config = FitConfig {
            l2: config.l2.unwrap_or_else(|| {
                let per_class = data.len() as f32 / classes as f32;
                (1e-3 / per_class).clamp(1e-5, 1e-3)
            }),
            ..config.fit
        };
        let (sums, counts) = class_sums(&data, &ys, classes, dimension);
        let centroids: Vec<Vec<f32>> = sums.iter().map(|s| unit(s)).collect();
        // Offsets of training texts use their own class's centroid *without* them, so the
        // model does not learn to trust a vote the text itself made.
        let offsets: Option<Vec<Vec<f32>>> = (config.centroid_weight != 0.0).then(|| {
            data.iter()
                .zip(&ys)
                .map(|(e, &y)| {
                    let mut own = centroids.clone();
                    let x = unit(e.embedding);
                    own[y] = if counts[y] > 1 {
                        unit(
                            &sums[y]
                                .iter()
                                .zip(&x)
                                .map(|(s, v)| s - v)
                                .collect::<Vec<_>>(),
                        )
                    } else {
                        vec![0.0; dimension]
                    };
                    centroid_offsets(&own, e.embedding, config.centroid_weight)
                })
                .collect()
        });
        let fit = |rows: &[usize]| {
            let xs: Vec<Features> = rows.iter().map(|&i| xs[i].clone()).collect();
            let ys: Vec<usize> = rows.iter().map(|&i| ys[i]).collect();
            let offsets: Option<Vec<Vec<f32>>> = offsets
                .as_ref()
                .map(|o| rows.iter().map(|&i| o[i].clone()).collect());
            LinearModel::fit(
                &xs,
                &ys,
                classes,
                dimension,
                lexical.dimension(),
                offsets.as_deref(),
                &fit_config,
            )
        };
        let temperature = if config.calibrate && classes > 1 {
            let (logits, truth) = out_of_fold_logits(&ys, classes, |rows, held_out| {
                let model = fit(rows);
                held_out
                    .iter()
                    .map(|&i| {
                        let mut z = model.logits(&xs[i]);
                        if let Some(o) = &offsets {
                            z.iter_mut().zip(&o[i]).for_each(|(z, o)| *z += o);
                        }
                        z
                    })
                    .collect()
            });
            linear::fit_temperature(&logits, &truth)
        } else {
            1.0
        };
        let all: Vec<usize> = (0..xs.len()).collect();
        let linear = fit(&all);
        let mut prototypes = vec![Vec::new(); classes];
        for (e, &y) in data.iter().zip(&ys) {
            if prototypes[y].len() < MAX_PROTOTYPES {
                prototypes[y].push(unit(e.embedding));
            }
        }
        Ok(CategoryModel {
            labels,
            dimension,
            config: *config,
            lexical,
            linear,
            temperature,
            lexical_scale,
            centroids,
            prototypes,
            description_only,
        })
    }

    /// Embeds the tenant's examples and descriptions and trains on them.
    pub async fn train_for_tenant(
        categories: &[Category],
        embedder: &dyn Embedder,
        config: &CategoryConfig,
    ) -> Result<CategoryModel, TrainError> {
        if categories.is_empty() {
            return Err(TrainError::NoCategories);
        }
        let mut texts = Vec::new();
        let mut owners = Vec::new(); // (category, is description)
        for category in categories {
            for example in &category.examples {
                texts.push(example.clone());
                owners.push((category.name.as_str(), false));
            }
            let description = describe(category);
            if description.is_empty() && category.examples.is_empty() {
                return Err(TrainError::EmptyCategory(category.name.clone()));
            }
            texts.push(description);
            owners.push((category.name.as_str(), true));
        }
        let mut vectors = Vec::new();
        for batch in texts.chunks(embedder.batch_size().max(1)) {
            vectors.extend(embedder.embed(batch).await?);
        }
        let mut examples = Vec::new();
        let mut descriptions = Vec::new();
        for ((text, vector), (label, is_description)) in texts.iter().zip(&vectors).zip(owners) {
            let example = Example {
                label,
                text,
                embedding: vector,
            };
            if is_description {
                descriptions.push(example);
            } else {
                examples.push(example);
            }
        }
        Self::train(&examples, &descriptions, config)
    }

    /// A key for caching the model trained from `categories` with the embedder `model_id`
    /// under `config`: hex sha256 of all three.
    pub fn fingerprint(categories: &[Category], model_id: &str, config: &CategoryConfig) -> String {
        let mut hasher = Sha256::new();
        hasher.update(model_id.as_bytes());
        hasher.update([0u8]);
        hasher.update(serde_json::to_vec(categories).unwrap_or_default());
        hasher.update([0u8]);
        hasher.update(serde_json::to_vec(config).unwrap_or_default());
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The category labels, in the order of [`CategoryModel::probabilities`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The fitted temperature (1 when not calibrated).
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Calibrated probability of every label for a text and its embedding.
    pub fn probabilities(&self, text: &str, embedding: &[f32]) -> Vec<f32> {
        let x = features(
            &self.lexical,
            &self.config,
            self.lexical_scale,
            text,
            embedding,
        );
        let mut z = self.linear.logits(&x);
        if self.config.centroid_weight != 0.0 && embedding.len() == self.dimension {
            let offsets = centroid_offsets(&self.centroids, embedding, self.config.centroid_weight);
            z.iter_mut().zip(offsets).for_each(|(z, o)| *z += o);
        }
        linear::probabilities(&z, self.temperature)
    }

    /// The most likely category, its calibrated confidence, the runner-up, and whether a human
    /// should look (with the reason).
    pub fn predict(&self, text: &str, embedding: &[f32]) -> Prediction {
        let probabilities = self.probabilities(text, embedding);
        let mut order: Vec<usize> = (0..probabilities.len()).collect();
        order.sort_by(|&a, &b| {
            probabilities[b]
                .total_cmp(&probabilities[a])
                .then(a.cmp(&b))
        });
        let best = order[0];
        let runner_up = order.get(1).map(|&i| Scored {
            label: self.labels[i].clone(),
            confidence: probabilities[i],
        });
        let confidence = probabilities[best];
        let mut reasons = Vec::new();
        if embedding.len() != self.dimension {
            reasons.push(format!(
                "embedding has {} dimensions, the model {}",
                embedding.len(),
                self.dimension
            ));
        } else if text.trim().is_empty() {
            reasons.push("empty text".to_owned());
        } else {
            let similarity = self.similarity(best, embedding);
            if similarity < self.config.min_similarity {
                reasons.push(format!(
                    "unlike every example of any category (similarity {similarity:.2} to {:?}, below {:.2})",
                    self.labels[best], self.config.min_similarity
                ));
            }
        }
        if confidence < self.config.min_confidence {
            let second = runner_up
                .as_ref()
                .map(|r| format!(", then {:?} {:.2}", r.label, r.confidence))
                .unwrap_or_default();
            reasons.push(format!(
                "category confidence {confidence:.2} below {:.2} ({:?} {confidence:.2}{second})",
                self.config.min_confidence, self.labels[best]
            ));
        }
        if self.description_only.contains(&self.labels[best]) {
            // not a reason on its own: noted so a human knows why the confidence is modest
            if !reasons.is_empty() {
                reasons.push(format!(
                    "{:?} is configured with a description only",
                    self.labels[best]
                ));
            }
        }
        Prediction {
            label: self.labels[best].clone(),
            confidence,
            runner_up,
            needs_human: (!reasons.is_empty()).then(|| reasons.join("; ")),
        }
    }

    /// Cosine similarity of `embedding` to the nearest training text (or the centroid) of
    /// label `index`.
    fn similarity(&self, index: usize, embedding: &[f32]) -> f32 {
        let query = unit(embedding);
        self.prototypes[index]
            .iter()
            .chain(std::iter::once(&self.centroids[index]))
            .map(|p| p.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>())
            .fold(f32::NEG_INFINITY, f32::max)
    }
}

/// The text that describes a category: its name in words, then its description
/// ("billing_address" and "change the address on invoices" give
/// "billing address: change the address on invoices").
pub fn describe(category: &Category) -> String {
    let name = humanize(&category.name);
    match category.description.trim() {
        "" => name,
        description => format!("{name}: {description}"),
    }
}

/// A label in words: `_`, `-` and `.` become spaces.
pub fn humanize(label: &str) -> String {
    label
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Training texts kept per label for the similarity check.
const MAX_PROTOTYPES: usize = 64;

/// Per-class sums of unit embeddings and counts.
fn class_sums(
    data: &[Example<'_>],
    ys: &[usize],
    classes: usize,
    dim: usize,
) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut sums = vec![vec![0f32; dim]; classes];
    let mut counts = vec![0usize; classes];
    for (e, &y) in data.iter().zip(ys) {
        sums[y]
            .iter_mut()
            .zip(unit(e.embedding))
            .for_each(|(s, v)| *s += v);
        counts[y] += 1;
    }
    (sums, counts)
}

/// The centroid logits of one text: `weight * cos(x, centroid)` per class.
fn centroid_offsets(centroids: &[Vec<f32>], embedding: &[f32], weight: f32) -> Vec<f32> {
    let x = unit(embedding);
    centroids
        .iter()
        .map(|c| weight * c.iter().zip(&x).map(|(a, b)| a * b).sum::<f32>())
        .collect()
}

/// The model's input: the unit embedding times its weight, then the lexical features.
fn features(
    lexical: &LexicalVectorizer,
    config: &CategoryConfig,
    lexical_scale: f32,
    text: &str,
    embedding: &[f32],
) -> Features {
    let dense = unit(embedding)
        .into_iter()
        .map(|v| v * config.embedding_weight)
        .collect();
    let mut sparse = lexical.transform(text);
    sparse.iter_mut().for_each(|(_, v)| *v *= lexical_scale);
    Features { dense, sparse }
}

/// `v` scaled to length 1 (zero stays zero; non-finite values count as zero).
pub(crate) fn unit(v: &[f32]) -> Vec<f32> {
    let clean = |x: f32| if x.is_finite() { x } else { 0.0 };
    let norm = v.iter().map(|&x| clean(x) * clean(x)).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter().map(|&x| clean(x) / norm).collect()
    } else {
        vec![0.0; v.len()]
    }
}

/// Logits of held-out examples from models trained without them, with their labels.
/// `fit_predict(train_rows, held_out_rows)` trains on the first and returns logits of the
/// second. Stratified folds by position within each class; examples of classes with fewer than
/// two examples are always trained on. Up to 2,000 examples: 5 folds; beyond: one fold of 5
/// (a 20 % hold-out), which gives enough held-out logits to fit one temperature.
fn out_of_fold_logits(
    ys: &[usize],
    classes: usize,
    fit_predict: impl Fn(&[usize], &[usize]) -> Vec<Vec<f32>>,
) -> (Vec<Vec<f32>>, Vec<usize>) {
    const FOLDS: usize = 5;
    let mut count = vec![0usize; classes];
    let mut fold = vec![usize::MAX; ys.len()];
    for (i, &y) in ys.iter().enumerate() {
        fold[i] = count[y] % FOLDS;
        count[y] += 1;
    }
    for (i, &y) in ys.iter().enumerate() {
        if count[y] < 2 {
            fold[i] = usize::MAX;
        }
    }
    let rounds = if ys.len() <= 2000 { FOLDS } else { 1 };
    let mut logits = Vec::new();
    let mut truth = Vec::new();
    for k in 0..rounds {
        let (train, held_out): (Vec<usize>, Vec<usize>) =
            (0..ys.len()).partition(|&i| fold[i] != k);
        if held_out.is_empty() {
            continue;
        }
        logits.extend(fit_predict(&train, &held_out));
        truth.extend(held_out.iter().map(|&i| ys[i]));
    }
    (logits, truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example<'a>(label: &'a str, text: &'a str, embedding: &'a [f32]) -> Example<'a> {
        Example {
            label,
            text,
            embedding,
        }
    }

    #[test]
    fn trains_and_predicts_on_toy_vectors() {
        let a = [1.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0];
        let examples = [
            example("a", "apple pie", &a),
            example("a", "apple tart", &a),
            example("b", "banana split", &b),
            example("b", "banana bread", &b),
        ];
        let c = [0.0, 0.0, 1.0];
        let descriptions = [example("c", "cherries", &c)];
        let model =
            CategoryModel::train(&examples, &descriptions, &CategoryConfig::default()).unwrap();
        assert_eq!(model.labels(), ["a", "b", "c"]);
        assert_eq!(model.predict("apple", &a).label, "a");
        assert_eq!(model.predict("banana", &b).label, "b");
        assert_eq!(model.predict("cherry", &c).label, "c");
        let p = model.probabilities("apple", &a);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        let json = serde_json::to_string(&model).unwrap();
        let back: CategoryModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back.predict("banana", &b), model.predict("banana", &b));
    }

    #[test]
    fn wrong_dimension_and_empty_text_need_a_human() {
        let a = [1.0, 0.0];
        let b = [0.0, 1.0];
        let examples = [example("a", "x", &a), example("b", "y", &b)];
        let model = CategoryModel::train(&examples, &[], &CategoryConfig::default()).unwrap();
        let p = model.predict("x", &[1.0, 0.0, 0.0]);
        assert!(p.needs_human.unwrap().contains("dimensions"));
        assert!(model.predict("", &a).needs_human.unwrap().contains("empty"));
        assert!(model.predict("x", &[f32::NAN, 0.0]).needs_human.is_some());
    }

    #[test]
    fn nothing_to_train_on_is_an_error() {
        assert!(matches!(
            CategoryModel::train(&[], &[], &CategoryConfig::default()),
            Err(TrainError::NoCategories)
        ));
        let a = [1.0, 0.0];
        let examples = [example("a", "x", &a), example("b", "y", &[1.0])];
        assert!(matches!(
            CategoryModel::train(&examples, &[], &CategoryConfig::default()),
            Err(TrainError::Dimension(2, 1))
        ));
    }

    #[test]
    fn categories_are_described_by_name_and_description() {
        assert_eq!(humanize("card_arrival"), "card arrival");
        assert_eq!(humanize("top-up..limits_"), "top up limits");
        let category = Category {
            name: "billing_address".into(),
            description: " change the address on invoices ".into(),
            examples: vec![],
        };
        assert_eq!(
            describe(&category),
            "billing address: change the address on invoices"
        );
    }

    #[test]
    fn unit_handles_zero_and_nan() {
        assert_eq!(unit(&[0.0, 0.0]), vec![0.0, 0.0]);
        assert_eq!(unit(&[3.0, 4.0]), vec![0.6, 0.8]);
        assert_eq!(unit(&[f32::NAN, 2.0]), vec![0.0, 1.0]);
    }
}
