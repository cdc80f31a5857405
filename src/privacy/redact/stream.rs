//! Bounded-memory redaction of arbitrarily large input: the text is read in windows of about
//! [`WINDOW`] bytes, cut at whitespace, with [`CONTEXT`] bytes of the previous window kept as
//! left context so cue-based detectors still see what came before.
//!
//! Invariant: a window's output ends at a cut that no detected entity and no placeholder-shaped
//! string crosses (the cut moves to its start, or past its end when it starts the window), so
//! every entity is replaced whole exactly once and the pseudonymizer sees every placeholder-shaped
//! string of the input whole: the output restores to the input. Memory is bounded by the window
//! plus the job's placeholder map.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use super::Redactor;
use super::entity::{Entity, EntityType};
use super::pseudonym::{PLACEHOLDER_LIKE, Pseudonymizer};
use super::text::floor_boundary;

/// Bytes of new text per window.
pub const WINDOW: usize = 64 * 1024;
/// Bytes of already-written text kept as left context for the next window, and of look-ahead
/// past a window's cut.
pub const CONTEXT: usize = 1024;

/// Window sizes of [`redact_stream_with`]. The default is [`WINDOW`] and [`CONTEXT`]; small
/// windows put many cuts into short texts (tests and the fuzz target use them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamWindow {
    /// Bytes of new text per window; raised to twice `context` when smaller, so a cut in the
    /// window's second half still leaves `context` bytes of look-ahead.
    pub window: usize,
    /// Bytes of left context and of look-ahead past a cut; keep it above the longest entity
    /// and placeholder-shaped string (about 120 bytes) that must never be cut.
    pub context: usize,
}

impl Default for StreamWindow {
    fn default() -> Self {
        Self {
            window: WINDOW,
            context: CONTEXT,
        }
    }
}

/// Totals of a streamed redaction (no content).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamSummary {
    pub bytes_read: u64,
    pub counts_by_type: BTreeMap<EntityType, usize>,
}

/// Redacts everything `reader` yields into `writer`, decoding lossily like
/// [`Pseudonymizer::redact_bytes`]; placeholders come from `pseudonymizer`, so the output can be
/// restored with it.
pub fn redact_stream<R: Read, W: Write>(
    redactor: &Redactor,
    pseudonymizer: &mut Pseudonymizer,
    reader: R,
    writer: W,
) -> io::Result<StreamSummary> {
    redact_stream_with(
        redactor,
        pseudonymizer,
        reader,
        writer,
        StreamWindow::default(),
    )
}

/// [`redact_stream`] with the given window sizes.
pub fn redact_stream_with<R: Read, W: Write>(
    redactor: &Redactor,
    pseudonymizer: &mut Pseudonymizer,
    mut reader: R,
    mut writer: W,
    sizes: StreamWindow,
) -> io::Result<StreamSummary> {
    let sizes = StreamWindow {
        window: sizes.window.max(2 * sizes.context).max(1),
        ..sizes
    };
    let mut summary = StreamSummary::default();
    let mut decoder = Utf8Decoder::default();
    let mut window = String::new();
    // window[..written] is context that was already written out
    let mut written = 0;
    let mut block = vec![0u8; 16 * 1024];
    let mut eof = false;
    loop {
        while !eof && window.len() - written < sizes.window {
            let n = read_retrying(&mut reader, &mut block)?;
            summary.bytes_read += n as u64;
            eof = n == 0;
            decoder.decode(block.get(..n).unwrap_or(&[]), eof, &mut window);
        }
        if written == window.len() {
            break;
        }
        let entities = redactor.detect(&window);
        let cut = if eof {
            window.len()
        } else {
            safe_cut(&window, written, &entities, sizes.context)
        };
        // An entity that starts in the context (already written) but reaches into the new text
        // is clipped to its new part: the context may give the model a span the previous window
        // did not see whole, and what is not yet written can still be protected.
        let own: Vec<Entity> = entities
            .into_iter()
            .filter(|e| e.end > written && e.start < cut)
            .map(|e| Entity {
                start: e.start.max(written) - written,
                end: e.end.min(cut) - written,
                ..e
            })
            .filter(|e| e.start < e.end)
            .collect();
        // later rounds as in `Pseudonymizer::redact`: a name half-replaced in the first round
        // ("<PERSON_3> Solberg") is found whole on the second
        let redacted =
            pseudonymizer.redact_detected(redactor, window.get(written..cut).unwrap_or(""), own);
        writer.write_all(redacted.text.as_bytes())?;
        for (kind, n) in redacted.counts_by_type {
            *summary.counts_by_type.entry(kind).or_insert(0) += n;
        }
        let keep_from = context_start(&window, cut, sizes.context);
        window.drain(..keep_from);
        written = cut - keep_from;
    }
    writer.flush()?;
    Ok(summary)
}

