//! Knowledge: a customer's help center, docs and files turned into ranked, cited passages.
//! Today crawling (with the SSRF guard), extraction (pages and files to structured documents),
//! token chunking and local embeddings; the vector store and hybrid search plug in beside them.
//!
//! Extraction knows nothing about crawling, HTTP or tokens; chunking knows only [`Document`].

pub mod chunk;
pub mod crawl;
pub mod embed;
pub mod extract;
pub mod store;

pub use chunk::{Chunk, ChunkConfig, ChunkConfigError, Chunker};
pub use extract::{
    Block, BlockKind, BoilerplateFilter, Document, ExtractError, decode_html_bytes, extract_bytes,
    extract_file, extract_html, extract_html_bytes, extract_markdown, extract_pdf, extract_text,
};
