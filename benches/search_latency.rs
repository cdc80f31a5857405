//! Search latency of the embedded store (qdrant-edge) over 100,000 chunks.
//!
//! Builds a store in a temp dir: 10 tenants, 3 sources each, chunks of 60-120 words drawn from a
//! synthetic vocabulary with Zipf-like word frequencies (English stopwords at the top ranks),
//! random unit 384-dimension vectors, all seeded. Reports the ingest rate through
//! `VectorStore::upsert` (batches of 1,000, BM25 vectors and the flush included), then the
//! latency of 1,000 hybrid, 1,000 dense and 1,000 BM25 queries (limit 5), each filtered by a
//! random tenant, measured around `VectorStore::search` (blocking-pool hop included).
//!
//! Environment: `BENCH_CHUNKS` (100000), `BENCH_QUERIES` (1000), `BENCH_OPTIMIZE=1` to also run
//! qdrant-edge's optimizer (HNSW build) after the ingest and measure again.
//!
//! `cargo bench --bench search_latency` (release), or the same code in the dev profile:
//! `cargo run --example search_latency`.

use std::time::{Duration, Instant};

use jambo_worker::knowledge::store::{
    ChunkPayload, ChunkPoint, EdgeStore, SearchMode, SearchQuery, VectorStore, chunk_id,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DIM: usize = 384;
const TENANTS: usize = 10;
const SOURCES: usize = 3;
const BATCH: usize = 1_000;
const VOCABULARY: usize = 30_000;
const LIMIT: usize = 5;

const STOPWORDS: [&str; 24] = [
    "the", "of", "and", "to", "a", "in", "is", "for", "on", "that", "with", "as", "it", "you",
    "your", "be", "are", "this", "by", "or", "from", "can", "at", "an",
];
const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "zu", "bel", "tor", "gan", "fi",
    "mar", "sen", "qui", "ho", "plex", "dor", "vin", "cal", "tre",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Words by rank, and the cumulative Zipf (s = 1.07) weights to sample them.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(rng: &mut StdRng) -> Self {
        let mut words: Vec<String> = STOPWORDS.iter().map(|w| (*w).to_owned()).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        while words.len() < VOCABULARY {
            let syllables = rng.random_range(2..=4);
            let word: String = (0..syllables)
                .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
                .collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.07);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        let i = self.cumulative.partition_point(|&c| c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    fn text(&self, rng: &mut StdRng, words: usize) -> String {
        let mut text = String::with_capacity(words * 7);
        for i in 0..words {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(self.sample(rng));
        }
        text
    }

    /// 2-4 content words, as a user would type: no stopwords, mid-frequency terms.
    fn query(&self, rng: &mut StdRng) -> String {
        let n = rng.random_range(2..=4);
        (0..n)
            .map(|_| self.words[rng.random_range(STOPWORDS.len()..3_000)].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn unit_vector(rng: &mut StdRng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn chunk(i: usize, vocabulary: &Vocabulary, rng: &mut StdRng) -> ChunkPoint {
    let tenant = format!("tenant-{}", i % TENANTS);
    let source = format!("source-{}", (i / TENANTS) % SOURCES);
    let page = i / (TENANTS * SOURCES * 4);
    let url = format!("https://{tenant}.test/{source}/page-{page}");
    let index = ((i / (TENANTS * SOURCES)) % 4) as u32;
    let words = rng.random_range(60..=120);
    let text = vocabulary.text(rng, words);
    ChunkPoint {
        id: chunk_id(&tenant, &source, &url, index),
        dense: unit_vector(rng),
        payload: ChunkPayload {
            tenant_id: tenant,
            source_id: source,
            title: Some(vocabulary.text(rng, 3)),
            heading_path: vec![vocabulary.text(rng, 2)],
            token_count: (words as u32) * 4 / 3,
            chunk_index: index,
            content_hash: format!("{i:064x}"),
            page_hash: format!("{page:064x}"),
            etag: None,
            last_modified: None,
            sitemap_lastmod: Some("2026-11-30".into()),
            language: Some("en".into()),
            fetched_at: "2026-12-01T00:00:00Z".into(),
            pii_tags: vec![],
            training_opt_in: false,
            url,
            text,
        },
    }
}

struct Latencies(Vec<Duration>);

impl Latencies {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i.min(self.0.len() - 1)]
    }

    fn report(mut self, name: &str, hits: usize) {
        self.0.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mean = self.0.iter().sum::<Duration>() / self.0.len().max(1) as u32;
        println!(
            "{name:<7} n={:<5} p50={:>7.3} ms  p95={:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms  mean={:>7.3} ms  hits/query={:.2}",
            self.0.len(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.95)),
            ms(self.percentile(0.99)),
            ms(*self.0.last().unwrap_or(&Duration::ZERO)),
            ms(mean),
            hits as f64 / self.0.len().max(1) as f64,
        );
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

async fn run_queries(store: &dyn VectorStore, vocabulary: &Vocabulary, queries: usize) {
    for mode in [SearchMode::Hybrid, SearchMode::Dense, SearchMode::Bm25] {
        let mut rng = StdRng::seed_from_u64(7);
        let mut latencies = Vec::with_capacity(queries);
        let mut hits = 0;
        for _ in 0..queries {
            let query = SearchQuery {
                tenant_id: format!("tenant-{}", rng.random_range(0..TENANTS)),
                source_id: None,
                text: vocabulary.query(&mut rng),
                dense: unit_vector(&mut rng),
                limit: LIMIT,
                mode,
            };
            let start = Instant::now();
            let found = store.search(&query).await.expect("search");
            latencies.push(start.elapsed());
            hits += found.len();
        }
        Latencies(latencies).report(&format!("{mode:?}").to_lowercase(), hits);
    }
}

pub fn main() {
    let chunks = env_usize("BENCH_CHUNKS", 100_000);
    let queries = env_usize("BENCH_QUERIES", 1_000);
    let optimize = std::env::var("BENCH_OPTIMIZE").is_ok_and(|v| v == "1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = EdgeStore::open_async(&dir.path().join("vectors"), DIM)
            .await
            .expect("open");
        let mut rng = StdRng::seed_from_u64(42);
        let vocabulary = Vocabulary::new(&mut rng);
        println!(
            "search_latency: {chunks} chunks, {TENANTS} tenants, {DIM} dims, {queries} queries per mode, limit {LIMIT}; load average {}",
            load_average()
        );

        let mut generating = Duration::ZERO;
        let mut upserting = Duration::ZERO;
        let mut done = 0;
        while done < chunks {
            let start = Instant::now();
            let batch: Vec<ChunkPoint> = (done..(done + BATCH).min(chunks))
                .map(|i| chunk(i, &vocabulary, &mut rng))
                .collect();
            generating += start.elapsed();
            let n = batch.len();
            let start = Instant::now();
            store.upsert(batch).await.expect("upsert");
            upserting += start.elapsed();
            done += n;
        }
        println!(
            "ingest  {done} points in {:.1} s: {:.0} points/s through upsert (BM25 + write + flush); generating them took {:.1} s",
            upserting.as_secs_f64(),
            done as f64 / upserting.as_secs_f64(),
            generating.as_secs_f64()
        );
        let du = dir_size(dir.path());
        println!("store   {:.1} MiB on disk", du as f64 / (1024.0 * 1024.0));

        println!("-- unoptimized (one appendable segment, exact scan of the tenant's points)");
        run_queries(&store, &vocabulary, queries).await;
        if optimize {
            let start = Instant::now();
            store.optimize().await.expect("optimize");
            println!("optimize {:.1} s", start.elapsed().as_secs_f64());
            println!("-- optimized");
            run_queries(&store, &vocabulary, queries).await;
        }
        println!("load average at the end {}", load_average());
    });
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
