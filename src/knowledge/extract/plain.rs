//! Plain text and PDF extraction: paragraphs are separated by blank lines. PDFs are read with
//! `pdf-extract` (pure Rust, on `lopdf`), which can panic on hostile files, so it runs under
//! `catch_unwind` and a panic becomes [`ExtractError::PdfUnreadable`].

use super::normalize::normalize_whitespace;
use super::{Block, BlockKind, Document, ExtractError};
use crate::text::language;

/// Extracts plain text: one paragraph per run of non-blank lines; no title.
pub fn extract_text(text: &str) -> Document {
    let blocks = paragraphs(text);
    let language = language::detect_any(text).map(str::to_string);
    Document {
        title: None,
        language,
        blocks,
    }
}

/// Extracts the text layer of a PDF. A PDF that parses but yields no text (a scan) is
/// [`ExtractError::PdfWithoutText`]; a corrupt one, or one that makes the parser panic, is
/// [`ExtractError::PdfUnreadable`].
pub fn extract_pdf(bytes: &[u8]) -> Result<Document, ExtractError> {
    let outcome = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    let text = match outcome {
        Ok(Ok(text)) => text,
        Ok(Err(error)) => {
            return Err(ExtractError::PdfUnreadable {
                reason: error.to_string(),
            });
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    panic
                        .downcast_ref::<&str>()
                        .map(|message| message.to_string())
                })
                .unwrap_or_else(|| "unknown panic".to_string());
            return Err(ExtractError::PdfUnreadable {
                reason: format!("parser panicked: {reason}"),
            });
        }
    };
    let document = extract_text(&text);
    if document.is_empty() {
        return Err(ExtractError::PdfWithoutText);
    }
    Ok(document)
}

fn paragraphs(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            push_paragraph(&mut blocks, &current);
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    push_paragraph(&mut blocks, &current);
    blocks
}

fn push_paragraph(blocks: &mut Vec<Block>, raw: &str) {
    let text = normalize_whitespace(raw);
    if !text.is_empty() {
        blocks.push(Block {
            kind: BlockKind::Paragraph,
            text,
            heading_path: Vec::new(),
        });
    }
}
