//! Text tools more than one layer needs: sentence splitting, language detection and HTML entity
//! decoding, each written once.
//!
//! Owns: pure functions on strings. Must not know: anything else in the crate (it imports
//! nothing from it).
