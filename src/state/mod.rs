//! State that outlives a job: the idempotency and result store (`jobs`) and the tenant settings
//! store (`tenants`).
//!
//! Owns: how records are kept, expired and erased. Must not know: queues, handlers, models or
//! what a result means (results are opaque bytes keyed by tenant, job id and subjects).

pub mod jobs;
pub mod tenants;
