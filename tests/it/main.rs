//! The one integration test binary. Modules:
//! - `architecture`: the layers of ARCHITECTURE.md, checked on the source
//! - `support`: broker connection with a per-test prefix, the worker binary as a child process
//! - `queue_conformance`: the contract every `Queue` implementation must meet, run on each
//! - `amqp`: the worker against the real RabbitMQ (round trip, bad input, retries, kill -9,
//!   reconnect, SIGTERM)
//! - `cluster`: three replicas through 5,000 mixed jobs, a kill -9, the broker closing every
//!   connection and restarting, a tenant change and erasures
//! - `fleet`: replicas of the binary on shared PostgreSQL state and RabbitMQ, through a kill -9
//! - `stdio`: the embedded queue through the binary (JSONL in and out)
//! - `cli`: exit codes and messages of the command line
//! - `knowledge`: extraction of pages and files, token chunking (snapshots, properties)
//! - `triage_classify`: tenant category model (real embedder) and the spam detector
//! - `redact_properties`: property tests of the PII redactor (restore(redact(x)) == x, redacting
//!   redacted text changes nothing, offsets valid, never panics)
//! - `redact_model`: the redactor's model tier (Rampart on ONNX Runtime) through the public API
//! - `state`: the job store contract on the embedded store and PostgreSQL; claims, migrations
//!   and tenant settings across replicas sharing PostgreSQL
//! - `triage_text`: the triage text engine (cleaning snapshots, language, sentiment, urgency,
//!   summary, extraction, the fixture leads' expected labels, no panics)

mod amqp;
mod architecture;
mod cli;
mod cluster;
mod fleet;
pub(crate) mod knowledge;
mod privacy;
mod queue_conformance;
mod redact_model;
mod redact_properties;
mod state;
mod stdio;
mod support;
mod triage;
mod triage_classify;
mod triage_text;
