//! Knowledge: a customer's help center, docs and files turned into ranked, cited passages.
//! Crawling (with the SSRF guard), extraction (pages and files to structured documents), token
//! chunking, embeddings, the vector store with hybrid search, and the indexer that runs them.
//!
//! Extraction knows nothing about crawling, HTTP or tokens; chunking knows only [`Document`].
//!
//! Owns: sources, pages, chunks and their vectors. Must not know: the privacy layer (personal
//! data is found through the `index::PiiScanner` port, provider embeddings come through the
//! `service::ExternalEmbeddings` port; the composition root plugs the privacy layer in), triage,
//! queues or the job store. Embedding models come from `models`.

pub mod chunk;
pub mod crawl;
pub mod extract;
pub mod index;
pub mod service;
pub mod store;

pub use chunk::{Chunk, ChunkConfig, ChunkConfigError, Chunker};
pub use extract::{
    Block, BlockKind, BoilerplateFilter, Document, ExtractError, decode_html_bytes, extract_bytes,
    extract_file, extract_html, extract_html_bytes, extract_markdown, extract_pdf, extract_text,
};
