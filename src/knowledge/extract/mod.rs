//! Extraction: turns a fetched page or a file (HTML, Markdown, plain text, PDF) into a
//! [`Document`]: a title, a language and an ordered list of structured [`Block`]s.
//!
//! Owns: main-content selection, boilerplate removal, charset decoding, whitespace
//! normalisation and language detection. Must not know: how pages are fetched, how they are
//! chunked or embedded. Every function here takes untrusted input and never panics; an empty
//! page is an empty [`Document`], not an error.

mod blocks;
mod boilerplate;
mod charset;
mod html;
mod markdown;
mod normalize;
mod plain;

use std::path::Path;

pub use boilerplate::BoilerplateFilter;
pub use charset::decode_html_bytes;
pub use html::{extract_html, extract_html_bytes};
pub use markdown::extract_markdown;
pub use plain::{extract_pdf, extract_text};

/// One page or file, reduced to its main content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// `<title>`, else the first `<h1>`, else a title made from the URL or file name.
    pub title: Option<String>,
    /// ISO 639-1 code (`"en"`, `"de"`), from `<html lang>` or detected from the text.
    pub language: Option<String>,
    /// The main content in reading order.
    pub blocks: Vec<Block>,
}

/// One unit of content: a heading, a paragraph, a list item, a table row or a code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// Whitespace-normalised text; code blocks keep their text verbatim.
    pub text: String,
    /// Texts of the enclosing headings, outermost first (`["Setup", "Install"]`). For a heading
    /// block, the path ends with the heading itself.
    pub heading_path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockKind {
    /// `level` is 1 for `<h1>` / `#` up to 6.
    Heading {
        level: u8,
    },
    Paragraph,
    /// `depth` is 1 for a top-level item, 2 for an item of a nested list, and so on.
    ListItem {
        depth: u8,
    },
    /// A table row, its cells joined with `" | "`.
    TableRow,
    /// Preformatted text kept verbatim; `language` from a `language-xxx` class or a fence.
    Code {
        language: Option<String>,
    },
}

/// Why a file or a response could not be extracted. Each is a per-page failure: the crawl
/// records it with the reason and goes on.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The content type or file extension is none of HTML, Markdown, plain text or PDF.
    #[error("unsupported content type {content_type:?}")]
    UnsupportedContentType { content_type: String },
    /// The PDF could not be parsed (corrupt, encrypted, unsupported features).
    #[error("pdf could not be read: {reason}")]
    PdfUnreadable { reason: String },
    /// The PDF parsed but has no text layer (a scan); it would need OCR.
    #[error("pdf has no text layer")]
    PdfWithoutText,
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Document {
    /// True when the document has no content block (an empty or all-boilerplate page).
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// All block texts joined by blank lines: the plain text of the document.
    pub fn plain_text(&self) -> String {
        let texts: Vec<&str> = self
            .blocks
            .iter()
            .map(|block| block.text.as_str())
            .collect();
        texts.join("\n\n")
    }
}

/// Extracts a fetched response by its `Content-Type` (parameters such as `charset` allowed).
/// `url` is used for the fallback title.
/// The media type of a `Content-Type` value, lower-cased, without parameters
/// (`"Text/HTML; charset=utf-8"` is `"text/html"`).
pub fn mime_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub fn extract_bytes(
    bytes: &[u8],
    content_type: Option<&str>,
    url: &str,
) -> Result<Document, ExtractError> {
    let mime = mime_type(content_type.unwrap_or(""));
    match mime.as_str() {
        "text/html" | "application/xhtml+xml" | "" => {
            Ok(extract_html_bytes(bytes, content_type, url))
        }
        "text/markdown" | "text/x-markdown" => {
            Ok(extract_markdown(&decode_text_bytes(bytes, content_type)))
        }
        "text/plain" => Ok(extract_text(&decode_text_bytes(bytes, content_type))),
        "application/pdf" => extract_pdf(bytes),
        _ => Err(ExtractError::UnsupportedContentType { content_type: mime }),
    }
}

/// Extracts a file by its extension: `.html`/`.htm`, `.md`/`.markdown`, `.txt`, `.pdf`.
/// A document without a title gets the file name (without extension) as its title.
pub fn extract_file(path: &Path) -> Result<Document, ExtractError> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let content_type = match extension.as_str() {
        "html" | "htm" | "xhtml" => "text/html",
        "md" | "markdown" => "text/markdown",
        "txt" | "text" => "text/plain",
        "pdf" => "application/pdf",
        _ => {
            return Err(ExtractError::UnsupportedContentType {
                content_type: format!(".{extension}"),
            });
        }
    };
    let bytes = std::fs::read(path).map_err(|source| ExtractError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let url = format!("file://{}", path.display());
    let mut document = extract_bytes(&bytes, Some(content_type), &url)?;
    if document.title.is_none() {
        document.title = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .map(normalize::title_from_slug)
            .filter(|title| !title.is_empty());
    }
    Ok(document)
}

/// Decodes a non-HTML text response: BOM, then the `charset` of the content type, then UTF-8
/// if valid, else windows-1252.
fn decode_text_bytes(bytes: &[u8], content_type: Option<&str>) -> String {
    charset::decode_with_fallbacks(bytes, content_type, None)
}
