//! The whole knowledge path on real components: the fixture help center crawled on 127.0.0.1,
//! extracted, chunked, embedded by the local model and stored in qdrant-edge; then searched,
//! re-indexed incrementally, and deleted. Also the `ingest` and `search` commands through the
//! binary and the `source.reindex` / `source.delete` jobs through the pipeline.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use jambo_worker::config::Config;
use jambo_worker::contract::job::ReindexMode;
use jambo_worker::contract::tenant::TenantSettings;
use jambo_worker::knowledge::index::{IndexProgress, SourceSpec};
use jambo_worker::knowledge::service::Knowledge;
use jambo_worker::knowledge::store::SearchMode;
use serde_json::{Value, json};

use super::fixture_site::FixtureServer;

fn config(dir: &std::path::Path) -> Config {
    crate::support::local_config(dir)
}

fn tenant(id: &str) -> Arc<TenantSettings> {
    Arc::new(serde_json::from_value(json!({"tenant_id": id})).expect("tenant"))
}

fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

async fn index(
    knowledge: &Knowledge,
    tenant: &Arc<TenantSettings>,
    source: &SourceSpec,
    mode: ReindexMode,
) -> (
    jambo_worker::knowledge::index::IndexReport,
    Vec<IndexProgress>,
) {
    let seen = Mutex::new(Vec::new());
    let (report, _) = knowledge
        .index(tenant, "test-job", source, mode, true, &|p| {
            if let Ok(mut s) = seen.lock() {
                s.push(p);
            }
        })
        .await
        .expect("index");
    (report, seen.into_inner().unwrap_or_default())
}

#[tokio::test]
async fn help_center_is_indexed_searched_reindexed_and_deleted() {
    let server = FixtureServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let knowledge = knowledge_for(&config(dir.path()));
    let acme = tenant("acme");
    let source = SourceSpec {
        id: "help".into(),
        url: Some(server.url("/")),
        max_pages: Some(60),
        ..SourceSpec::default()
    };

    let (first, progress) = index(&knowledge, &acme, &source, ReindexMode::Incremental).await;
    assert!(first.pages_indexed >= 20, "{first:?}");
    assert!(first.chunks >= first.pages_indexed, "{first:?}");
    assert_eq!(first.chunks_total, first.chunks as u64);
    assert!(!progress.is_empty(), "progress was reported");
    assert!(
        first
            .failures
            .iter()
            .any(|f| f.url.ends_with("/contacts/bulk-editing.html")),
        "the 404 is a listed failure: {:?}",
        first.failures
    );
    assert_eq!(
        server.hits("/internal/agent-handbook.html"),
        0,
        "robots.txt respected"
    );

    // Retrieval on the fixture queries: hybrid search finds an expected page in the top 3.
    let queries: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/helpcenter/queries.json"
        ))
        .expect("queries"),
    )
    .expect("json");
    let mut found = 0;
    let all = queries["queries"].as_array().cloned().unwrap_or_default();
    for q in &all {
        let (hits, _) = knowledge
            .search(
                &acme,
                "q",
                q["query"].as_str().unwrap_or(""),
                None,
                3,
                SearchMode::Hybrid,
            )
            .await
            .expect("search");
        let expected: HashSet<&str> = q["expected"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if hits
            .iter()
            .any(|h| expected.contains(path_of(&h.payload.url).as_str()))
        {
            found += 1;
        }
        for hit in &hits {
            assert_eq!(hit.payload.tenant_id, "acme");
            assert!(!hit.chunk_id.is_empty() && !hit.payload.text.is_empty());
            assert!(hit.payload.token_count > 0 && !hit.payload.fetched_at.is_empty());
        }
    }
    assert!(
        found * 10 >= all.len() * 8,
        "hybrid top-3 hits {found} of {}",
        all.len()
    );

    // Another tenant sees nothing.
    let (other, _) = knowledge
        .search(
            &tenant("globex"),
            "q",
            "export contacts",
            None,
            5,
            SearchMode::Hybrid,
        )
        .await
        .expect("search");
    assert!(other.is_empty());

    // The contact page carries PII tags; consent is recorded on every chunk.
    let (hits, _) = knowledge
        .search(
            &acme,
            "q",
            "support hours contact phone",
            None,
            5,
            SearchMode::Hybrid,
        )
        .await
        .expect("search");
    assert!(hits.iter().all(|h| !h.payload.training_opt_in));

    // Incremental: nothing changed, nothing re-embedded or rewritten.
    let (second, _) = index(&knowledge, &acme, &source, ReindexMode::Incremental).await;
    assert_eq!(second.pages_indexed, 0, "{second:?}");
    assert_eq!(second.chunks, 0);
    assert!(second.pages_unchanged >= first.pages_indexed, "{second:?}");
    assert_eq!(second.pages_removed, 0);
    assert_eq!(second.chunks_total, first.chunks_total);

    // Full: every page again, same deterministic ids, same total.
    let (third, _) = index(&knowledge, &acme, &source, ReindexMode::Full).await;
    assert_eq!(third.pages_indexed, first.pages_indexed);
    assert_eq!(third.chunks_total, first.chunks_total);

    // Delete.
    let removed = knowledge
        .delete_source("acme", "help")
        .await
        .expect("delete");
    assert_eq!(removed, first.chunks_total);
    let (after, _) = knowledge
        .search(&acme, "q", "export contacts", None, 5, SearchMode::Hybrid)
        .await
        .expect("search");
    assert!(after.is_empty());
}

#[tokio::test]
async fn a_folder_source_drops_removed_files_on_reindex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).expect("mkdir");
    std::fs::write(
        docs.join("a.md"),
        "# Refunds\n\nRefunds are possible within 30 days of purchase.\n",
    )
    .expect("write");
    std::fs::write(
        docs.join("b.txt"),
        "Our office is open Monday to Friday, 9 to 5.\n",
    )
    .expect("write");
    std::fs::write(docs.join("empty.txt"), "").expect("write");
    std::fs::write(docs.join("ignored.bin"), [0u8, 1, 2]).expect("write");
    let knowledge = knowledge_for(&config(dir.path()));
    let acme = tenant("acme");
    let source = SourceSpec {
        id: "files".into(),
        path: Some(docs.clone()),
        ..SourceSpec::default()
    };
    let (first, _) = index(&knowledge, &acme, &source, ReindexMode::Incremental).await;
    assert_eq!(first.pages_indexed, 2, "{first:?}");
    assert_eq!(first.pages_failed, 1, "the empty file is a listed failure");
    std::fs::remove_file(docs.join("b.txt")).expect("rm");
    std::fs::write(
        docs.join("a.md"),
        "# Refunds\n\nRefunds are possible within 14 days.\n",
    )
    .expect("write");
    let (second, _) = index(&knowledge, &acme, &source, ReindexMode::Incremental).await;
    assert_eq!(second.pages_indexed, 1, "the changed file: {second:?}");
    assert_eq!(second.pages_removed, 1, "the deleted file: {second:?}");
    let (hits, _) = knowledge
        .search(&acme, "q", "refund days", None, 5, SearchMode::Bm25)
        .await
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert!(hits[0].payload.text.contains("14 days"));
}

/// The knowledge service as the worker builds it.
fn knowledge_for(config: &Config) -> std::sync::Arc<Knowledge> {
    let privacy = jambo_worker::app::Privacy::build(config);
    jambo_worker::app::knowledge(config, &privacy).expect("knowledge")
}
