//! Throughput bench (harness = false): chunking MB/s of our `Chunker` next to the
//! `text-splitter` crate with the same cl100k tokenizer, chunk size and overlap, on the
//! Cranfield abstracts and on generated big Markdown documents; and extraction pages/s on the
//! HTML fixtures.
//!
//! Run: `nice -n 15 cargo bench --bench chunking`
//! (set `CRANFIELD=/path/to/cran.all.1400` to point elsewhere; `BENCH_ROUNDS` for rounds).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jambo_worker::knowledge::{
    ChunkConfig, Chunker, Document, extract_html_bytes, extract_markdown, extract_text,
};
use text_splitter::{ChunkCapacity, MarkdownSplitter, TextSplitter};

const TARGET_TOKENS: usize = 256;
const OVERLAP_TOKENS: usize = 32;
const MAX_TOKENS: usize = 320;

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3);
    let chunker = Chunker::new(ChunkConfig {
        target_tokens: TARGET_TOKENS,
        overlap_tokens: OVERLAP_TOKENS,
        max_tokens: MAX_TOKENS,
        ..ChunkConfig::default()
    })
    .expect("bench config is valid");
    let tokenizer = tiktoken_rs::cl100k_base_singleton();
    let capacity = ChunkCapacity::new(TARGET_TOKENS)
        .with_max(MAX_TOKENS)
        .expect("capacity");
    let splitter_config = || {
        text_splitter::ChunkConfig::new(capacity)
            .with_sizer(tokenizer)
            .with_overlap(OVERLAP_TOKENS)
            .expect("overlap below capacity")
    };
    let text_splitter = TextSplitter::new(splitter_config());
    let markdown_splitter = MarkdownSplitter::new(splitter_config());

    println!(
        "chunking: target {TARGET_TOKENS}, overlap {OVERLAP_TOKENS}, max {MAX_TOKENS} tokens, cl100k_base, best of {rounds} rounds"
    );
    println!(
        "{:<34} {:>9} {:>10} {:>9} {:>11}",
        "corpus / chunker", "MB", "seconds", "MB/s", "chunks"
    );

    let cranfield = cranfield_documents();
    let markdown = generated_markdown(4, 400_000);
    let markdown_documents: Vec<Document> =
        markdown.iter().map(|text| extract_markdown(text)).collect();

    for (corpus_name, documents, raw_markdown) in [
        ("cranfield 1400 abstracts", &cranfield, None),
        (
            "generated markdown 4 x 400 KB",
            &markdown_documents,
            Some(&markdown),
        ),
    ] {
        let plain_texts: Vec<String> = documents.iter().map(Document::plain_text).collect();
        let megabytes = plain_texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;

        let (encode_once, tokens) = best_of(rounds, || {
            plain_texts
                .iter()
                .map(|text| tokenizer.encode_ordinary(text).len())
                .sum()
        });
        report(
            corpus_name,
            "floor: cl100k encode once",
            megabytes,
            encode_once,
            tokens,
        );

        let (ours, our_chunks) = best_of(rounds, || {
            documents
                .iter()
                .map(|document| chunker.chunk(document).len())
                .sum()
        });
        report(corpus_name, "ours (Chunker)", megabytes, ours, our_chunks);

        let (theirs, their_chunks) = best_of(rounds, || {
            plain_texts
                .iter()
                .map(|text| text_splitter.chunks(text).count())
                .sum()
        });
        report(
            corpus_name,
            "text-splitter TextSplitter",
            megabytes,
            theirs,
            their_chunks,
        );
        println!(
            "{:<34} ratio ours / text-splitter: {:.2}x (ours costs {:.2}x one tokenisation)",
            "",
            theirs.as_secs_f64() / ours.as_secs_f64(),
            ours.as_secs_f64() / encode_once.as_secs_f64()
        );

        if let Some(raw) = raw_markdown {
            let raw_megabytes = raw.iter().map(String::len).sum::<usize>() as f64 / 1e6;
            let (markdown_time, markdown_chunks) = best_of(rounds, || {
                raw.iter()
                    .map(|text| markdown_splitter.chunks(text).count())
                    .sum()
            });
            report(
                corpus_name,
                "text-splitter MarkdownSplitter*",
                raw_megabytes,
                markdown_time,
                markdown_chunks,
            );
            println!("{:<34} (* on the raw Markdown, {raw_megabytes:.2} MB)", "");
        }
    }

    extraction_throughput();
}

fn best_of(rounds: usize, mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        count = black_box(run());
        best = best.min(started.elapsed());
    }
    (best, count)
}

fn report(corpus: &str, chunker: &str, megabytes: f64, elapsed: Duration, count: usize) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "{:<34} {:>9.2} {:>10.3} {:>9.2} {:>11}",
        format!("{corpus}: {chunker}"),
        megabytes,
        seconds,
        megabytes / seconds,
        count
    );
}

