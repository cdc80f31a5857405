//! jambo-worker: the background AI worker of Jambo Contact. Jobs arrive from RabbitMQ or stdin,
//! run through one pipeline, and publish results. See ARCHITECTURE.md for the codemap.

pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod eval;
pub mod event;
pub mod handlers;
pub mod job;
pub mod knowledge;
pub mod ops;
pub mod pipeline;
pub mod privacy;
pub mod queue;
pub mod store;
pub mod tenant;
pub mod triage;
pub mod worker;
