//! `eval retrieval`: the Cranfield collection indexed through the product's own path (files,
//! extraction, chunking, local embeddings, the embedded vector store) and searched with BM25
//! alone, dense alone and hybrid; nDCG@10 and Recall@100 over all 225 queries.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::EvalError;
use super::cranfield::{Cranfield, Gains, ndcg_at, recall_at};
use crate::config::Config;
use crate::contract::job::ReindexMode;
use crate::contract::tenant::TenantSettings;
use crate::knowledge::index::SourceSpec;
use crate::knowledge::store::SearchMode;

/// The figures of one retriever.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModeScores {
    pub mode: &'static str,
    /// nDCG@10 with gains as the qrels file is read by trec_eval (grade as written).
    pub ndcg10: f64,
    pub recall100: f64,
    /// nDCG@10 with Cleverdon's scale inverted, as the collection's readme defines the grades.
    pub ndcg10_cleverdon: f64,
    pub recall100_cleverdon: f64,
    pub mean_query_ms: f64,
}

/// Indexes the collection into a fresh data dir and scores the three retrievers.
pub async fn evaluate(config: &Config, data: &Path) -> Result<(Vec<ModeScores>, f64), EvalError> {
    let collection = Cranfield::load(data)?;
    let work = std::env::temp_dir().join(format!("jambo-eval-retrieval-{}", std::process::id()));
    let docs_dir = work.join("docs");
    std::fs::create_dir_all(&docs_dir).map_err(|e| EvalError::Failed(e.to_string()))?;
    for doc in &collection.docs {
        let title = doc.title.trim();
        let text = format!(
            "# {}\n\n{}\n",
            if title.is_empty() { "untitled" } else { title },
            doc.text.trim()
        );
        std::fs::write(docs_dir.join(format!("{:04}.md", doc.id)), text)
            .map_err(|e| EvalError::Failed(e.to_string()))?;
    }
    let mut config = config.clone();
    config.data_dir = work.join("data");
    config.tenants_dir = work.join("tenants");
    let result = run(&config, &collection, &docs_dir).await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn run(
    config: &Config,
    collection: &Cranfield,
    docs_dir: &Path,
) -> Result<(Vec<ModeScores>, f64), EvalError> {
    let failed = |e: &dyn std::fmt::Display| EvalError::Failed(e.to_string());
    let privacy = crate::app::Privacy::build(config);
    let knowledge = crate::app::knowledge(config, &privacy).map_err(|e| failed(&e))?;
    let tenant = std::sync::Arc::new(TenantSettings::defaults("eval"));
    let started = Instant::now();
    let source = SourceSpec {
        id: "cranfield".into(),
        path: Some(docs_dir.to_owned()),
        ..SourceSpec::default()
    };
    let (report, _) = knowledge
        .index(&tenant, "eval", &source, ReindexMode::Full, false, &|_| {})
        .await
        .map_err(|e| failed(&e))?;
    let index_secs = started.elapsed().as_secs_f64();
    if report.pages_indexed != collection.docs.len() {
        return Err(EvalError::Failed(format!(
            "indexed {} of {} documents",
            report.pages_indexed,
            collection.docs.len()
        )));
    }
    let tenant = Arc::clone(&tenant);
    let mut scores = Vec::new();
    for (mode, name) in [
        (SearchMode::Bm25, "bm25"),
        (SearchMode::Dense, "dense"),
        (SearchMode::Hybrid, "hybrid"),
    ] {
        let mut sums = [0.0f64; 4];
        let mut judged_queries = 0usize;
        let timer = Instant::now();
        for (number, text) in &collection.queries {
            let Some(judged) = collection.qrels.get(number) else {
                continue;
            };
            let (hits, _) = knowledge
                .search(&tenant, "eval", text, None, 200, mode)
                .await
                .map_err(|e| failed(&e))?;
            let ranked = doc_ranking(hits.iter().map(|h| h.payload.url.as_str()));
            sums[0] += ndcg_at(10, &ranked, judged, Gains::AsWritten);
            sums[1] += recall_at(100, &ranked, judged, Gains::AsWritten);
            sums[2] += ndcg_at(10, &ranked, judged, Gains::Cleverdon);
            sums[3] += recall_at(100, &ranked, judged, Gains::Cleverdon);
            judged_queries += 1;
        }
        let n = judged_queries.max(1) as f64;
        scores.push(ModeScores {
            mode: name,
            ndcg10: sums[0] / n,
            recall100: sums[1] / n,
            ndcg10_cleverdon: sums[2] / n,
            recall100_cleverdon: sums[3] / n,
            mean_query_ms: timer.elapsed().as_secs_f64() * 1000.0 / n,
        });
    }
    Ok((scores, index_secs))
}

/// Document ids in rank order, each once (a document may have several chunks).
fn doc_ranking<'a>(urls: impl Iterator<Item = &'a str>) -> Vec<u32> {
    let mut seen = HashMap::new();
    let mut ranked = Vec::new();
    for url in urls {
        let id = url
            .rsplit('/')
            .next()
            .and_then(|name| name.strip_suffix(".md"))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(id) = id
            && seen.insert(id, ()).is_none()
        {
            ranked.push(id);
        }
    }
    ranked
}

/// The printed table and JSON.
pub fn render(
    scores: &[ModeScores],
    index_secs: f64,
    queries: usize,
) -> (String, serde_json::Value) {
    let mut table = format!(
        "Cranfield: {queries} queries, indexed in {index_secs:.1}s (local all-MiniLM-L6-v2, qdrant-edge)\n\
         gains as written in cranqrel (trec_eval); Cleverdon scale inverted in the last two columns\n\n\
         | retriever | nDCG@10 | Recall@100 | nDCG@10 (Cleverdon) | Recall@100 (Cleverdon) | ms/query |\n\
         |---|---|---|---|---|---|\n"
    );
    for s in scores {
        table.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} |\n",
            s.mode,
            s.ndcg10,
            s.recall100,
            s.ndcg10_cleverdon,
            s.recall100_cleverdon,
            s.mean_query_ms
        ));
    }
    let json = json!({"task": "retrieval", "queries": queries, "index_seconds": index_secs, "retrievers": scores});
    (table, json)
}
