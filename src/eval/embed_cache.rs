//! Embeddings of evaluation texts cached in one file per model under the data dir, so repeated
//! eval runs do not embed the same data set again. Keyed by the model id (in the file name) and
//! the sha256 of each text; the file is append-only (records: 16 bytes of the text's hash, then
//! the vector as little-endian f32).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::EvalError;
use crate::config::Config;
use crate::models::{LocalMiniLm, LocalMiniLmConfig, ModelCache};

type Key = [u8; 16];

/// Embeds texts with the local model, reading and filling the cache file.
pub struct EmbeddingCache {
    path: PathBuf,
    dimension: usize,
    vectors: HashMap<Key, Vec<f32>>,
    model: Option<LocalMiniLm>,
    models_dir: PathBuf,
}

impl EmbeddingCache {
    /// Opens `<data-dir>/eval-cache/embeddings-<model id>.bin` (missing is empty).
    pub fn open(config: &Config) -> Result<EmbeddingCache, EvalError> {
        let dir = config.data_dir.join("eval-cache");
        let path = dir.join(format!("embeddings-{}.bin", LocalMiniLm::MODEL_ID));
        let dimension = LocalMiniLm::DIMENSION;
        let mut vectors = HashMap::new();
        if let Ok(mut file) = std::fs::File::open(&path) {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|err| EvalError::Failed(format!("{}: {err}", path.display())))?;
            let record = 16 + 4 * dimension;
            // a torn last record (interrupted run) is ignored
            for chunk in bytes.chunks_exact(record) {
                let mut key = [0u8; 16];
                key.copy_from_slice(&chunk[..16]);
                let vector = chunk[16..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                vectors.insert(key, vector);
            }
        }
        Ok(EmbeddingCache {
            path,
            dimension,
            vectors,
            model: None,
            models_dir: config.models_dir.clone(),
        })
    }

    /// One vector per text, embedding (and caching) the ones not cached yet.
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EvalError> {
        let mut missing: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !self.vectors.contains_key(&key(t)))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            self.fill(&missing)?;
        }
        Ok(texts
            .iter()
            .map(|t| self.vectors[&key(t)].clone())
            .collect())
    }

    fn fill(&mut self, missing: &[&str]) -> Result<(), EvalError> {
        if self.model.is_none() {
            let cache = ModelCache::new(&self.models_dir);
            let model = LocalMiniLm::load(&cache, LocalMiniLmConfig::default())
                .map_err(|err| EvalError::Failed(err.to_string()))?;
            self.model = Some(model);
        }
        let model = self.model.as_ref().expect("loaded above");
        let io = |err: std::io::Error| EvalError::Failed(format!("{}: {err}", self.path.display()));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        let started = std::time::Instant::now();
        let mut done = 0;
        for chunk in missing.chunks(512) {
            let owned: Vec<String> = chunk.iter().map(|t| (*t).to_owned()).collect();
            let vectors = model
                .embed_blocking(&owned)
                .map_err(|err| EvalError::Failed(err.to_string()))?;
            let mut bytes = Vec::with_capacity(chunk.len() * (16 + 4 * self.dimension));
            for (text, vector) in chunk.iter().zip(vectors) {
                let k = key(text);
                bytes.extend_from_slice(&k);
                vector
                    .iter()
                    .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
                self.vectors.insert(k, vector);
            }
            file.write_all(&bytes).map_err(io)?;
            done += chunk.len();
            eprintln!(
                "embedded {done}/{} texts ({:.0} s)",
                missing.len(),
                started.elapsed().as_secs_f32()
            );
        }
        Ok(())
    }
}

fn key(text: &str) -> Key {
    let digest = Sha256::digest(text.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

/// Deterministic pseudo-random numbers for sampling (SplitMix64): the same seed gives the same
/// sample in every build, unlike `rand`'s `StdRng`, whose algorithm may change between versions.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
