//! Privacy: finding and pseudonymising personal data before anything leaves the process, the one
//! gate every external AI call passes, the audit trail of those calls, and the consent-bound
//! training export.

pub mod audit;
pub mod export;
pub mod gate;
pub mod redact;
