//! Property tests of the redactor's contract: never panics, restore(redact(x)) == x (also for
//! several texts through one job's pseudonymizer, and for the stream cut in small windows),
//! redacting redacted text changes nothing, offsets are valid char-boundary spans.

use std::sync::LazyLock;

use jambo_worker::privacy::redact::{
    Pseudonymizer, Redactor, RedactorConfig, StreamWindow, decode_lossy, redact_stream_with,
};
use proptest::prelude::*;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| Redactor::new(RedactorConfig::default()));

/// Fragments that trigger detectors, mixed with hostile text (RTL, mixed scripts, digits,
/// existing and mangled placeholders).
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("jo@example.com".to_string()),
        Just("+44 20 7946 0958".to_string()),
        Just("4111 1111 1111 1111".to_string()),
        Just("GB82 WEST 1234 5698 7654 32".to_string()),
        Just("SSN 460-89-9847".to_string()),
        Just("10.0.0.1 and fe80::1ff:fe23:4567:890a".to_string()),
        Just("My name is Anna Kowalska".to_string()),
        Just("Hi John,".to_string()),
        Just("221B Baker Street, London NW1 6XE".to_string()),
        Just("password: Tr0ub4dor&3".to_string()),
        Just("born on 3 May 1975".to_string()),
        Just("ghp_abcdefghijklmnopqrstuvwxyz0123456789".to_string()),
        Just("https://bob:pw@host/x?token=abc".to_string()),
        Just("<PERSON_1>".to_string()),
        Just("<EMAIL_2> PERSON_3 [phone 1] <person 1>".to_string()),
        Just("177.7777\u{fffd}7777777".to_string()),
        Just("2Apoulev44.000000$".to_string()),
        Just("88887773.ss/\u{17})222)2272)2".to_string()),
        Just("مرحبا بالعالم שלום".to_string()),
        Just("\u{202e}evil\u{202c} 日本語 Ελληνικά".to_string()),
        "[0-9 ./+()-]{0,40}",
        "[A-Za-z ,.:'\n]{0,40}",
        any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..8).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn entities_are_sorted_disjoint_char_spans(text in text()) {
        let entities = REDACTOR.detect(&text);
        let mut last_end = 0;
        for e in &entities {
            prop_assert!(e.start < e.end && e.end <= text.len());
            prop_assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
            prop_assert!(e.start >= last_end);
            last_end = e.end;
        }
    }

    #[test]
    fn restore_inverts_redact(text in text()) {
        let mut p = Pseudonymizer::new();
        let redacted = p.redact(&REDACTOR, &text);
        let mut last_end = 0;
        for e in &redacted.entities {
            prop_assert!(e.start >= last_end && e.start < e.end && e.end <= text.len());
            last_end = e.end;
        }
        let restored = p.restore(&redacted.text);
        prop_assert_eq!(&restored.text, &text);
        prop_assert!(restored.unknown.is_empty());
    }

    #[test]
    fn one_job_restores_each_of_its_texts(texts in prop::collection::vec(text(), 1..4)) {
        // a later text may hold, verbatim, a placeholder an earlier one was given
        let mut p = Pseudonymizer::new();
        let mut redacted: Vec<String> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let pasted = redacted.last().map(String::as_str).unwrap_or("");
            let text = if i % 2 == 1 { format!("{text} {pasted}") } else { text.clone() };
            redacted.push(p.redact(&REDACTOR, &text).text);
            prop_assert_eq!(&p.restore(redacted.last().unwrap()).text, &text);
        }
    }

    #[test]
    fn small_window_streams_restore(text in text(), window in 1usize..600) {
        let mut p = Pseudonymizer::new();
        let mut out = Vec::new();
        let sizes = StreamWindow { window, context: 128 };
        redact_stream_with(&REDACTOR, &mut p, text.as_bytes(), &mut out, sizes).unwrap();
        let out = String::from_utf8(out).unwrap();
        prop_assert_eq!(&p.restore(&out).text, &text);
    }

    #[test]
    fn redacting_redacted_text_changes_nothing(text in text()) {
        let once = Pseudonymizer::new().redact(&REDACTOR, &text).text;
        let twice = Pseudonymizer::new().redact(&REDACTOR, &once).text;
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn bytes_offsets_point_into_the_original(bytes in prop::collection::vec(any::<u8>(), 0..300), tail in text()) {
        let mut input = bytes;
        input.extend_from_slice(tail.as_bytes());
        let decoded = decode_lossy(&input);
        for e in REDACTOR.detect_bytes(&input) {
            prop_assert!(e.start < e.end && e.end <= input.len());
        }
        prop_assert_eq!(decoded.text(), String::from_utf8_lossy(&input));
    }
}

#[test]
fn all_digits_and_huge_inputs_do_not_panic() {
    let digits = "0123456789".repeat(10_000);
    let _ = REDACTOR.detect(&digits);
    let spaced = "12 34 56 78 90 ".repeat(5_000);
    let _ = REDACTOR.detect(&spaced);
    let mut p = Pseudonymizer::new();
    let redacted = p.redact(&REDACTOR, &spaced);
    assert_eq!(p.restore(&redacted.text).text, spaced);
}
