//! The privacy layer through its public interface: the provider gate against a local HTTP stub
//! (wiremock), audit records, erasure and retention.

mod gate;
mod lifecycle;
