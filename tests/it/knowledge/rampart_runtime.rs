//! The privacy issue's PII tagger (Rampart, int4/int8 BERT token classifier) runs on the same
//! onnxruntime as the embedder, in the same process: one forward pass, sane labels.

use jambo_worker::models::{LocalMiniLm, LocalMiniLmConfig, ModelCache, onnx_runtime};
use ort::value::Tensor;
use tokenizers::Tokenizer;

fn cache_or_fail() -> ModelCache {
    let cache = ModelCache::from_env();
    if let Err(err) = cache.rampart().and(cache.onnxruntime_library()) {
        panic!(
            "{err}\nthis test needs the model cache at {}",
            cache.dir().display()
        );
    }
    cache
}

#[test]
fn rampart_runs_one_forward_pass_next_to_the_embedder() {
    let cache = cache_or_fail();
    // The embedder first: both models must share the process's one onnxruntime environment.
    let embedder =
        LocalMiniLm::load(&cache, LocalMiniLmConfig::for_cores(1)).expect("embedder loads");
    assert_eq!(
        embedder.embed_blocking(&["hello".to_owned()]).unwrap()[0].len(),
        384
    );

    let files = cache.rampart().unwrap();
    let environment = onnx_runtime::environment(&cache.onnxruntime_library().unwrap()).unwrap();
    let mut session = onnx_runtime::session(
        &environment,
        &files.model,
        1,
        onnx_runtime::Allocation::PerRun,
    )
    .expect("rampart loads");
    let tokenizer = Tokenizer::from_file(&files.tokenizer).expect("rampart tokenizer loads");

    let text = "Hi, my name is Maria Gonzalez and I live at 42 Elm Street, Springfield.";
    let encoding = tokenizer.encode(text, true).unwrap();
    let tokens = encoding.len();
    let column = |values: &[u32]| -> Tensor<i64> {
        Tensor::from_array((
            [1, tokens],
            values.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(),
        ))
        .unwrap()
    };
    let outputs = session
        .run(ort::inputs![
            "input_ids" => column(encoding.get_ids()),
            "attention_mask" => column(encoding.get_attention_mask()),
            "token_type_ids" => column(encoding.get_type_ids()),
        ])
        .expect("forward pass");
    let (shape, logits) = outputs["logits"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(**shape, [1, tokens as i64, 35]);
    assert!(logits.iter().all(|v| v.is_finite()));

    // Label ids from its config.json: 1 B-GIVEN_NAME, 3 B-SURNAME, 23 B-BUILDING_NUMBER,
    // 25 B-STREET_NAME, 29 B-CITY.
    let labels: Vec<usize> = logits
        .chunks(35)
        .map(|row| {
            row.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        })
        .collect();
    let label_of = |word: &str| {
        let position = encoding.get_tokens().iter().position(|t| t == word);
        position.map(|p| labels[p])
    };
    assert_eq!(
        label_of("maria"),
        Some(1),
        "tokens {:?} labels {labels:?}",
        encoding.get_tokens()
    );
    assert_eq!(label_of("gonzalez"), Some(3), "labels {labels:?}");
    assert_eq!(label_of("42"), Some(23), "labels {labels:?}");
}
