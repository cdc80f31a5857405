//! Privacy: finding and pseudonymising personal data before anything leaves the process, the one
//! gate every external AI call passes, the audit trail of those calls, and the consent-bound
//! training export.
//!
//! Owns: what counts as personal data, what may leave the process and the record of what did.
//! Must not know: knowledge (the export reads chunks through `export::ChunkSource`), triage,
//! queues or the runtime. Models come from `models`, stored results from `state::jobs`.

pub mod audit;
pub mod export;
pub mod gate;
pub mod redact;
