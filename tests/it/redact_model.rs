//! The model tier (Rampart on ONNX Runtime) through the public interface: it finds names and
//! addresses the fast tier's cues miss, its offsets are exact on multibyte text, odd input never
//! panics, and the redactor's properties still hold with it on (few proptest cases: the model is
//! slow next to the patterns).
//!
//! Needs the model cache (`scripts/fetch-models.sh`); fails with the fetch hint without it.

use std::sync::LazyLock;

use jambo_worker::models::ModelCache;
use jambo_worker::privacy::redact::{
    Entity, EntityType, ModelTierConfig, Pseudonymizer, Redactor, RedactorConfig, redact_stream,
};
use proptest::prelude::*;

fn model_config() -> ModelTierConfig {
    let cache = ModelCache::from_env();
    ModelTierConfig::from_cache(&cache).unwrap_or_else(|| {
        panic!(
            "the model tier needs the Rampart files and libonnxruntime in {}; run scripts/fetch-models.sh",
            cache.dir().display()
        )
    })
}

/// No name lists, so the fast tier has only its cues and the model's contribution shows.
static FAST: LazyLock<Redactor> = LazyLock::new(|| Redactor::new(RedactorConfig::default()));
static WITH_MODEL: LazyLock<Redactor> = LazyLock::new(|| {
    Redactor::try_new(RedactorConfig {
        model: Some(model_config()),
        ..RedactorConfig::default()
    })
    .expect("model tier loads")
});

fn spans<'a>(text: &'a str, entities: &[Entity], kind: EntityType) -> Vec<&'a str> {
    entities
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| &text[e.start..e.end])
        .collect()
}

#[test]
fn model_tier_finds_names_the_fast_tier_misses() {
    let cases = [
        (
            "Yesterday Ingrid Solberg visited the Oslo office with the new contracts.",
            "Ingrid Solberg",
        ),
        (
            "The invoice was approved by Kwame Mensah before the deadline.",
            "Kwame Mensah",
        ),
        (
            "We had lunch with Priya Raghunathan after the workshop.",
            "Priya Raghunathan",
        ),
    ];
    assert!(WITH_MODEL.has_model());
    for (text, name) in cases {
        let fast = FAST.detect(text);
        assert!(
            !spans(text, &fast, EntityType::Person).contains(&name),
            "the fast tier already finds {name:?}: pick a harder sentence"
        );
        let found = WITH_MODEL.detect(text);
        let people = spans(text, &found, EntityType::Person);
        assert!(people.contains(&name), "{text:?}: {people:?}");
    }
}

#[test]
fn model_tier_finds_street_addresses() {
    let text = "Please ship it to 742 Evergreen Terrace, Springfield before Friday.";
    let found = WITH_MODEL.detect(text);
    let addresses = spans(text, &found, EntityType::StreetAddress);
    assert!(
        addresses
            .iter()
            .any(|a| a.contains("742 Evergreen Terrace")),
        "{addresses:?}"
    );
}

#[test]
fn validated_entities_win_over_model_spans() {
    let text = "Ingrid Solberg paid with 4111 1111 1111 1111 and wrote from ingrid@example.com.";
    let found = WITH_MODEL.detect(text);
    let kinds: Vec<(EntityType, &str)> = found
        .iter()
        .map(|e| (e.kind, &text[e.start..e.end]))
        .collect();
    assert!(
        kinds.contains(&(EntityType::CreditCard, "4111 1111 1111 1111")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(EntityType::Email, "ingrid@example.com")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(EntityType::Person, "Ingrid Solberg")),
        "{kinds:?}"
    );
}

