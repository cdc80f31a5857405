//! Chunking: breaks at headings, paragraphs and sentences, overlap, context, exact counts,
//! configuration errors and hostile text.

use jambo_worker::knowledge::{
    Block, BlockKind, ChunkConfig, ChunkConfigError, Chunker, Document, extract_html,
    extract_markdown,
};

use super::support::{fixture_text, render_chunks};

fn chunker(target_tokens: usize, overlap_tokens: usize, max_tokens: usize) -> Chunker {
    Chunker::new(ChunkConfig {
        target_tokens,
        overlap_tokens,
        max_tokens,
        ..ChunkConfig::default()
    })
    .expect("valid config")
}

fn paragraph(text: &str, path: &[&str]) -> Block {
    Block {
        kind: BlockKind::Paragraph,
        text: text.to_string(),
        heading_path: path.iter().map(|heading| heading.to_string()).collect(),
    }
}

fn heading(level: u8, path: &[&str]) -> Block {
    Block {
        kind: BlockKind::Heading { level },
        text: path.last().copied().unwrap_or_default().to_string(),
        heading_path: path.iter().map(|heading| heading.to_string()).collect(),
    }
}

/// `count` sentences of about 12 tokens each, numbered so every one is distinct.
fn sentences(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|index| {
            format!("{prefix} sentence number {index} explains one more detail of the feature.")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_exact_and_bounded(chunker: &Chunker, chunks: &[jambo_worker::knowledge::Chunk]) {
    for chunk in chunks {
        assert_eq!(
            chunk.token_count,
            chunker.count_tokens(&chunk.text),
            "chunk {}",
            chunk.index
        );
        assert!(
            chunk.token_count <= chunker.config().max_tokens,
            "chunk {} has {}",
            chunk.index,
            chunk.token_count
        );
    }
}

#[test]
fn help_center_article_chunks() {
    let document = extract_html(&fixture_text("help_center_article.html"), "");
    let chunker = chunker(48, 8, 56);
    let chunks = chunker.chunk(&document);
    insta::assert_snapshot!(render_chunks(&chunks));
    assert_exact_and_bounded(&chunker, &chunks);
}

#[test]
fn markdown_guide_chunks_with_default_config() {
    let document = extract_markdown(&fixture_text("guide.md"));
    let chunker = Chunker::new(ChunkConfig::default()).unwrap();
    let chunks = chunker.chunk(&document);
    insta::assert_snapshot!(render_chunks(&chunks));
    assert_exact_and_bounded(&chunker, &chunks);
}

#[test]
fn empty_document_gives_no_chunk() {
    let chunker = Chunker::new(ChunkConfig::default()).unwrap();
    assert!(chunker.chunk(&Document::default()).is_empty());
}

#[test]
fn sections_of_a_fair_size_never_share_a_chunk() {
    let document = Document {
        title: Some("Billing".into()),
        language: Some("en".into()),
        blocks: vec![
            heading(1, &["Billing"]),
            paragraph(&sentences("Invoices", 6), &["Billing"]),
            heading(2, &["Billing", "Refunds"]),
            paragraph(&sentences("Refunds", 6), &["Billing", "Refunds"]),
        ],
    };
    let chunker = chunker(256, 32, 300);
    let chunks = chunker.chunk(&document);
    assert_eq!(chunks.len(), 2, "{}", extract_render(&chunks));
    assert_eq!(chunks[0].heading_path, ["Billing"]);
    assert!(
        chunks[1]
            .text
            .starts_with("Refunds\n\nRefunds sentence number 0")
    );
    assert_eq!(chunks[1].heading_path, ["Billing", "Refunds"]);
    assert_eq!(chunks[1].block_range, 2..4);
    // no overlap across a heading
    assert!(!chunks[1].text.contains("Invoices"));
}

#[test]
fn long_sections_break_at_paragraphs_then_sentences_and_overlap() {
    let blocks: Vec<Block> = (0..6)
        .map(|index| paragraph(&sentences(&format!("P{index}"), 5), &["Guide"]))
        .collect();
    let document = Document {
        title: None,
        language: None,
        blocks,
    };
    let chunker = chunker(128, 16, 160);
    let chunks = chunker.chunk(&document);
    assert_exact_and_bounded(&chunker, &chunks);
    assert!(chunks.len() >= 3);
    for pair in chunks.windows(2) {
        let last_sentence = pair[0].text.rsplit(". ").next().unwrap_or_default();
        assert!(
            pair[1].text.contains(last_sentence.trim_end_matches('.')),
            "no overlap between {} and {}",
            pair[0].index,
            pair[1].index
        );
    }
    // paragraph boundaries were preferred over filling up to the target mid-paragraph
    for chunk in &chunks {
        assert!(
            chunk
                .text
                .ends_with("number 4 explains one more detail of the feature."),
            "{}",
            chunk.text
        );
    }
}

#[test]
fn giant_sentence_is_cut_into_token_windows() {
    let giant = (0..3000)
        .map(|index| format!("word{index}"))
        .collect::<Vec<_>>()
        .join(" ");
    let document = Document {
        title: None,
        language: None,
        blocks: vec![paragraph(&giant, &[])],
    };
    let chunker = chunker(100, 10, 100);
    let chunks = chunker.chunk(&document);
    assert_exact_and_bounded(&chunker, &chunks);
    assert!(chunks.len() > 10);
    let all_text: String = chunks
        .iter()
        .map(|chunk| chunk.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for index in [0, 1, 999, 1500, 2999] {
        assert!(
            all_text.contains(&format!("word{index}")),
            "word{index} lost"
        );
    }
}

#[test]
fn hostile_runs_of_one_character_do_not_panic() {
    let blocks = vec![
        paragraph(&"A".repeat(1_000_000), &[]),
        paragraph(&"-".repeat(200_000), &[]),
        Block {
            kind: BlockKind::Code { language: None },
            text: format!("{}x\n{}", " ".repeat(100_000), "\t".repeat(50_000)),
            heading_path: vec![],
        },
        paragraph(&"😀".repeat(10_000), &[]),
    ];
    let document = Document {
        title: None,
        language: None,
        blocks,
    };
    let chunker = chunker(256, 32, 256);
    let chunks = chunker.chunk(&document);
    assert_exact_and_bounded(&chunker, &chunks);
    assert!(chunks.len() > 100);
}

#[test]
fn embedding_text_prefixes_title_and_heading_path() {
    let document = Document {
        title: Some("Acme Help".into()),
        language: None,
        blocks: vec![paragraph("Click Save.", &["Settings", "Profile"])],
    };
    let chunks = Chunker::new(ChunkConfig::default())
        .unwrap()
        .chunk(&document);
    assert_eq!(chunks[0].text, "Click Save.");
    assert_eq!(
        chunks[0].embedding_text(),
        "Acme Help > Settings > Profile\n\nClick Save."
    );
    let untitled = jambo_worker::knowledge::Chunk {
        title: None,
        heading_path: vec![],
        ..chunks[0].clone()
    };
    assert_eq!(untitled.embedding_text(), "Click Save.");
    let repeated = jambo_worker::knowledge::Chunk {
        title: Some("Profile".into()),
        heading_path: vec!["Profile".into()],
        ..chunks[0].clone()
    };
    assert_eq!(repeated.context(), "Profile");
}

#[test]
fn configuration_is_validated() {
    let config = |target_tokens, overlap_tokens, max_tokens| ChunkConfig {
        target_tokens,
        overlap_tokens,
        max_tokens,
        ..ChunkConfig::default()
    };
    assert_eq!(
        Chunker::new(config(4, 0, 10)).unwrap_err(),
        ChunkConfigError::TargetTooSmall(4)
    );
    assert!(matches!(
        Chunker::new(config(100, 60, 100)).unwrap_err(),
        ChunkConfigError::OverlapTooLarge { .. }
    ));
    assert!(matches!(
        Chunker::new(config(100, 10, 99)).unwrap_err(),
        ChunkConfigError::MaxBelowTarget { .. }
    ));
    let unknown = ChunkConfig {
        encoding: "gpt2-ish".into(),
        ..ChunkConfig::default()
    };
    assert_eq!(
        Chunker::new(unknown).unwrap_err().to_string(),
        "unknown tiktoken encoding \"gpt2-ish\""
    );
}

#[test]
fn other_encodings_are_supported() {
    let chunker = Chunker::new(ChunkConfig {
        encoding: "o200k_base".into(),
        ..ChunkConfig::default()
    })
    .unwrap();
    let document = extract_html(&fixture_text("german.html"), "");
    let chunks = chunker.chunk(&document);
    assert_exact_and_bounded(&chunker, &chunks);
    assert_eq!(chunks.len(), 1);
}

fn extract_render(chunks: &[jambo_worker::knowledge::Chunk]) -> String {
    render_chunks(chunks)
}

#[test]
fn words_stay_whole_across_token_windows() {
    // one "sentence" far over the target, of words that are several tokens each
    let giant = (0..400)
        .map(|index| format!("繘咢瘫烧{index} шошъу{index}"))
        .collect::<Vec<_>>()
        .join(" ");
    let document = Document {
        title: None,
        language: None,
        blocks: vec![paragraph(&giant, &[])],
    };
    let chunker = chunker(19, 8, 23);
    let chunks = chunker.chunk(&document);
    assert_exact_and_bounded(&chunker, &chunks);
    for word in giant.split(' ') {
        assert!(
            chunks
                .iter()
                .any(|chunk| chunk.text.split(' ').any(|piece| piece == word)),
            "{word} was cut"
        );
    }
}
