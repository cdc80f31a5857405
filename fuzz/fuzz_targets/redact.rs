//! Fuzz target: arbitrary bytes through detection, pseudonymisation, restore and streaming.
//! Checks the contract's invariants, not just the absence of panics.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use jambo_worker::privacy::redact::{Pseudonymizer, Redactor, RedactorConfig, redact_stream};

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| Redactor::new(RedactorConfig::default()));

fuzz_target!(|data: &[u8]| {
    for e in REDACTOR.detect_bytes(data) {
        assert!(e.start < e.end && e.end <= data.len());
    }

    let text = String::from_utf8_lossy(data);
    let mut p = Pseudonymizer::new();
    let redacted = p.redact(&REDACTOR, &text);
    assert_eq!(p.restore(&redacted.text).text, text);
    let again = Pseudonymizer::new().redact(&REDACTOR, &redacted.text);
    assert_eq!(again.text, redacted.text);

    let mut out = Vec::new();
    redact_stream(&REDACTOR, &mut Pseudonymizer::new(), data, &mut out).expect("writing to a Vec");
});
