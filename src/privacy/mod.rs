//! Privacy: finding and pseudonymising personal data before anything leaves the process. Today the
//! fast-tier redactor; the provider gate, consent tags, audit and erasure build on it.

pub mod redact;
