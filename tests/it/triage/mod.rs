//! Triage through its public interface: the OpenAI-compatible engine against a stub provider,
//! the provider prompts as rendered (snapshots), and the whole mission through the worker binary
//! on RabbitMQ.

mod end_to_end;
mod grounding;
mod openai_engine;
mod prompts;
