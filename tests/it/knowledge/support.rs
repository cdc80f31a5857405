//! Test helpers shared by every module: fixture paths and text renderings used by snapshots.

use std::path::PathBuf;

use jambo_worker::knowledge::{BlockKind, Chunk, Document};

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract")
        .join(name)
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture exists")
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture_bytes(name)).expect("fixture is utf-8")
}

/// One line per block: kind, heading path, text (code blocks indented on their own lines).
pub fn render_document(document: &Document) -> String {
    let mut out = format!(
        "title: {:?}\nlanguage: {:?}\n",
        document.title, document.language
    );
    for block in &document.blocks {
        let kind = match &block.kind {
            BlockKind::Heading { level } => format!("h{level}"),
            BlockKind::Paragraph => "p".to_string(),
            BlockKind::ListItem { depth } => format!("li{depth}"),
            BlockKind::TableRow => "tr".to_string(),
            BlockKind::Code { language } => format!("code({})", language.as_deref().unwrap_or("-")),
        };
        let path = block.heading_path.join(" > ");
        if matches!(block.kind, BlockKind::Code { .. }) {
            out.push_str(&format!("[{kind} @ {path}]\n"));
            for line in block.text.lines() {
                out.push_str(&format!("    |{line}\n"));
            }
        } else {
            out.push_str(&format!("[{kind} @ {path}] {}\n", block.text));
        }
    }
    out
}

pub fn render_chunks(chunks: &[Chunk]) -> String {
    let mut out = String::new();
    for chunk in chunks {
        out.push_str(&format!(
            "--- chunk {} | {} tokens | blocks {:?} | context: {}\n{}\n",
            chunk.index,
            chunk.token_count,
            chunk.block_range,
            chunk.context(),
            chunk.text
        ));
    }
    out
}
