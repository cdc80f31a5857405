//! The contract of the `VectorStore` trait, run against every implementation: the embedded
//! qdrant-edge store always (in a temp dir), and a Qdrant server only when `QDRANT_URL` is set
//! (an environment-gated backend: without a server the test says so and checks nothing).
//!
//! Vectors are small (8 dimensions) and synthetic: chunk `i` of the corpus points along axis
//! `topic`, so which chunk a dense query finds is known without an embedding model.

use std::sync::Arc;

use jambo_worker::knowledge::store::{
    ChunkPayload, ChunkPoint, EdgeStore, QdrantServerStore, SearchHit, SearchMode, SearchQuery,
    StoreError, VectorStore, chunk_id,
};

const DIM: usize = 8;

/// A unit vector along `axis`, with a little of `next` so vectors are not orthogonal duplicates.
fn axis(axis: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; DIM];
    v[axis % DIM] = 1.0;
    v[(axis + 1) % DIM] = 0.1;
    v
}

struct Doc {
    tenant: &'static str,
    source: &'static str,
    url: &'static str,
    index: u32,
    topic: usize,
    title: Option<&'static str>,
    text: &'static str,
}

const CORPUS: [Doc; 6] = [
    Doc {
        tenant: "a",
        source: "help",
        url: "https://acme.test/help/orders",
        index: 0,
        topic: 0,
        title: Some("Orders"),
        text: "How to request a refund for your order within thirty days.",
    },
    Doc {
        tenant: "a",
        source: "help",
        url: "https://acme.test/help/orders",
        index: 1,
        topic: 1,
        title: Some("Orders"),
        text: "Shipping times to Europe and customs fees on deliveries.",
    },
    Doc {
        tenant: "a",
        source: "help",
        url: "https://acme.test/help/login",
        index: 0,
        topic: 2,
        title: None,
        text: "Reset your password from the login page.",
    },
    Doc {
        tenant: "a",
        source: "docs",
        url: "https://acme.test/docs/pricing",
        index: 0,
        topic: 3,
        title: Some("Pricing"),
        text: "Pricing plans for teams and enterprises, billed yearly.",
    },
    Doc {
        tenant: "a",
        source: "docs",
        url: "https://acme.test/docs/warranty",
        index: 0,
        topic: 4,
        title: Some("Warranty"),
        text: "The warranty covers manufacturing defects for two years.",
    },
    // Tenant b has the same page, text and vector as tenant a's first chunk.
    Doc {
        tenant: "b",
        source: "help",
        url: "https://acme.test/help/orders",
        index: 0,
        topic: 0,
        title: Some("Orders"),
        text: "How to request a refund for your order within thirty days.",
    },
];

/// Tenant ids are namespaced per run, so a shared Qdrant collection never mixes runs.
struct Ns(String);

impl Ns {
    fn tenant(&self, t: &str) -> String {
        format!("{}-{t}", self.0)
    }
}

fn point(ns: &Ns, doc: &Doc) -> ChunkPoint {
    let tenant = ns.tenant(doc.tenant);
    // chunk fields set on one chunk only; page fields on every chunk of one page, as in real use
    let full = doc.index == 0 && doc.topic == 0;
    let page = doc.url.ends_with("/orders");
    ChunkPoint {
        id: chunk_id(&tenant, doc.source, doc.url, doc.index),
        dense: axis(doc.topic),
        payload: ChunkPayload {
            tenant_id: tenant,
            source_id: doc.source.into(),
            url: doc.url.into(),
            title: doc.title.map(str::to_owned),
            heading_path: if full {
                vec!["Help".into(), "Refunds & returns".into()]
            } else {
                vec![]
            },
            text: doc.text.into(),
            token_count: 12 + doc.index,
            chunk_index: doc.index,
            content_hash: format!("c-{}-{}", doc.url, doc.index),
            page_hash: format!("p-{}", doc.url),
            etag: page.then(|| "\"v1\"".to_owned()),
            last_modified: page.then(|| "Tue, 01 Dec 2026 10:00:00 GMT".to_owned()),
            sitemap_lastmod: page.then(|| "2026-12-01".to_owned()),
            language: page.then(|| "en".to_owned()),
            fetched_at: "2026-12-02T08:30:00Z".into(),
            pii_tags: if full {
                vec!["EMAIL".into(), "PERSON".into()]
            } else {
                vec![]
            },
            training_opt_in: full,
        },
    }
}