/// The 1,400 Cranfield abstracts, each a document titled by its `.T` field.
fn cranfield_documents() -> Vec<Document> {
    let path = std::env::var("CRANFIELD")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/datasets/cranfield/cran.all.1400")
        });
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let raw = raw.replace("\r\n", "\n");
    let mut documents = Vec::new();
    for record in raw.split(".I ").skip(1) {
        let field = |name: &str| -> String {
            let Some(start) = record.find(&format!("\n.{name}\n")) else {
                return String::new();
            };
            let body = &record[start + name.len() + 3..];
            let end = body.find("\n.").unwrap_or(body.len());
            body[..end].to_string()
        };
        let title = field("T").split_whitespace().collect::<Vec<_>>().join(" ");
        let mut document = extract_text(&field("W"));
        document.title = Some(title);
        documents.push(document);
    }
    assert_eq!(documents.len(), 1400, "cranfield has 1400 abstracts");
    documents
}

/// Deterministic help-center-like Markdown: headings, prose, lists, tables and code.
fn generated_markdown(count: usize, bytes_each: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "account",
        "billing",
        "the",
        "a",
        "your",
        "workspace",
        "invoice",
        "agent",
        "ticket",
        "reply",
        "customer",
        "settings",
        "click",
        "open",
        "select",
        "and",
        "to",
        "of",
        "in",
        "is",
        "can",
        "webhook",
        "integration",
        "permissions",
        "admin",
        "team",
        "export",
        "report",
        "channel",
        "email",
        "chat",
        "priority",
        "status",
        "automatically",
        "within",
        "minutes",
        "after",
        "before",
        "when",
        "every",
        "new",
        "update",
        "delete",
        "password",
        "security",
        "language",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    let sentence = |next: &mut dyn FnMut(usize) -> usize| {
        let length = 6 + next(18);
        let words: Vec<&str> = (0..length).map(|_| WORDS[next(WORDS.len())]).collect();
        let sentence = words.join(" ");
        format!("{}{}.", sentence[..1].to_uppercase(), &sentence[1..])
    };
    (0..count)
        .map(|_| {
            let mut text = String::from("# Generated help center\n\n");
            let mut section = 0;
            while text.len() < bytes_each {
                section += 1;
                text.push_str(&format!("## Section {section}\n\n"));
                for subsection in 0..1 + next(3) {
                    text.push_str(&format!("### Topic {section}.{subsection}\n\n"));
                    for _ in 0..1 + next(4) {
                        let paragraph: Vec<String> = (0..2 + next(6)).map(|_| sentence(&mut next)).collect();
                        text.push_str(&paragraph.join(" "));
                        text.push_str("\n\n");
                    }
                    match next(4) {
                        0 => {
                            for _ in 0..2 + next(5) {
                                text.push_str(&format!("- {}\n", sentence(&mut next)));
                            }
                            text.push('\n');
                        }
                        1 => {
                            text.push_str("| Plan | Limit | Note |\n|---|---|---|\n");
                            for row in 0..2 + next(4) {
                                text.push_str(&format!("| plan {row} | {} | {} |\n", next(1000), sentence(&mut next)));
                            }
                            text.push('\n');
                        }
                        2 => {
                            text.push_str("```bash\n");
                            for line in 0..2 + next(8) {
                                text.push_str(&format!("curl -X POST https://api.example.com/v1/items/{line} -d '{{\"id\": {}}}'\n", next(99999)));
                            }
                            text.push_str("```\n\n");
                        }
                        _ => {}
                    }
                }
            }
            text
        })
        .collect()
}

/// Pages per second of `extract_html_bytes` (charset decoding, parsing, main-content walk,
/// language) over the HTML fixtures of the test suite.
fn extraction_throughput() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut pages: Vec<Vec<u8>> = Vec::new();
    for directory in [fixtures.clone(), fixtures.join("site")] {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        paths.sort();
        for path in paths {
            if path
                .extension()
                .is_some_and(|extension| extension == "html")
            {
                pages.push(std::fs::read(&path).expect("fixture readable"));
            }
        }
    }
    let total_bytes: usize = pages.iter().map(Vec::len).sum();
    let mut extracted = 0usize;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        for page in &pages {
            black_box(extract_html_bytes(
                page,
                None,
                "https://help.example.com/page",
            ));
            extracted += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let rounds = extracted / pages.len().max(1);
    println!(
        "extraction: {} fixture pages ({:.1} KB), {extracted} extractions in {seconds:.2} s: {:.0} pages/s, {:.2} MB/s",
        pages.len(),
        total_bytes as f64 / 1e3,
        extracted as f64 / seconds,
        (total_bytes * rounds) as f64 / 1e6 / seconds
    );
}
