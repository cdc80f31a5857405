//! State that outlives a job: the idempotency and result store (`jobs`), the tenant settings
//! store (`tenants`), and the same on PostgreSQL for a fleet of replicas (`postgres`).
//!
//! Owns: how records are kept, expired and erased. Must not know: queues, handlers, models or
//! what a result means (results are opaque bytes keyed by tenant, job id and subjects).

pub(crate) mod batch;
pub mod jobs;
pub mod postgres;
pub mod tenants;
