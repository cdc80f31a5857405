//! Property tests: the chunker never panics, never exceeds `max_tokens`, reports exact token
//! counts and covers every word; extraction never panics on arbitrary input.

use jambo_worker::knowledge::{
    Block, BlockKind, ChunkConfig, Chunker, Document, extract_bytes, extract_html, extract_markdown,
};
use proptest::prelude::*;

/// Words of mixed scripts, punctuation and sentence ends, at most 12 characters each.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,10}",
        "[A-Z][a-z]{0,8}[.!?]",
        "[a-zäöüß]{1,8}[,;:]?",
        "[0-9]{1,6}",
        "[а-я]{1,8}",
        "[一-龥]{1,4}[。]?",
        "(https?://[a-z]{1,5}\\.com|e\\.g\\.|\\$[a-z]{1,4}|\\{\\}|->|😀{1,3})",
    ]
}

fn block() -> impl Strategy<Value = Block> {
    let kind = prop_oneof![
        (1u8..=3).prop_map(|level| BlockKind::Heading { level }),
        Just(BlockKind::Paragraph),
        Just(BlockKind::Paragraph),
        (1u8..=3).prop_map(|depth| BlockKind::ListItem { depth }),
        Just(BlockKind::TableRow),
        Just(BlockKind::Code { language: None }),
    ];
    let length = prop_oneof![1usize..8, 8usize..80, 80usize..700];
    (
        kind,
        length.prop_flat_map(|length| prop::collection::vec(word(), length)),
        0usize..3,
    )
        .prop_map(|(kind, words, depth)| {
            let separator = if matches!(kind, BlockKind::Code { .. }) {
                "\n  "
            } else {
                " "
            };
            Block {
                kind,
                text: words.join(separator),
                heading_path: (0..depth).map(|level| format!("Section {level}")).collect(),
            }
        })
}

fn document() -> impl Strategy<Value = Document> {
    (
        prop::collection::vec(block(), 0..25),
        prop::option::of("[A-Za-z ]{0,20}"),
    )
        .prop_map(|(blocks, title)| Document {
            title,
            language: None,
            blocks,
        })
}

fn config() -> impl Strategy<Value = ChunkConfig> {
    (16usize..300, 0usize..40).prop_flat_map(|(target_tokens, slack)| {
        (
            Just(target_tokens),
            8usize..=target_tokens / 2,
            Just(target_tokens + slack),
        )
            .prop_map(|(target_tokens, overlap_tokens, max_tokens)| ChunkConfig {
                target_tokens,
                overlap_tokens,
                max_tokens,
                ..ChunkConfig::default()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases_from_env(96), ..ProptestConfig::default() })]

    #[test]
    fn chunks_are_bounded_exact_and_cover_every_word(document in document(), config in config()) {
        let chunker = Chunker::new(config.clone()).unwrap();
        let chunks = chunker.chunk(&document);
        for (position, chunk) in chunks.iter().enumerate() {
            prop_assert_eq!(chunk.index, position);
            prop_assert!(chunk.token_count <= config.max_tokens, "chunk {} has {} tokens", position, chunk.token_count);
            prop_assert_eq!(chunk.token_count, reference_count(&config.encoding, &chunk.text));
            prop_assert!(!chunk.text.trim().is_empty());
            prop_assert!(chunk.block_range.start < chunk.block_range.end);
            prop_assert!(chunk.block_range.end <= document.blocks.len());
        }
        for block in &document.blocks {
            for word in block.text.split_whitespace() {
                let covered = chunks[..].iter().any(|chunk| {
                    chunk.block_range.contains(&block_index(&document, block)) && chunk.text.contains(word)
                });
                prop_assert!(covered, "word {:?} of block {:?} is in no chunk", word, block.text);
            }
        }
        if document.blocks.iter().all(|block| block.text.trim().is_empty()) {
            prop_assert!(chunks.is_empty());
        }
    }

    #[test]
    fn fast_cl100k_count_matches_tiktoken(text in prop_oneof![
        "\\PC{0,300}",
        "[ \t\n\r\u{a0}\u{3000}a-zA-Z0-9'!.,;:()\\-_/]{0,200}",
        "(( {1,4}|\t|\n{1,3}|\r\n)?([a-z]{1,6}|[0-9]{1,5}|'s|'LL|[!?.]{1,3}|😀|é|中文|\u{300}))*",
    ]) {
        let chunker = Chunker::new(ChunkConfig::default()).unwrap();
        prop_assert_eq!(chunker.count_tokens(&text), reference_count("cl100k_base", &text), "{:?}", text);
    }

    #[test]
    fn extraction_never_panics_on_arbitrary_text(text in "\\PC{0,400}", tags in prop::collection::vec("<(/?)(p|div|li|ul|table|tr|td|pre|h[1-6]|main|article|nav|script)>", 0..30)) {
        let mut html = text.clone();
        for (position, tag) in tags.iter().enumerate() {
            let at = (position * 37) % (html.len() + 1);
            let at = (0..=at).rev().find(|index| html.is_char_boundary(*index)).unwrap_or(0);
            html.insert_str(at, tag);
        }
        let document = extract_html(&html, &text);
        let chunker = Chunker::new(ChunkConfig { target_tokens: 32, overlap_tokens: 8, max_tokens: 32, ..ChunkConfig::default() }).unwrap();
        for chunk in chunker.chunk(&document) {
            prop_assert!(chunk.token_count <= 32);
        }
        let _ = extract_markdown(&html);
    }

    #[test]
    fn decoding_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), label in "(utf-8|utf-16le|shift_jis|windows-1252|bogus|)") {
        let content_type = format!("text/html; charset={label}");
        let _ = extract_bytes(&bytes, Some(&content_type), "");
        let _ = extract_bytes(&bytes, Some("text/plain"), "");
        let _ = extract_bytes(&bytes, Some("text/markdown"), "");
        let _ = extract_bytes(&bytes, Some("application/pdf"), "");
    }
}

/// Token count straight from tiktoken-rs, the reference the chunker's counting must match.
fn reference_count(encoding: &str, text: &str) -> usize {
    let tokenizer = match encoding {
        "o200k_base" => tiktoken_rs::o200k_base_singleton(),
        _ => tiktoken_rs::cl100k_base_singleton(),
    };
    tokenizer.encode_ordinary(text).len()
}

/// Index of a block in its document, by identity (blocks may repeat by value).
fn block_index(document: &Document, block: &Block) -> usize {
    document
        .blocks
        .iter()
        .position(|candidate| std::ptr::eq(candidate, block))
        .unwrap_or(usize::MAX)
}

/// `PROPTEST_CASES` overrides the number of cases (CI runs the default; a soak run sets more).
fn cases_from_env(default_cases: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default_cases)
}
