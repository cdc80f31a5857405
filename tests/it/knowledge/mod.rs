//! Knowledge: extraction and chunking. Modules:
//! - `crawl`: the crawler against the fixture help center (`fixture_site` serves it on 127.0.0.1)
//! - `embed_local`: the local all-MiniLM-L6-v2 embedder on the real model (needs
//!   scripts/fetch-models.sh; fails, not skips, without it)
//! - `rampart_runtime`: the PII tagger model runs in the same ONNX Runtime as the embedder
//! - `support`: fixture loading, readable renderings of documents and chunks for snapshots
//! - `extract_html`: main content, chrome removal, structure, charsets, language, bad input
//! - `extract_files`: Markdown, plain text, PDF and the by-extension dispatch
//! - `boilerplate`: blocks repeated across the pages of one site
//! - `indexing`: the whole path (crawl to qdrant-edge), search, incremental reindex, deletion
//! - `chunking`: breaks, overlap, context, config validation, hostile text
//! - `properties`: proptest invariants of the chunker and of extraction on arbitrary input
//! - `store`: the `VectorStore` conformance suite on qdrant-edge (always) and on a Qdrant server
//!   (when `QDRANT_URL` is set)

mod boilerplate;
mod chunking;
mod crawl;
mod embed_local;
mod extract_files;
mod extract_html;
pub(crate) mod fixture_site;
mod indexing;
mod properties;
mod rampart_runtime;
mod store;
mod support;
