//! Audit trail of every call to an external AI provider: one JSON line per call in a file per
//! UTC day under `<data_dir>/audit/`, holding who, why, where and how much, never content.
//!
//! A record has no free-text field that could carry message content: its strings are ids,
//! enum names and provider/model names from config, and the error field is an error *kind*.
//! Retention deletes whole day files older than the configured period.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::state::postgres::PgState;

/// Why a provider was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Embedding knowledge chunks while indexing a source.
    EmbedKnowledge,
    /// Embedding a query or a lead for search or classification.
    EmbedQuery,
    /// A lead's one triage call (category, fields, summary and route together).
    Triage,
    /// The per-task calls of earlier versions, kept so their audit records still read.
    Classify,
    Extract,
    Summarize,
    Route,
    Reply,
}

/// How the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written before anything is sent: the call is about to be made. The record with the same
    /// `call_id` and the outcome follows; a pending record alone means the process died, or the
    /// outcome could not be written, while the call was under way.
    Pending,
    Ok,
    /// Refused by the gate (tenant settings); nothing was sent.
    Refused,
    /// Sent, but the provider failed (after retries) or timed out.
    Failed,
}

/// One audit line. Nothing in it is content or personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC.
    pub time: String,
    /// Pairs a call's `pending` record with its outcome record (empty on refusals, which send
    /// nothing).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub call_id: String,
    pub tenant_id: String,
    pub job_id: String,
    pub purpose: Purpose,
    pub provider: String,
    pub model: String,
    pub outcome: Outcome,
    /// Tokens sent (counted locally with the model's tokenizer when the provider reports none).
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Entities replaced by placeholders before sending, by type.
    pub redactions: BTreeMap<String, u32>,
    /// Whether the provider was allowed to keep the content (`store` for OpenAI); true only
    /// with the tenant's `training_opt_in`.
    pub provider_may_store: bool,
    /// For failures: the error kind (`timeout`, `rate_limited`, `server_error`, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_kind: Option<String>,
}

/// Why the audit log cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The audit directory or file cannot be written: the call must not happen (a call that
    /// cannot be audited is refused), and the job is retried once the disk is fixed.
    #[error("audit log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The shared database cannot take the record: the same consequences.
    #[error("audit log: {0}")]
    Shared(String),
}

/// The append-only audit log of one data dir.
pub struct AuditLog {
    dir: PathBuf,
    open: Mutex<Option<(String, File)>>,
    /// The fleet's shared database, when the records go there instead of the day files.
    shared: std::sync::OnceLock<PgState>,
}

impl AuditLog {
    /// The audit log under `<data_dir>/audit`. The folder is created on first write.
    pub fn new(data_dir: &Path) -> AuditLog {
        AuditLog {
            dir: data_dir.join("audit"),
            open: Mutex::new(None),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// Writes (and reads, expires) the records in the shared database from now on, so a review
    /// or an erasure sees every replica's calls.
    pub fn share(&self, state: PgState) {
        let _ = self.shared.set(state);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current time, formatted as records hold it.
    pub fn now() -> String {
        OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
    }

    /// Appends one record: committed to the shared database, or written and flushed to the OS,
    /// before returning.
    pub async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        if let Some(state) = self.shared.get() {
            let json = serde_json::to_string(record).unwrap_or_default();
            return state
                .append_audit(&record.tenant_id, &record.time, &json)
                .await
                .map_err(|e| AuditError::Shared(e.to_string()));
        }
        self.append_to_file(record)
    }

    fn append_to_file(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let day = record.time.get(..10).unwrap_or("unknown").to_owned();
        let path = self.dir.join(format!("{day}.jsonl"));
        let io = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(|(d, _)| *d != day) {
            std::fs::create_dir_all(&self.dir).map_err(io)?;
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io)?;
            *guard = Some((day, file));
        }
        if let Some((_, file)) = guard.as_mut() {
            file.write_all(&line).map_err(io)?;
            file.flush().map_err(io)?;
        }
        Ok(())
    }

    /// Every record, oldest first (for reviews and tests): the fleet's when shared.
    pub async fn read_all(&self) -> Result<Vec<AuditRecord>, AuditError> {
        if let Some(state) = self.shared.get() {
            let rows = state
                .audit_records()
                .await
                .map_err(|e| AuditError::Shared(e.to_string()))?;
            return Ok(rows
                .iter()
                .filter_map(|r| serde_json::from_str::<AuditRecord>(r).ok())
                .collect());
        }
        let mut records = Vec::new();
        for path in self.day_files()? {
            let text = std::fs::read_to_string(&path).map_err(|source| AuditError::Io {
                path: path.clone(),
                source,
            })?;
            records.extend(
                text.lines()
                    .filter_map(|line| serde_json::from_str::<AuditRecord>(line).ok()),
            );
        }
        Ok(records)
    }

    /// Deletes the records older than `retention` (in the shared database), or the day files
    /// entirely older than it; returns how many went.
    pub async fn expire(&self, retention: Duration) -> Result<usize, AuditError> {
        if let Some(state) = self.shared.get() {
            return state
                .expire_audit(retention)
                .await
                .map(|n| n as usize)
                .map_err(|e| AuditError::Shared(e.to_string()));
        }
        let cutoff = OffsetDateTime::from(SystemTime::now() - retention).date();
        let mut removed = 0;
        for path in self.day_files()? {
            let Some(day) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(parse_day)
            else {
                continue;
            };
            if day < cutoff {
                std::fs::remove_file(&path).map_err(|source| AuditError::Io {
                    path: path.clone(),
                    source,
                })?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn day_files(&self) -> Result<Vec<PathBuf>, AuditError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(AuditError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        Ok(files)
    }
}

fn parse_day(stem: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(stem, &format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time: &str) -> AuditRecord {
        AuditRecord {
            time: time.into(),
            call_id: String::new(),
            tenant_id: "acme".into(),
            job_id: "j1".into(),
            purpose: Purpose::Reply,
            provider: "openai".into(),
            model: "m".into(),
            outcome: Outcome::Ok,
            prompt_tokens: 10,
            completion_tokens: 2,
            redactions: BTreeMap::from([("EMAIL".into(), 1)]),
            provider_may_store: false,
            error_kind: None,
        }
    }

    #[tokio::test]
    async fn appends_by_day_and_expires_old_days() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        log.append(&record("2020-01-01T00:00:00Z")).await.unwrap();
        log.append(&record(&AuditLog::now())).await.unwrap();
        assert_eq!(log.read_all().await.unwrap().len(), 2);
        assert_eq!(
            log.expire(Duration::from_secs(86_400 * 30)).await.unwrap(),
            1
        );
        let left = log.read_all().await.unwrap();
        assert_eq!(left.len(), 1);
        assert_ne!(left[0].time, "2020-01-01T00:00:00Z");
    }
}
