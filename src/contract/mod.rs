//! The contract with the rest of Jambo Contact: the job envelope and payloads, the result events,
//! the job errors and how the worker treats each, tenant settings, and the typed keys of the
//! subjects a job is about.
//!
//! Owns: the wire formats of `../shared/CONTRACT.md`. Must not know: queues, stores, models or
//! providers; nothing here does I/O.

pub mod error;
pub mod event;
pub mod job;
pub mod keys;
pub mod tenant;
