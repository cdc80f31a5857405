//! Fuzz target: arbitrary bytes through detection, pseudonymisation, restore and streaming.
//! Checks the contract's invariants, not just the absence of panics.
//!
//! Tier: the fast tier alone by default. With `JAMBO_FUZZ_MODELS` set to the model cache
//! (`~/.cache/jambo-worker/models`), the worker's default configuration: the name lists from that
//! cache, and the model tier too unless `JAMBO_FUZZ_TIER=fast`. See `scripts/fuzz.sh`.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use jambo_worker::models::ModelCache;
use jambo_worker::privacy::redact::{
    ModelTierConfig, Pseudonymizer, Redactor, RedactorConfig, StreamWindow, redact_stream,
    redact_stream_with,
};
use libfuzzer_sys::fuzz_target;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| {
    let Some(models) = std::env::var_os("JAMBO_FUZZ_MODELS").map(PathBuf::from) else {
        return Redactor::new(RedactorConfig::default());
    };
    let model = if std::env::var("JAMBO_FUZZ_TIER").as_deref() == Ok("fast") {
        None
    } else {
        let tier = ModelTierConfig::from_cache(&ModelCache::new(&models));
        assert!(
            tier.is_some(),
            "JAMBO_FUZZ_MODELS has no model tier: run scripts/fetch-models.sh"
        );
        tier
    };
    Redactor::new(RedactorConfig {
        name_lists_dir: Some(models.join("names")),
        model,
        ..RedactorConfig::default()
    })
});

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

    // the stream with small windows, fed a few bytes per read (UTF-8 split across reads): many
    // cuts in a short input; its output restores to the input with the same pseudonymizer
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let sizes = StreamWindow {
        window: 256 + usize::from(shape & 0x3f) * 8,
        context: 128,
    };
    let reader = Trickle {
        data: rest,
        step: 1 + usize::from(shape >> 6) * 7,
    };
    let mut p = Pseudonymizer::new();
    let mut out = Vec::new();
    redact_stream_with(&REDACTOR, &mut p, reader, &mut out, sizes).expect("writing to a Vec");
    let out = String::from_utf8(out).expect("the stream writes UTF-8");
    assert_eq!(p.restore(&out).text, String::from_utf8_lossy(rest));
});

/// A reader that yields at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        let (now, later) = self.data.split_at(n);
        buf[..n].copy_from_slice(now);
        self.data = later;
        Ok(n)
    }
}
