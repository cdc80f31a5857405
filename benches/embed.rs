//! Local embedder against Python onnxruntime on the same int8 model, texts and thread count.
//!
//! Run `python3 scripts/bench_embed_reference.py --threads T` first (it writes the texts, the
//! reference vectors and its chunks/s), then:
//!
//! `cargo bench --bench embed -- [threads=1] [runs=3]`
//!
//! Prints chunks/s of both, the ratio, the lowest cosine similarity to the reference, and this
//! process's peak RSS (VmHWM).

#[path = "support/rss.rs"]
mod rss;

use std::path::PathBuf;
use std::time::Instant;

use jambo_worker::models::{LocalMiniLm, LocalMiniLmConfig, ModelCache};

fn cache_home() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("jambo-worker")
}

#[derive(serde::Deserialize)]
struct Reference {
    engine: String,
    threads: usize,
    batch_size: usize,
    chunks_per_second: f64,
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let path = cache_home()
        .join("bench")
        .join(format!("reference-t{threads}.json"));
    let reference: Reference = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(err) => {
            eprintln!(
                "{}: {err}\nrun: python3 scripts/bench_embed_reference.py --threads {threads}",
                path.display()
            );
            std::process::exit(2);
        }
    };
    let cache = ModelCache::from_env();
    // the product's batching (at most 32 texts and 512 padded tokens per run), against the
    // reference's fixed batch size
    let config = LocalMiniLmConfig {
        parallel_batches: threads,
        threads_per_batch: 1,
        ..LocalMiniLmConfig::default()
    };
    let model = match LocalMiniLm::load(&cache, config) {
        Ok(m) => m,
        Err(err) => {
            eprintln!("model: {err}");
            std::process::exit(2);
        }
    };
    let texts = &reference.texts;
    let _ = model.embed_blocking(&texts[..reference.batch_size.min(texts.len())]);
    let mut best = f64::MAX;
    let mut vectors = Vec::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        vectors = match model.embed_blocking(texts) {
            Ok(v) => v,
            Err(err) => {
                eprintln!("embed: {err}");
                std::process::exit(1);
            }
        };
        best = best.min(started.elapsed().as_secs_f64());
    }
    let min_cosine = vectors
        .iter()
        .zip(&reference.vectors)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
        .fold(f32::MAX, f32::min);
    let ours = texts.len() as f64 / best;
    println!(
        "texts={} threads={} reference batch={} | jambo-worker (ort load-dynamic, default batching) {:.1} chunks/s | {} {:.1} chunks/s (threads={}) | ratio {:.2}x | min cosine {:.6} | peak RSS {} MiB",
        texts.len(),
        threads,
        reference.batch_size,
        ours,
        reference.engine,
        reference.chunks_per_second,
        reference.threads,
        ours / reference.chunks_per_second,
        min_cosine,
        rss::peak_rss_kib().unwrap_or(0) / 1024
    );
}