fn query(ns: &Ns, tenant: &str, text: &str, topic: usize, mode: SearchMode) -> SearchQuery {
    SearchQuery {
        tenant_id: ns.tenant(tenant),
        source_id: None,
        text: text.into(),
        dense: axis(topic),
        limit: 10,
        mode,
    }
}

const MODES: [SearchMode; 3] = [SearchMode::Hybrid, SearchMode::Dense, SearchMode::Bm25];

fn assert_ranked(hits: &[SearchHit], limit: usize, what: &str) {
    assert!(
        hits.len() <= limit,
        "{what}: {} hits above limit {limit}",
        hits.len()
    );
    for pair in hits.windows(2) {
        assert!(
            pair[0].score >= pair[1].score,
            "{what}: scores not descending: {} then {}",
            pair[0].score,
            pair[1].score
        );
    }
}

async fn search(store: &dyn VectorStore, q: &SearchQuery) -> Vec<SearchHit> {
    let hits = store
        .search(q)
        .await
        .unwrap_or_else(|e| panic!("search {:?} failed: {e}", q.mode));
    assert_ranked(&hits, q.limit, &format!("{:?}", q.mode));
    hits
}

/// Every check of the contract, on an empty store (or an empty namespace of a shared one).
async fn conformance(store: &dyn VectorStore, ns: &Ns) {
    assert_eq!(store.dimension(), DIM);
    let points: Vec<ChunkPoint> = CORPUS.iter().map(|d| point(ns, d)).collect();
    let (a, b) = (ns.tenant("a"), ns.tenant("b"));
    store.upsert(points.clone()).await.expect("upsert");
    assert_eq!(store.count(&a, None).await.unwrap(), 5);
    assert_eq!(store.count(&a, Some("help")).await.unwrap(), 3);
    assert_eq!(store.count(&b, None).await.unwrap(), 1);

    // dense: the query vector picks the chunk
    let hits = search(store, &query(ns, "a", "", 2, SearchMode::Dense)).await;
    assert_eq!(hits[0].chunk_id, points[2].id);
    assert_eq!(hits.len(), 5);
    // BM25: the keyword picks the chunk even though the dense vector points elsewhere
    let hits = search(
        store,
        &query(ns, "a", "warranty defects", 0, SearchMode::Bm25),
    )
    .await;
    assert_eq!(hits[0].chunk_id, points[4].id, "bm25 top hit");
    assert_eq!(hits.len(), 1, "bm25 only returns chunks with a query term");
    // stemming: "refunds" finds "refund", a title word finds its page's chunks
    let hits = search(store, &query(ns, "a", "Refunds", 5, SearchMode::Bm25)).await;
    assert_eq!(hits[0].chunk_id, points[0].id);
    let hits = search(store, &query(ns, "a", "orders", 5, SearchMode::Bm25)).await;
    let mut ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
    ids.sort();
    let mut want = vec![points[0].id.as_str(), points[1].id.as_str()];
    want.sort();
    assert_eq!(ids, want, "a title term matches every chunk of the page");
    // hybrid: agreement wins; each retriever contributes its own best
    let hits = search(store, &query(ns, "a", "warranty", 4, SearchMode::Hybrid)).await;
    assert_eq!(hits[0].chunk_id, points[4].id);
    let hits = search(store, &query(ns, "a", "password", 1, SearchMode::Hybrid)).await;
    let top2: Vec<&str> = hits.iter().take(2).map(|h| h.chunk_id.as_str()).collect();
    assert!(
        top2.contains(&points[1].id.as_str()) && top2.contains(&points[2].id.as_str()),
        "hybrid top two holds the dense best and the BM25 best"
    );
    // hits carry what a citation needs
    let hit = &search(store, &query(ns, "a", "refund", 0, SearchMode::Hybrid)).await[0];
    assert_eq!(hit.chunk_id, points[0].id);
    assert_eq!(hit.payload.url, "https://acme.test/help/orders");
    assert_eq!(hit.payload.title.as_deref(), Some("Orders"));
    assert!(hit.payload.text.starts_with("How to request a refund"));

    // payload round-trips exactly: every field, lists, flags and None values
    for (topic, original) in [(0, &points[0]), (2, &points[2])] {
        let hits = search(store, &query(ns, "a", "", topic, SearchMode::Dense)).await;
        assert_eq!(hits[0].chunk_id, original.id);
        assert_eq!(hits[0].payload, original.payload, "payload round trip");
    }

    // tenant isolation in every mode: the same text and vector exist in tenant b
    for mode in MODES {
        let hits = search(store, &query(ns, "a", "refund order", 0, mode)).await;
        assert!(!hits.is_empty(), "{mode:?}");
        assert!(hits.iter().all(|h| h.payload.tenant_id == a), "{mode:?}");
        assert!(hits.iter().all(|h| h.chunk_id != points[5].id), "{mode:?}");
        let hits = search(store, &query(ns, "b", "refund order", 0, mode)).await;
        let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
        assert_eq!(
            ids,
            vec![points[5].id.as_str()],
            "{mode:?}: only tenant b's chunk"
        );
        let hits = search(store, &query(ns, "nobody", "refund order", 0, mode)).await;
        assert!(hits.is_empty(), "{mode:?}: an unknown tenant sees nothing");
    }

    // source filter in every mode
    for mode in MODES {
        let mut q = query(ns, "a", "refund pricing warranty", 0, mode);
        q.source_id = Some("docs".into());
        let hits = search(store, &q).await;
        assert!(!hits.is_empty(), "{mode:?}");
        assert!(
            hits.iter()
                .all(|h| h.payload.source_id == "docs" && h.payload.tenant_id == a),
            "{mode:?}: only tenant a's docs"
        );
    }

    // limit respected in every mode
    for mode in MODES {
        let mut q = query(
            ns,
            "a",
            "refund shipping password pricing warranty",
            0,
            mode,
        );
        q.limit = 2;
        assert_eq!(search(store, &q).await.len(), 2, "{mode:?}");
        q.limit = 0;
        assert!(search(store, &q).await.is_empty(), "{mode:?}");
    }

    // blank or stopword-only text: hybrid falls back to dense, BM25 finds nothing
    for text in ["", "   ", "the of and"] {
        let hits = search(store, &query(ns, "a", text, 3, SearchMode::Hybrid)).await;
        assert_eq!(hits[0].chunk_id, points[3].id, "hybrid with {text:?}");
        assert!(
            search(store, &query(ns, "a", text, 3, SearchMode::Bm25))
                .await
                .is_empty()
        );
    }

    // pages: one record per URL with its chunk count and page fields
    let pages = store.pages(&a, "help").await.unwrap();
    assert_eq!(pages.len(), 2, "{pages:?}");
    let orders = pages
        .iter()
        .find(|p| p.url == "https://acme.test/help/orders")
        .expect("orders page");
    assert_eq!(orders.chunks, 2);
    assert_eq!(orders.page_hash, "p-https://acme.test/help/orders");
    assert_eq!(orders.sitemap_lastmod.as_deref(), Some("2026-12-01"));
    let login = pages
        .iter()
        .find(|p| p.url == "https://acme.test/help/login")
        .expect("login page");
    assert_eq!((login.chunks, login.etag.as_deref()), (1, None));
    assert!(store.pages(&a, "nope").await.unwrap().is_empty());
    assert_eq!(store.pages(&b, "help").await.unwrap().len(), 1);

    // upsert of an existing id replaces it
    let mut changed = points[2].clone();
    changed.payload.text = "Change your password in the account settings.".into();
    changed.payload.title = Some("Account".into());
    changed.payload.pii_tags = vec!["SECRET".into()];
    store.upsert(vec![changed.clone()]).await.unwrap();
    assert_eq!(store.count(&a, None).await.unwrap(), 5, "replace, not add");
    let hits = search(
        store,
        &query(ns, "a", "account settings", 2, SearchMode::Hybrid),
    )
    .await;
    assert_eq!(hits[0].chunk_id, changed.id);
    assert_eq!(hits[0].payload, changed.payload);
    assert!(
        search(store, &query(ns, "a", "login", 2, SearchMode::Bm25))
            .await
            .is_empty(),
        "the old text's terms are gone from the BM25 index"
    );

    // bad input is an Invalid error, not a panic
    let mut wrong = points[0].clone();
    wrong.dense = vec![0.5; DIM + 1];
    let err = store.upsert(vec![wrong]).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(!err.is_retryable());
    let mut nan = points[0].clone();
    nan.dense[0] = f32::NAN;
    assert!(matches!(
        store.upsert(vec![nan]).await,
        Err(StoreError::Invalid(_))
    ));
    let mut not_uuid = points[0].clone();
    not_uuid.id = "chunk-1".into();
    assert!(matches!(
        store.upsert(vec![not_uuid]).await,
        Err(StoreError::Invalid(_))
    ));
    let mut no_tenant = points[0].clone();
    no_tenant.payload.tenant_id.clear();
    assert!(matches!(
        store.upsert(vec![no_tenant]).await,
        Err(StoreError::Invalid(_))
    ));
    for mode in [SearchMode::Hybrid, SearchMode::Dense] {
        let mut q = query(ns, "a", "refund", 0, mode);
        q.dense = vec![0.1; DIM - 1];
        let err = store.search(&q).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{mode:?}: {err:?}");
    }
    let mut q = query(ns, "a", "refund", 0, SearchMode::Bm25);
    q.dense = vec![];
    assert_eq!(
        search(store, &q).await[0].chunk_id,
        points[0].id,
        "bm25 needs no vector"
    );
    let mut q = query(ns, "a", "refund", 0, SearchMode::Hybrid);
    q.tenant_id.clear();
    assert!(matches!(
        store.search(&q).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.count("", None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.delete_tenant("").await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.count(&a, None).await.unwrap(),
        5,
        "failed upserts wrote nothing"
    );

    // deletes return counts and remove exactly their scope
    assert_eq!(
        store
            .delete_page(&a, "help", "https://acme.test/help/orders")
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.count(&a, Some("help")).await.unwrap(), 1);
    assert_eq!(
        store.count(&b, None).await.unwrap(),
        1,
        "same URL in tenant b kept"
    );
    assert_eq!(
        store
            .delete_page(&a, "help", "https://acme.test/help/orders")
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.delete_source(&a, "docs").await.unwrap(), 2);
    assert_eq!(store.count(&a, None).await.unwrap(), 1);
    assert_eq!(store.delete_source(&a, "docs").await.unwrap(), 0);
    assert_eq!(store.delete_tenant(&a).await.unwrap(), 1);
    assert_eq!(store.count(&a, None).await.unwrap(), 0);
    for mode in MODES {
        assert!(
            search(store, &query(ns, "a", "refund password", 2, mode))
                .await
                .is_empty()
        );
    }
    assert_eq!(store.count(&b, None).await.unwrap(), 1);
    assert_eq!(store.delete_tenant(&b).await.unwrap(), 1);
    assert_eq!(store.count(&b, None).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = EdgeStore::open_async(&dir.path().join("vectors"), DIM)
        .await
        .expect("open");
    assert_eq!(store.backend(), "qdrant-edge");
    conformance(&store, &Ns("t".into())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_persists_across_reopen_and_refuses_another_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let ns = Ns("t".into());
    let points: Vec<ChunkPoint> = CORPUS.iter().map(|d| point(&ns, d)).collect();
    {
        let store = EdgeStore::open_async(&path, DIM).await.unwrap();
        store.upsert(points.clone()).await.unwrap();
        assert_eq!(
            store.delete_source(&ns.tenant("a"), "docs").await.unwrap(),
            2
        );
    }
    let store = EdgeStore::open_async(&path, DIM).await.unwrap();
    assert_eq!(store.count(&ns.tenant("a"), None).await.unwrap(), 3);
    assert_eq!(store.count(&ns.tenant("b"), None).await.unwrap(), 1);
    let hits = search(&store, &query(&ns, "a", "password", 2, SearchMode::Hybrid)).await;
    assert_eq!(hits[0].chunk_id, points[2].id);
    assert_eq!(hits[0].payload, points[2].payload);
    drop(store);

    let err = EdgeStore::open_async(&path, DIM * 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Mismatch(_)), "{err:?}");
    // the refused open released the lock
    EdgeStore::open_async(&path, DIM).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_second_open_of_the_same_dir_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let store = EdgeStore::open_async(&path, DIM).await.unwrap();

    // a second open file description in this process conflicts (flock semantics)
    let err = EdgeStore::open_async(&path, DIM).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("locked by another process"));

    // and so does another process, which is what the lock is for
    let lock = path.join("LOCK");
    match std::process::Command::new("flock")
        .arg("--nonblock")
        .arg(&lock)
        .arg("true")
        .status()
    {
        Ok(status) => assert!(!status.success(), "another process took the store's lock"),
        Err(err) => println!("flock(1) not available ({err}); checked in-process only"),
    }

    drop(store);
    let store = EdgeStore::open_async(&path, DIM)
        .await
        .expect("reopen after release");
    if let Ok(status) = std::process::Command::new("flock")
        .arg("--nonblock")
        .arg(&lock)
        .arg("true")
        .status()
    {
        assert!(!status.success());
    }
    drop(store);
    if let Ok(status) = std::process::Command::new("flock")
        .arg("--nonblock")
        .arg(&lock)
        .arg("true")
        .status()
    {
        assert!(
            status.success(),
            "the lock is free once the store is dropped"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_store_is_usable_as_a_shared_trait_object_from_many_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn VectorStore> = Arc::new(
        EdgeStore::open_async(&dir.path().join("vectors"), DIM)
            .await
            .unwrap(),
    );
    let ns = Ns("t".into());
    let mut tasks = Vec::new();
    for i in 0..8u32 {
        let store = Arc::clone(&store);
        let mut p = point(&ns, &CORPUS[(i % 5) as usize]);
        p.id = chunk_id(&p.payload.tenant_id, "bulk", "https://acme.test/bulk", i);
        p.payload.source_id = "bulk".into();
        let q = query(&ns, "a", "refund", 0, SearchMode::Hybrid);
        tasks.push(tokio::spawn(async move {
            store.upsert(vec![p]).await.unwrap();
            store.search(&q).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.count(&ns.tenant("a"), Some("bulk")).await.unwrap(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qdrant_server_conformance_when_qdrant_url_set() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty()) else {
        println!(
            "QDRANT_URL is not set: the Qdrant server backend was not checked \
             (set QDRANT_URL=http://127.0.0.1:6334, and QDRANT_API_KEY if needed)"
        );
        return;
    };
    let api_key = std::env::var("QDRANT_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let collection = format!("jambo_it_{}_{nanos}", std::process::id());
    let store =
        QdrantServerStore::connect(&url, api_key.as_deref(), &collection, DIM).expect("client");
    store
        .ensure_collection()
        .await
        .expect("create the collection");
    assert_eq!(store.backend(), "qdrant");
    // a second store on the same collection with another dimension is refused
    let other =
        QdrantServerStore::connect(&url, api_key.as_deref(), &collection, DIM + 1).expect("client");
    assert!(matches!(
        other.ensure_collection().await,
        Err(StoreError::Mismatch(_))
    ));

    conformance(&store, &Ns(format!("run{nanos}"))).await;

    let admin = qdrant_client::Qdrant::from_url(&url)
        .api_key(api_key)
        .skip_compatibility_check()
        .build()
        .expect("admin client");
    admin
        .delete_collection(collection.as_str())
        .await
        .expect("drop the test collection");
}
