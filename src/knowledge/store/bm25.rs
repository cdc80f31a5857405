//! BM25 sparse vectors for both store backends, from qdrant-edge's own BM25 model.
//!
//! Tokenisation is qdrant's full-text pipeline (`TokenizerType::Word`: Unicode word
//! boundaries, lowercased, English stopwords removed, Snowball English stemmer), and a token's
//! dimension is its murmur3 hash, exactly as a Qdrant server's built-in `Qdrant/bm25` inference
//! does. Documents carry the saturated, length-normalised term frequency (k1 = 1.2, b = 0.75);
//! queries carry 1.0 per distinct token; the IDF factor is applied by the store at query time
//! (`Modifier::Idf` on the sparse vector). The embedded store and a Qdrant server therefore
//! compute the same scores for the same corpus.

use std::sync::OnceLock;

use qdrant_edge::bm25_embed::{EdgeBm25, EdgeBm25Config};
use qdrant_edge::external::ordered_float::NotNan;

use super::{ChunkPayload, StoreError};

/// Name of the sparse (BM25) vector in both backends.
pub(crate) const SPARSE_VECTOR: &str = "bm25";

/// Expected document length in tokens after stopword removal: a 256-token chunk (the chunker's
/// default target) has about 190 words, a little over half of which are not stopwords, plus
/// its title and headings.
const AVG_DOC_LEN: f64 = 120.0;

/// A sparse vector: distinct token ids (murmur3 hashes) and their weights, same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bm25Vector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Bm25Vector {
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

fn model() -> Result<&'static EdgeBm25, StoreError> {
    static MODEL: OnceLock<Result<EdgeBm25, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let avg_len = NotNan::new(AVG_DOC_LEN).map_err(|e| e.to_string())?;
            EdgeBm25::new(EdgeBm25Config {
                avg_len,
                language: Some("english".into()),
                ..EdgeBm25Config::default()
            })
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| StoreError::Backend(format!("BM25 model: {e}")))
}

/// The text of a chunk that BM25 indexes: its title, heading path and body, so a keyword in a
/// page title finds every chunk of that page.
fn document_text(payload: &ChunkPayload) -> String {
    let mut text = String::with_capacity(payload.text.len() + 128);
    if let Some(title) = &payload.title {
        text.push_str(title);
        text.push('\n');
    }
    for heading in &payload.heading_path {
        text.push_str(heading);
        text.push('\n');
    }
    text.push_str(&payload.text);
    text
}

/// The BM25 document vector of a chunk (empty when nothing but stopwords remains).
pub fn bm25_document(payload: &ChunkPayload) -> Result<Bm25Vector, StoreError> {
    let sparse = model()?.embed_document(&document_text(payload));
    Ok(Bm25Vector {
        indices: sparse.indices,
        values: sparse.values,
    })
}

/// The BM25 query vector of a query text (empty for blank or stopword-only text).
pub fn bm25_query(text: &str) -> Result<Bm25Vector, StoreError> {
    let sparse = model()?.embed_query(text);
    Ok(Bm25Vector {
        indices: sparse.indices,
        values: sparse.values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drops_stopwords_and_hashes_alike_for_query_and_document() {
        let query = bm25_query("The refunds").unwrap();
        let again = bm25_query("refund").unwrap();
        assert_eq!(query.indices, again.indices, "stemmed and stopword-free");
        assert_eq!(query.values, vec![1.0]);
        assert!(bm25_query("").unwrap().is_empty());
        assert!(bm25_query("the of and").unwrap().is_empty());
    }
}
