//! Text tools more than one layer needs: sentence splitting, language detection and HTML entity
//! decoding, each written once.
//!
//! Owns: pure functions on strings. Must not know: anything else in the crate (it imports
//! nothing from it).

pub(crate) mod html;
pub(crate) mod language;
pub(crate) mod sentences;
