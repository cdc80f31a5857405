//! jambo-worker: the background AI worker of Jambo Contact. Jobs arrive from RabbitMQ or stdin,
//! run through one pipeline, and publish results. See ARCHITECTURE.md for the codemap.
//!
//! The modules are layers; each imports only the layers listed after it:
//!
//! - `cli`: the commands (top); `eval`: the quality evaluations it runs;
//! - `app`: the composition root, which builds everything from `Config`;
//! - `handlers`: one handler per job type;
//! - `runtime`: worker, pipeline, ops endpoint;
//! - `triage`: text analysis, learning, engines, routing, replies;
//! - `knowledge` and `privacy`: independent of each other;
//! - `queue`, `state`: queue backends, job store and tenant settings store;
//! - `models`, `text`, `cpu`: ONNX Runtime, model cache and the embedder trait; shared text
//!   tools; the one way CPU work leaves the async threads;
//! - `config`, `contract`: configuration; jobs, events, errors and tenant settings (bottom).

pub mod app;
pub mod cli;
pub mod config;
pub mod contract;
pub(crate) mod cpu;
pub mod eval;
pub(crate) mod handlers;
pub mod knowledge;
pub mod models;
pub mod privacy;
pub mod queue;
pub mod runtime;
pub mod state;
pub(crate) mod text;
pub mod triage;