/// Where this window's output ends: the last whitespace in the second half of the new text
/// that still leaves `context` bytes of look-ahead, moved so that no entity and no
/// placeholder-shaped string crosses it.
fn safe_cut(window: &str, written: usize, entities: &[Entity], context: usize) -> usize {
    let from = floor_boundary(window, written + (window.len() - written) / 2);
    let to = floor_boundary(window, window.len().saturating_sub(context)).max(from);
    let mut cut = window
        .get(from..to)
        .and_then(|region| region.rfind(char::is_whitespace))
        .map_or(to, |i| from + i);
    if cut <= written {
        cut = window.len();
    }
    if let Some(&(start, end)) = no_cut_spans(window, entities)
        .iter()
        .find(|&&(start, end)| start < cut && cut < end)
    {
        cut = if start > written { start } else { end };
    }
    cut
}

/// The spans a cut must not cross: entities and placeholder-shaped strings, overlapping ones
/// merged, so that moving the cut to one's edge never lands inside another.
fn no_cut_spans(window: &str, entities: &[Entity]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = entities
        .iter()
        .map(|e| (e.start, e.end))
        .chain(
            PLACEHOLDER_LIKE
                .find_iter(window)
                .map(|m| (m.start(), m.end())),
        )
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The start of the context kept for the next window: about `context` bytes before `cut`,
/// moved forward to a whitespace so no word is cut in half.
fn context_start(window: &str, cut: usize, context: usize) -> usize {
    let start = floor_boundary(window, cut.saturating_sub(context));
    let region = window.get(start..cut).unwrap_or("");
    region.find(char::is_whitespace).map_or(cut, |i| start + i)
}

fn read_retrying<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Incremental lossy UTF-8 decoding: an incomplete sequence at the end of a block waits for the
/// next block; every invalid sequence becomes one U+FFFD, as in `String::from_utf8_lossy`.
#[derive(Default)]
struct Utf8Decoder {
    pending: Vec<u8>,
}

impl Utf8Decoder {
    fn decode(&mut self, block: &[u8], eof: bool, out: &mut String) {
        self.pending.extend_from_slice(block);
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(len) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = after.get(len..).unwrap_or(&[]);
                        }
                        None if eof => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &[];
                            break;
                        }
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::super::RedactorConfig;
    use super::*;

    #[test]
    fn streamed_output_matches_whole_text_redaction() {
        let redactor = Redactor::new(RedactorConfig::default());
        let line = "Contact jo@example.com or card 4111 1111 1111 1111, ip 10.0.0.1 — Grüße! ";
        let text = line.repeat(5000);
        let mut streamed = Vec::new();
        let mut p1 = Pseudonymizer::new();
        let summary = redact_stream(&redactor, &mut p1, text.as_bytes(), &mut streamed).unwrap();
        let mut p2 = Pseudonymizer::new();
        let whole = p2.redact(&redactor, &text);
        let streamed = String::from_utf8(streamed).unwrap();
        let first_diff = streamed
            .bytes()
            .zip(whole.text.bytes())
            .position(|(a, b)| a != b);
        let around = |s: &str, i: usize| {
            s.get(i.saturating_sub(60)..(i + 60).min(s.len()))
                .unwrap_or("")
                .to_owned()
        };
        let context = first_diff.map(|i| (around(&streamed, i), around(&whole.text, i)));
        assert_eq!((context, streamed.len()), (None, whole.text.len()));
        assert_eq!(summary.counts_by_type, whole.counts_by_type);
        assert_eq!(summary.bytes_read, text.len() as u64);
    }

    #[test]
    fn small_windows_restore_and_keep_a_pasted_placeholder_apart() {
        let redactor = Redactor::new(RedactorConfig::default());
        // jo@example.com's placeholder is issued in an early window; a pasted "<EMAIL_1>" comes
        // after the first 16 KiB read, so the first windows have not seen it
        let text = format!(
            "mail jo@example.com now. {} my old draft said <EMAIL_1> and ann@example.org. {}[credit card 2] and < person 3 >",
            "filler words here ".repeat(1000),
            "more filler ".repeat(40),
        );
        let mut p = Pseudonymizer::new();
        let mut out = Vec::new();
        let sizes = StreamWindow {
            window: 1,
            context: 128,
        };
        redact_stream_with(&redactor, &mut p, text.as_bytes(), &mut out, sizes).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("mail <EMAIL_1> now."), "{out}");
        assert!(out.contains("said <EMAIL_2> and <EMAIL_3>."), "{out}");
        assert!(out.ends_with("[credit card 2] and < person 3 >"), "{out}");
        assert_eq!(p.restore(&out).text, text);
    }

    #[test]
    fn invalid_utf8_split_across_blocks() {
        let mut decoder = Utf8Decoder::default();
        let mut out = String::new();
        let bytes = "aé€😀".as_bytes();
        for b in bytes {
            decoder.decode(&[*b], false, &mut out);
        }
        decoder.decode(b"\xff\xe2\x82", true, &mut out);
        assert_eq!(out, "aé€😀\u{fffd}\u{fffd}");
        assert_eq!(
            out,
            String::from_utf8_lossy(b"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xe2\x82")
        );
    }

    #[test]
    fn text_without_whitespace_still_progresses() {
        let redactor = Redactor::new(RedactorConfig::default());
        let text = "x".repeat(3 * WINDOW + 17);
        let mut out = Vec::new();
        redact_stream(
            &redactor,
            &mut Pseudonymizer::new(),
            text.as_bytes(),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, text.as_bytes());
    }
}