#[test]
fn offsets_are_exact_on_multibyte_text() {
    let prefix = "Grüße 😀 日本語のテキスト。 ";
    let text = format!("{prefix}Yesterday Ingrid Solberg visited Zoë in Malmö.");
    let found = WITH_MODEL.detect(&text);
    for e in &found {
        assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
        let piece = &text[e.start..e.end];
        assert_eq!(piece.trim(), piece);
    }
    let people = spans(&text, &found, EntityType::Person);
    assert!(people.contains(&"Ingrid Solberg"), "{people:?}");
    let start = text.find("Ingrid").unwrap();
    assert!(
        found
            .iter()
            .any(|e| e.start == start && e.end == start + "Ingrid Solberg".len())
    );
}

#[test]
fn odd_input_never_panics() {
    let long_prose = "Yesterday Ingrid Solberg met Kwame Mensah at 742 Evergreen Terrace. \
                      They talked about the weather and the invoices for a long time. "
        .repeat(800); // ~100 KB: many model windows with stride
    assert!(long_prose.len() > 100_000);
    let inputs = [
        String::new(),
        " \n\t ".into(),
        "0123456789".repeat(3_000),
        "مرحبا بالعالم، اسمي أحمد علي وأسكن في القاهرة. שלום, שמי דוד כהן.".into(),
        "\u{202e}Ingrid Solberg\u{202c} \u{200b}\u{feff}".into(),
        "A".repeat(20_000),
        "<PERSON_1> <EMAIL_2> met <PERSON_3>".into(),
        long_prose.clone(),
    ];
    for text in &inputs {
        let found = WITH_MODEL.detect(text);
        let mut last_end = 0;
        for e in &found {
            assert!(e.start >= last_end && e.start < e.end && e.end <= text.len());
            assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
            last_end = e.end;
        }
        if *text == long_prose {
            // every repetition of the names is found, also in the later windows
            let people = spans(text, &found, EntityType::Person);
            let solbergs = people.iter().filter(|p| **p == "Ingrid Solberg").count();
            assert!(solbergs >= 790, "{solbergs} of 800");
        }
    }
}

#[test]
fn placeholders_are_never_model_entities() {
    let text = "<PERSON_1> met <PERSON_2> at <STREET_ADDRESS_1>.";
    assert!(WITH_MODEL.detect(text).is_empty());
}

#[test]
fn streaming_with_the_model_restores_exactly() {
    let text = "Dear team, Ingrid Solberg and Kwame Mensah will visit 742 Evergreen Terrace. "
        .repeat(1_000); // ~77 KB: two stream windows
    let mut p = Pseudonymizer::new();
    let mut out = Vec::new();
    let summary = redact_stream(&WITH_MODEL, &mut p, text.as_bytes(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains("Solberg"));
    assert!(
        summary
            .counts_by_type
            .get(&EntityType::Person)
            .copied()
            .unwrap_or(0)
            >= 1_900
    );
    assert_eq!(p.restore(&out).text, text);
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Yesterday Ingrid Solberg visited.".to_string()),
        Just("Kwame Mensah lives at 742 Evergreen Terrace, Springfield".to_string()),
        Just("jo@example.com".to_string()),
        Just("4111 1111 1111 1111".to_string()),
        Just("<PERSON_1>".to_string()),
        Just("مرحبا بالعالم שלום".to_string()),
        Just("\u{202e}evil\u{202c} 日本語 Ελληνικά".to_string()),
        "[A-Za-z ,.:'\n]{0,40}",
        any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..6).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn with_the_model_restore_inverts_redact_and_redacting_again_changes_nothing(text in text()) {
        let mut p = Pseudonymizer::new();
        let redacted = p.redact(&WITH_MODEL, &text);
        let mut last_end = 0;
        for e in &redacted.entities {
            prop_assert!(e.start >= last_end && e.start < e.end && e.end <= text.len());
            prop_assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
            last_end = e.end;
        }
        prop_assert_eq!(&p.restore(&redacted.text).text, &text);
        let again = Pseudonymizer::new().redact(&WITH_MODEL, &redacted.text).text;
        prop_assert_eq!(again, redacted.text);
    }
}
