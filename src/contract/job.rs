//! Jobs as they arrive: the v1 envelope, the job types and their families, the typed payloads,
//! and the decoding that turns raw bytes into a validated [`Job`] or a [`JobError`].
//!
//! This module knows nothing about queues: it sees bytes in and a job (or an error) out.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::contract::error::JobError;
use crate::contract::keys::SubjectKey;
use crate::contract::tenant::{TenantSettings, validate_tenant_id};

/// The longest job id accepted (ids are keys in the idempotency store and appear in logs).
pub const MAX_JOB_ID_LEN: usize = 200;

/// Every job type this worker knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobType {
    LeadProcess,
    ReplySuggest,
    SourceReindex,
    SourceDelete,
    ContactErase,
    TenantConfigure,
    /// Erase everything stored for a tenant (chunks of every source, cached results).
    TenantErase,
    /// A synthetic job for tests and benchmarks, accepted only with `worker.test_jobs = true`.
    TestWork,
}

/// A job family: the job types that share one durable queue and one concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Lead,
    Reply,
    Source,
    Contact,
    Tenant,
    Test,
}

impl JobType {
    pub const ALL: [JobType; 8] = [
        JobType::LeadProcess,
        JobType::ReplySuggest,
        JobType::SourceReindex,
        JobType::SourceDelete,
        JobType::ContactErase,
        JobType::TenantConfigure,
        JobType::TenantErase,
        JobType::TestWork,
    ];

    pub fn parse(name: &str) -> Option<JobType> {
        JobType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The name on the wire, which is also the AMQP routing key.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::LeadProcess => "lead.process",
            JobType::ReplySuggest => "reply.suggest",
            JobType::SourceReindex => "source.reindex",
            JobType::SourceDelete => "source.delete",
            JobType::ContactErase => "contact.erase",
            JobType::TenantConfigure => "tenant.configure",
            JobType::TenantErase => "tenant.erase",
            JobType::TestWork => "test.work",
        }
    }

    pub fn family(self) -> Family {
        match self {
            JobType::LeadProcess => Family::Lead,
            JobType::ReplySuggest => Family::Reply,
            JobType::SourceReindex | JobType::SourceDelete => Family::Source,
            JobType::ContactErase => Family::Contact,
            JobType::TenantConfigure | JobType::TenantErase => Family::Tenant,
            JobType::TestWork => Family::Test,
        }
    }

    /// The type of the result event a successful job publishes.
    pub fn result_type(self) -> &'static str {
        match self {
            JobType::LeadProcess => "lead.processed",
            JobType::ReplySuggest => "reply.suggested",
            JobType::SourceReindex => "source.indexed",
            JobType::SourceDelete => "source.deleted",
            JobType::ContactErase => "contact.erased",
            JobType::TenantConfigure => "tenant.configured",
            JobType::TenantErase => "tenant.erased",
            JobType::TestWork => "test.done",
        }
    }
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Lead,
        Family::Reply,
        Family::Source,
        Family::Contact,
        Family::Tenant,
        Family::Test,
    ];

    /// The family's name: the first segment of its job types, used in queue names and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Lead => "lead",
            Family::Reply => "reply",
            Family::Source => "source",
            Family::Contact => "contact",
            Family::Tenant => "tenant",
            Family::Test => "test",
        }
    }
}

/// A decoded and validated job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub job_type: JobType,
    pub tenant_id: String,
    pub created_at: Option<OffsetDateTime>,
    pub payload: Payload,
}

impl Job {
    /// Who or what the job's stored result concerns, so that erasing a contact or a source also
    /// erases the cached results about it.
    pub fn subjects(&self) -> Vec<SubjectKey> {
        match &self.payload {
            Payload::LeadProcess(p) => p
                .lead
                .contact
                .iter()
                .map(|c| SubjectKey::contact(&c.id))
                .collect(),
            Payload::ReplySuggest(p) => p
                .conversation
                .contact
                .iter()
                .map(|c| SubjectKey::contact(&c.id))
                .collect(),
            Payload::SourceReindex(p) => vec![SubjectKey::source(&p.source.id)],
            Payload::SourceDelete(_)
            | Payload::ContactErase(_)
            | Payload::TenantConfigure(_)
            | Payload::TenantErase(_)
            | Payload::TestWork(_) => Vec::new(),
        }
    }
}

