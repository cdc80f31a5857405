//! Result events as they leave the worker (`jambo.events`, a reply queue, or JSONL on stdout):
//! the v1 result envelope, its `privacy` block, and the `job.failed` event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::contract::error::JobError;
use crate::contract::job::JobHeader;

/// The type of the event published when a job finally fails.
pub const JOB_FAILED: &str = "job.failed";

/// One result event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub v: u32,
    pub job_id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub tenant_id: Option<String>,
    pub result: Value,
    pub privacy: Privacy,
}

/// What the job did with personal data and AI providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Privacy {
    /// Redacted entities by type (`{"EMAIL": 1}`).
    pub redactions: BTreeMap<String, u32>,
    /// Whether any content left the process for an external AI provider.
    pub external_ai: bool,
    /// The external provider used, if any.
    pub provider: Option<String>,
    /// The tenant's training consent when the job ran.
    pub training_opt_in: bool,
    /// Entity types of personal data found in the job's input (tags only, never values).
    #[serde(default)]
    pub pii_types: Vec<String>,
}

impl Event {
    /// The event of a job that failed for good. The message is the error's text, which never
    /// holds message content.
    pub fn failed(header: &JobHeader, error: &JobError, training_opt_in: bool) -> Event {
        Event {
            v: 1,
            job_id: header.id.clone(),
            event_type: JOB_FAILED.to_owned(),
            tenant_id: header.tenant_id.clone(),
            result: json!({
                "job_type": header.job_type,
                "error": {"kind": error.kind(), "message": error.to_string()},
            }),
            privacy: Privacy {
                training_opt_in,
                ..Privacy::default()
            },
        }
    }

    /// The JSON bytes published for this event.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising a tree of strings, numbers and maps cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
