//! Grounding on the labelled lead corpus (`fixtures/corpus`): the local engine's own extraction
//! passes the same checks as a model's, and on realistic leads it extracts nothing the lead does
//! not contain. The development split only; the test split's figure is in the README.

use std::path::Path;

use jambo_worker::eval::triage::{EngineChoice, Run, Split, evaluate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_engine_extracts_nothing_the_lead_does_not_contain() {
    let dir = tempfile::tempdir().expect("tempdir");
    // the local engine whatever the environment names
    let config = crate::support::local_config(dir.path());
    std::fs::create_dir_all(&config.data_dir).expect("data dir");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let report = evaluate(
        &config,
        &corpus,
        &Run {
            split: Split::Dev,
            engine: EngineChoice::Local,
            limit: None,
        },
    )
    .await
    .expect("report");
    assert!(report.overall.leads >= 250, "{}", report.overall.leads);
    assert!(
        report.overall.grounding_dropped.is_empty(),
        "the local engine extracted values that are not in the lead: {:?}",
        report.overall.grounding_dropped
    );
}