/// The typed payload of each job type.
#[derive(Debug, Clone)]
pub enum Payload {
    LeadProcess(LeadProcess),
    ReplySuggest(ReplySuggest),
    SourceReindex(SourceReindex),
    SourceDelete(SourceDelete),
    ContactErase(ContactErase),
    TenantConfigure(Box<TenantSettings>),
    TenantErase(TenantErase),
    TestWork(TestWork),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadProcess {
    pub lead: Lead,
    #[serde(default)]
    pub suggest_reply: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lead {
    pub id: String,
    pub channel: LeadChannel,
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Free-form form fields, as the customer's form named them.
    #[serde(default)]
    pub fields: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeadChannel {
    Form,
    Email,
    Chat,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplySuggest {
    pub conversation: Conversation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub contact: Option<Contact>,
    pub messages: Vec<ConversationMessage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationMessage {
    pub role: Role,
    pub text: String,
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Agent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceReindex {
    pub source: Source,
    #[serde(default)]
    pub mode: ReindexMode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub max_pages: Option<u32>,
    #[serde(default)]
    pub max_depth: Option<u32>,
}

/// `incremental` skips unchanged pages; `full` re-embeds every page. The one index mode of the
/// job, the indexer and the `ingest` command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ReindexMode {
    #[default]
    Incremental,
    Full,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDelete {
    pub source_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactErase {
    pub contact_id: String,
}

/// `tenant.erase` takes no fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantErase {}

/// The synthetic test job: optionally sleeps, fails transiently on its first attempts, or
/// always fails.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestWork {
    #[serde(default)]
    pub sleep_ms: u64,
    /// Fail with a transient error while the attempt number is at most this.
    #[serde(default)]
    pub fail_attempts: u32,
    /// Fail with a transient error on every attempt.
    #[serde(default)]
    pub always_fail: bool,
}

/// The envelope as it appears on the wire. `payload` is decoded by type afterwards.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    v: u64,
    id: String,
    #[serde(rename = "type")]
    job_type: String,
    tenant_id: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
    payload: Value,
}

/// What decoding needs to know beyond the bytes.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_body_bytes: usize,
    pub test_jobs: bool,
}

/// The parts of a job that could be read even when the job as a whole is invalid, so that a
/// `job.failed` event can still name the job and the tenant.
#[derive(Debug, Clone, Default)]
pub struct JobHeader {
    pub id: Option<String>,
    pub job_type: Option<String>,
    pub tenant_id: Option<String>,
}

impl JobHeader {
    /// Best-effort read of `id`, `type` and `tenant_id` from a body that failed to decode.
    pub fn sniff(body: &[u8]) -> JobHeader {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return JobHeader::default();
        };
        let text = |key: &str| {
            map.get(key)
                .and_then(Value::as_str)
                .filter(|s| s.len() <= MAX_JOB_ID_LEN)
                .map(str::to_owned)
        };
        JobHeader {
            id: text("id"),
            job_type: text("type"),
            tenant_id: text("tenant_id").filter(|t| validate_tenant_id(t).is_ok()),
        }
    }
}

/// Decodes and validates a job body.
pub fn decode(body: &[u8], limits: DecodeLimits) -> Result<Job, JobError> {
    if body.len() > limits.max_body_bytes {
        return Err(JobError::TooLarge {
            size: body.len(),
            limit: limits.max_body_bytes,
        });
    }
    let text = std::str::from_utf8(body).map_err(|err| JobError::InvalidUtf8 {
        offset: err.valid_up_to(),
    })?;
    let value: Value =
        serde_json::from_str(text).map_err(|err| JobError::InvalidJson(err.to_string()))?;
    let raw: RawEnvelope = from_value_with_path(value, "")?;

    if raw.v != 1 {
        return Err(JobError::UnsupportedVersion(raw.v));
    }
    if raw.id.trim().is_empty()
        || raw.id.len() > MAX_JOB_ID_LEN
        || raw.id.chars().any(char::is_control)
    {
        return Err(JobError::Invalid(format!(
            "id: must be 1 to {MAX_JOB_ID_LEN} bytes without control characters"
        )));
    }
    validate_tenant_id(&raw.tenant_id)
        .map_err(|msg| JobError::Invalid(format!("tenant_id: {msg}")))?;
    let job_type = JobType::parse(&raw.job_type)
        .filter(|t| *t != JobType::TestWork || limits.test_jobs)
        .ok_or_else(|| JobError::UnknownType(truncate(&raw.job_type, 64)))?;

    let payload = decode_payload(job_type, raw.payload)?;
    if let Payload::TenantConfigure(settings) = &payload
        && settings.tenant_id != raw.tenant_id
    {
        return Err(JobError::Invalid(format!(
            "payload.tenant_id: {:?} does not match the job's tenant_id {:?}",
            settings.tenant_id, raw.tenant_id
        )));
    }
    Ok(Job {
        id: raw.id,
        job_type,
        tenant_id: raw.tenant_id,
        created_at: raw.created_at,
        payload,
    })
}

fn decode_payload(job_type: JobType, value: Value) -> Result<Payload, JobError> {
    let p = "payload";
    Ok(match job_type {
        JobType::LeadProcess => Payload::LeadProcess(from_value_with_path(value, p)?),
        JobType::ReplySuggest => Payload::ReplySuggest(from_value_with_path(value, p)?),
        JobType::SourceReindex => Payload::SourceReindex(from_value_with_path(value, p)?),
        JobType::SourceDelete => Payload::SourceDelete(from_value_with_path(value, p)?),
        JobType::ContactErase => Payload::ContactErase(from_value_with_path(value, p)?),
        JobType::TenantErase => Payload::TenantErase(from_value_with_path(value, p)?),
        JobType::TenantConfigure => {
            let settings: TenantSettings = from_value_with_path(value, p)?;
            settings
                .validate()
                .map_err(|err| JobError::Invalid(format!("payload.{err}")))?;
            Payload::TenantConfigure(Box::new(settings))
        }
        JobType::TestWork => Payload::TestWork(from_value_with_path(value, p)?),
    })
}

/// Deserialises with the path of the offending field in the error ("payload.lead.body: missing
/// field"), so a producer knows exactly what to fix.
fn from_value_with_path<T: serde::de::DeserializeOwned>(
    value: Value,
    prefix: &str,
) -> Result<T, JobError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let at = match (prefix.is_empty(), path.as_str()) {
            (true, ".") => String::new(),
            (true, _) => format!("{path}: "),
            (false, ".") => format!("{prefix}: "),
            (false, _) => format!("{prefix}.{path}: "),
        };
        JobError::Invalid(format!("{at}{}", err.inner()))
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_body_bytes: 1 << 20,
        test_jobs: false,
    };

    fn err(body: &str) -> JobError {
        decode(body.as_bytes(), LIMITS).unwrap_err()
    }

    #[test]
    fn decodes_a_lead() {
        let job = decode(
            br#"{"v":1,"id":"j1","type":"lead.process","tenant_id":"acme","created_at":"2026-11-28T10:00:00Z",
                "payload":{"lead":{"id":"l1","channel":"form","body":"hi","fields":{"x":1}}}}"#,
            LIMITS,
        )
        .unwrap();
        assert_eq!(job.job_type, JobType::LeadProcess);
        assert!(matches!(job.payload, Payload::LeadProcess(_)));
    }

