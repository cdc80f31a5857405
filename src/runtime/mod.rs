//! The runtime: the worker loop (intake, per-family limits, the tenant barrier, shutdown), the
//! pipeline (decode, tenant, idempotency, handler, store, settlement), and the ops endpoint.
//!
//! Owns: the order "run, store, publish, acknowledge" and the traits handlers see
//! ([`handler::JobHandler`], [`handler::JobContext`], [`handler::StoredResults`]). Must not know:
//! what a job type does (handlers are injected) or which queue backend runs (`queue::Queue`).

pub(crate) mod handler;
pub mod ops;
pub mod pipeline;
pub mod worker;
