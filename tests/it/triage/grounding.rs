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

const PRICING: &str = "[1] Plans and pricing (https://help.acme.example/pricing)\nThe Pro plan costs $25 per user per month, or $240 per user per year billed annually. Teams of 10 or more can ask sales for a quote.\n\n";
const OUTLOOK: &str = "[2] Connect Outlook (https://help.acme.example/integrations/outlook)\nThe Outlook integration is included in the Pro and Business plans. Open Settings > Integrations > Outlook and sign in.\n\n";

/// A reply as SmolLM2-sized models write it: facts with and without citations, a citation of a
/// passage that was never shown, a price the passages do not name, a marker after the stop.
#[test]
fn every_fact_of_a_reply_cites_a_shown_passage_that_supports_it() {
    use jambo_worker::triage::grounding::check_reply;
    let conversation = "customer: Hi, does the Pro plan include Outlook, and what does it cost?";
    let draft = "Hi Maria! The Outlook integration is included in the Pro plan [2]. \
        The Pro plan costs $25 per user per month. [1] \
        Annual billing gives you a 40% discount [1]. \
        You can also pay by invoice [7]. \
        Business plans include priority integrations with every calendar. \
        Let me know if you have any other questions!";
    let checked = check_reply(draft, &[PRICING, OUTLOOK], conversation);
    insta::assert_snapshot!(
        "reply_check",
        format!(
            "text: {}\ncited: {:?}\nremoved:\n- {}",
            checked.text,
            checked.cited,
            checked.removed.join("\n- ")
        )
    );
    assert_eq!(checked.cited, vec![2, 1]);
    for gone in ["40%", "invoice", "calendar", "[7]"] {
        assert!(
            !checked.text.contains(gone),
            "{gone} survived: {}",
            checked.text
        );
    }
    assert!(checked.text.starts_with("Hi Maria!"));
    assert!(checked.text.ends_with("other questions!"));
}

/// A reply that only asks a colleague to follow up needs no citation; one with nothing
/// supported keeps nothing.
#[test]
fn a_reply_with_no_supported_fact_keeps_nothing_but_courtesy() {
    use jambo_worker::triage::grounding::check_reply;
    let checked = check_reply(
        "Thanks for your message. A colleague will follow up shortly.",
        &[PRICING],
        "customer: can I pay with crypto?",
    );
    assert!(checked.removed.is_empty(), "{:?}", checked.removed);
    assert!(checked.cited.is_empty());
    let checked = check_reply(
        "Yes, we accept Bitcoin at 2% off. Call 0800 123 456 [1].",
        &[PRICING],
        "customer: can I pay with crypto?",
    );
    assert!(checked.cited.is_empty(), "{checked:?}");
    assert_eq!(checked.removed.len(), 2, "{checked:?}");
}