    #[test]
    fn names_the_bad_field() {
        let e = err(
            r#"{"v":1,"id":"j1","type":"lead.process","tenant_id":"acme","payload":{"lead":{"id":"l1","channel":"form"}}}"#,
        );
        assert_eq!(
            e.to_string(),
            "invalid job: payload.lead: missing field `body`"
        );
        let e = err(
            r#"{"v":1,"id":"j1","type":"lead.process","tenant_id":"acme","payload":{},"extra":1}"#,
        );
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
        let e = err(
            r#"{"v":1,"id":"j1","type":"lead.process","tenant_id":"acme","payload":{"lead":{"id":"l1","channel":"fax","body":""}}}"#,
        );
        assert!(
            e.to_string()
                .starts_with("invalid job: payload.lead.channel: unknown variant `fax`"),
            "{e}"
        );
    }

    #[test]
    fn rejects_each_kind_of_bad_input() {
        assert_eq!(err("not json").kind(), "invalid_json");
        assert_eq!(
            decode(b"\xff\xfe", LIMITS).unwrap_err().kind(),
            "invalid_utf8"
        );
        assert_eq!(
            err(r#"{"v":2,"id":"j","type":"lead.process","tenant_id":"a","payload":{}}"#).kind(),
            "unsupported_version"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"j","type":"lead.explode","tenant_id":"a","payload":{}}"#).kind(),
            "unknown_job_type"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"j","type":"test.work","tenant_id":"a","payload":{}}"#).kind(),
            "unknown_job_type"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"","type":"lead.process","tenant_id":"a","payload":{}}"#).kind(),
            "invalid_job"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"j","type":"lead.process","tenant_id":"../etc","payload":{}}"#)
                .kind(),
            "invalid_job"
        );
        let big = vec![b' '; 100];
        let small = DecodeLimits {
            max_body_bytes: 10,
            test_jobs: false,
        };
        assert_eq!(decode(&big, small).unwrap_err().kind(), "too_large");
    }

    #[test]
    fn sniffs_the_header_of_a_bad_job() {
        let h = JobHeader::sniff(
            br#"{"id":"j9","type":"lead.process","tenant_id":"acme","payload":3}"#,
        );
        assert_eq!(h.id.as_deref(), Some("j9"));
        assert_eq!(h.tenant_id.as_deref(), Some("acme"));
        assert!(JobHeader::sniff(b"\xff").id.is_none());
    }
}
