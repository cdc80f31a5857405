//! LocalMiniLm against the real model files of the cache; fails (never skips) without them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jambo_worker::models::{Embedder, LocalMiniLm, LocalMiniLmConfig, ModelCache};

/// One model per test binary: loading takes a while and onnxruntime wants one environment.
fn model() -> &'static LocalMiniLm {
    static MODEL: OnceLock<LocalMiniLm> = OnceLock::new();
    MODEL.get_or_init(|| {
        let cache = ModelCache::from_env();
        LocalMiniLm::load(&cache, LocalMiniLmConfig::default()).unwrap_or_else(|err| {
            panic!(
                "this test needs the local embedding model: {err} \
                 (or set JAMBO_MODEL_CACHE to a cache that script filled)"
            )
        })
    })
}

fn embed(texts: &[&str]) -> Vec<Vec<f32>> {
    let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    model().embed_blocking(&texts).expect("embedding failed")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Inputs that must all work: empty, blank, long, and odd Unicode.
fn awkward_inputs() -> Vec<String> {
    vec![
        String::new(),
        " ".to_owned(),
        "\n\t\r  \u{0}\u{7}".to_owned(),
        "a".to_owned(),
        "How do I reset my password?".to_owned(),
        "word ".repeat(5_000),
        "x".repeat(200_000),
        "é".repeat(40_000),
        "\u{200b}\u{200d}\u{feff}\u{2066}zero width\u{2069}".to_owned(),
        "مرحبا، كيف يمكنني إعادة تعيين كلمة المرور؟".to_owned(),
        "パスワードをリセットするにはどうすればいいですか".to_owned(),
        "👩‍👩‍👧‍👦🏳️‍🌈 emoji 🤖".repeat(50),
        "\u{fffd}\u{10ffff}\u{e000} replacement and private use".to_owned(),
        "Z̴̧̛͉̝a̸͎̓l̶̙̈g̷̱̅o̴̗͝".to_owned(),
        "[CLS] [SEP] [PAD] [MASK] [UNK]".to_owned(),
    ]
}

#[test]
fn vectors_have_384_dimensions_and_unit_norm() {
    assert_eq!(model().dimension(), 384);
    assert_eq!(model().model_id(), "all-minilm-l6-v2-int8");
    let texts = awkward_inputs();
    let vectors = model().embed_blocking(&texts).expect("embedding failed");
    assert_eq!(vectors.len(), texts.len());
    for (text, vector) in texts.iter().zip(&vectors) {
        let preview: String = text.chars().take(30).collect();
        assert_eq!(vector.len(), 384, "input {preview:?}");
        assert!(vector.iter().all(|v| v.is_finite()), "input {preview:?}");
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "norm {norm} for input {preview:?}"
        );
    }
}

#[test]
fn empty_batch_gives_no_vectors() {
    assert!(model().embed_blocking(&[]).unwrap().is_empty());
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
    let v = embed(&[
        "How do I reset my password?",
        "I forgot my password and cannot log in.",
        "The invoice for March has been paid.",
        "Boundary layer separation on a swept wing at high Mach number.",
        "Shock wave interaction with the wing boundary layer at supersonic speed.",
    ]);
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[3]) + 0.2);
    assert!(cosine(&v[3], &v[4]) > cosine(&v[3], &v[2]) + 0.2);
}

#[test]
fn same_input_gives_same_vector() {
    let texts = ["Where can I download my invoices?", ""];
    assert_eq!(embed(&texts), embed(&texts));
}

#[test]
fn batch_matches_one_by_one() {
    // Int8 activations are quantized with one scale per tensor, so the other texts of a batch
    // shift a text's vector slightly: equal up to a cosine of 0.999, not bit for bit.
    let mut texts = awkward_inputs();
    texts.extend(
        (0..70).map(|i| format!("question number {i} about shipping, refunds and the {i}th order")),
    );
    let batched = model().embed_blocking(&texts).unwrap();
    for (text, in_batch) in texts.iter().zip(&batched) {
        let alone = &model().embed_blocking(std::slice::from_ref(text)).unwrap()[0];
        let similarity = cosine(in_batch, alone);
        let preview: String = text.chars().take(30).collect();
        assert!(
            similarity >= 0.999,
            "cosine {similarity} for input {preview:?}"
        );
    }
}

#[test]
fn truncates_like_the_model_max_length() {
    // 256 tokens: everything after the first ~250 words cannot change the vector.
    let head = "the quick brown fox jumps over the lazy dog ".repeat(40);
    let a = embed(&[&format!(
        "{head} and then something entirely different about invoices"
    )]);
    let b = embed(&[&format!(
        "{head} while the cat sleeps on the warm windowsill all day"
    )]);
    assert_eq!(a, b);
}

#[tokio::test(flavor = "current_thread")]
async fn embedding_does_not_block_the_async_thread() {
    // On a single-threaded runtime a ticker only advances if `embed` yields while the model runs.
    let ticks = std::sync::Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let texts: Vec<String> = (0..64).map(|i| format!("{i} ").repeat(100)).collect();
    let vectors = model().embed(&texts).await.unwrap();
    ticker.abort();
    assert_eq!(vectors.len(), 64);
    assert!(
        ticks.load(Ordering::Relaxed) > 2,
        "ticker starved: embed blocked the runtime"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_each_get_their_own_vectors() {
    let a: Vec<String> = vec!["refund policy".to_owned(); 40];
    let b: Vec<String> = vec!["wing aerodynamics".to_owned(); 40];
    let (va, vb) = tokio::join!(model().embed(&a), model().embed(&b));
    let (va, vb) = (va.unwrap(), vb.unwrap());
    let alone_a = &embed(&["refund policy"])[0];
    assert!(va.iter().all(|v| cosine(v, alone_a) > 0.999));
    assert!(vb.iter().all(|v| cosine(v, alone_a) < 0.9));
}
