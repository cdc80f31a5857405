//! The idempotency store: the result event of every job that succeeded, keyed by tenant and job
//! id, kept for a configurable window, so that a job delivered again is answered from here
//! instead of being processed twice.
//!
//! The embedded implementation is a `redb` file under the data dir. Writes go through one writer
//! thread that commits them in groups (one fsync for many jobs), and a job's result is
//! published only after its commit, so a crash at any point either re-processes the job or
//! re-publishes the stored result, never loses it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTableMetadata, TableDefinition};
use tokio::sync::{mpsc, oneshot};

use crate::contract::keys::SubjectKey;

/// `"<tenant>\0<job id>"` -> 8 bytes of stored-at seconds (big endian) followed by the event JSON.
const RESULTS: TableDefinition<&str, &[u8]> = TableDefinition::new("results");
/// `"<tenant>\0<subject>\0<job id>"` -> empty: which stored results concern a subject
/// (`contact:<id>`, `source:<id>`), so erasure can find them without reading every result.
const SUBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("subjects");
/// How many pending writes one commit takes at most.
const MAX_GROUP: usize = 512;

/// Why the store failed. Every variant is retried by the pipeline (see [`crate::contract::error`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the job store at {0} is open in another process (one worker per data dir)")]
    Locked(String),
    #[error("job store: {0}")]
    Db(String),
    #[error("the job store is closed")]
    Closed,
}

/// What a claim on a job found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody else runs it and it has no stored result: this process runs it now.
    Run,
    /// It finished within the window: its stored result event.
    Done(Vec<u8>),
    /// Another process (replica) runs it now: ask again later.
    Busy,
}

/// Where results of finished jobs are kept for idempotency.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// The stored result event of a job, if it finished within the window.
    async fn get(&self, tenant_id: &str, job_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Claims a job before it runs. A store that one process owns answers from its results
    /// (the pipeline keeps two copies of a job in one process from running at once); a store
    /// shared by replicas also holds the job for this process until it stores the result or
    /// releases it, so no two replicas run it at the same time.
    async fn claim(&self, tenant_id: &str, job_id: &str) -> Result<Claim, StoreError> {
        Ok(match self.get(tenant_id, job_id).await? {
            Some(bytes) => Claim::Done(bytes),
            None => Claim::Run,
        })
    }
    /// How often a running job's claim must be renewed so that no other replica takes it over
    /// (`None`: claims do not lapse).
    fn renew_every(&self) -> Option<Duration> {
        None
    }
    /// Extends this process's claim on a running job by a whole lease.
    async fn renew(&self, _tenant_id: &str, _job_id: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Gives a claimed job up (it failed; a retry anywhere may claim it again).
    async fn release(&self, _tenant_id: &str, _job_id: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Stores the result event of a finished job; returns once it is durable.
    async fn put(&self, tenant_id: &str, job_id: &str, event: Vec<u8>) -> Result<(), StoreError> {
        self.put_about(tenant_id, job_id, event, Vec::new()).await
    }
    /// As [`JobStore::put`], noting the subjects the result concerns, for erasure.
    async fn put_about(
        &self,
        tenant_id: &str,
        job_id: &str,
        event: Vec<u8>,
        subjects: Vec<SubjectKey>,
    ) -> Result<(), StoreError>;
    /// Removes every stored result concerning `subject` (or, with `None`, every result of the
    /// tenant); returns how many results went.
    async fn erase(&self, tenant_id: &str, subject: Option<&SubjectKey>)
    -> Result<u64, StoreError>;
    /// Removes records older than the window; returns how many went.
    async fn expire(&self) -> Result<u64, StoreError>;
    /// How many records are stored.
    async fn count(&self) -> Result<u64, StoreError>;
    /// Every stored result event of a tenant (for the training export), oldest key first.
    async fn results(&self, tenant_id: &str) -> Result<Vec<Vec<u8>>, StoreError>;
}

/// The embedded job store (a redb file).
pub struct RedbJobStore {
    db: Arc<Database>,
    window: Duration,
    writes: mpsc::UnboundedSender<Write>,
}

struct Write {
    key: String,
    value: Vec<u8>,
    subjects: Vec<String>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

impl RedbJobStore {
    /// Opens (or creates) the store at `path`. A second process opening the same file gets
    /// [`StoreError::Locked`].
    pub fn open(path: &Path, window: Duration) -> Result<RedbJobStore, StoreError> {
        let db = Database::create(path).map_err(|err| match err {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                StoreError::Locked(path.display().to_string())
            }
            other => StoreError::Db(format!("{}: {other}", path.display())),
        })?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(RESULTS).map_err(db_err)?;
        txn.open_table(SUBJECTS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        let db = Arc::new(db);
        let (writes, rx) = mpsc::unbounded_channel();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("job-store-writer".into())
            .spawn(move || write_loop(&writer_db, rx))
            .map_err(|err| StoreError::Db(err.to_string()))?;
        Ok(RedbJobStore { db, window, writes })
    }
}

fn db_err(err: impl std::fmt::Display) -> StoreError {
    StoreError::Db(err.to_string())
}

fn key(tenant_id: &str, job_id: &str) -> String {
    format!("{tenant_id}\0{job_id}")
}

fn key_of(tenant_prefix: &str, job_id: &str) -> String {
    format!("{tenant_prefix}{job_id}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Commits queued writes in groups until every sender is gone.
fn write_loop(db: &Database, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        let outcome = commit_group(db, &group);
        for write in group {
            let reply = match &outcome {
                Ok(()) => Ok(()),
                Err(err) => Err(StoreError::Db(err.clone())),
            };
            let _ = write.done.send(reply);
        }
    }
}

fn commit_group(db: &Database, group: &[Write]) -> Result<(), String> {
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    {
        let mut table = txn.open_table(RESULTS).map_err(|e| e.to_string())?;
        let mut subjects = txn.open_table(SUBJECTS).map_err(|e| e.to_string())?;
        for write in group {
            table
                .insert(write.key.as_str(), write.value.as_slice())
                .map_err(|e| e.to_string())?;
            if let Some((tenant, job)) = write.key.split_once('\0') {
                for subject in &write.subjects {
                    subjects
                        .insert(format!("{tenant}\0{subject}\0{job}").as_str(), &[][..])
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    txn.commit().map_err(|e| e.to_string())
}

#[async_trait]
impl JobStore for RedbJobStore {
    async fn get(&self, tenant_id: &str, job_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        // A point read of a small record takes microseconds: done in place, not on a blocking
        // thread (the hand-off would cost more than the read).
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(RESULTS).map_err(db_err)?;
        let Some(value) = table.get(key(tenant_id, job_id).as_str()).map_err(db_err)? else {
            return Ok(None);
        };
        let value = value.value();
        let (stamp, event) = value.split_at(8.min(value.len()));
        let stored_at = u64::from_be_bytes(stamp.try_into().unwrap_or([0; 8]));
        if now_secs().saturating_sub(stored_at) > self.window.as_secs() {
            return Ok(None);
        }
        Ok(Some(event.to_vec()))
    }

    async fn put_about(
        &self,
        tenant_id: &str,
        job_id: &str,
        event: Vec<u8>,
        subjects: Vec<SubjectKey>,
    ) -> Result<(), StoreError> {
        let subjects = subjects.iter().map(SubjectKey::to_string).collect();
        let mut value = now_secs().to_be_bytes().to_vec();
        value.extend_from_slice(&event);
        let (done, wait) = oneshot::channel();
        self.writes
            .send(Write {
                key: key(tenant_id, job_id),
                value,
                subjects,
                done,
            })
            .map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    async fn expire(&self) -> Result<u64, StoreError> {
        let db = self.db.clone();
        let oldest = now_secs().saturating_sub(self.window.as_secs());
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_write().map_err(db_err)?;
            let mut gone = std::collections::HashSet::new();
            {
                let mut table = txn.open_table(RESULTS).map_err(db_err)?;
                table
                    .retain(|key, value| {
                        let stamp = value
                            .get(..8)
                            .and_then(|s| s.try_into().ok())
                            .unwrap_or([0; 8]);
                        let keep = u64::from_be_bytes(stamp) >= oldest;
                        if !keep {
                            gone.insert(key.to_owned());
                        }
                        keep
                    })
                    .map_err(db_err)?;
                if !gone.is_empty() {
                    let mut subjects = txn.open_table(SUBJECTS).map_err(db_err)?;
                    subjects
                        .retain(|key, _| {
                            let mut parts = key.splitn(3, '\0');
                            let (Some(tenant), Some(_), Some(job)) =
                                (parts.next(), parts.next(), parts.next())
                            else {
                                return false;
                            };
                            !gone.contains(&format!("{tenant}\0{job}"))
                        })
                        .map_err(db_err)?;
                }
            }
            let removed = gone.len() as u64;
            txn.commit().map_err(db_err)?;
            Ok(removed)
        })
        .await
        .map_err(db_err)?
    }

    async fn erase(
        &self,
        tenant_id: &str,
        subject: Option<&SubjectKey>,
    ) -> Result<u64, StoreError> {
        let db = self.db.clone();
        let tenant_prefix = format!("{tenant_id}\0");
        let subject_prefix = subject.map(|s| format!("{tenant_id}\0{s}\0"));
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_write().map_err(db_err)?;
            let mut removed = 0u64;
            {
                let mut results = txn.open_table(RESULTS).map_err(db_err)?;
                let mut subjects = txn.open_table(SUBJECTS).map_err(db_err)?;
                match &subject_prefix {
                    Some(prefix) => {
                        let mut jobs = Vec::new();
                        subjects
                            .retain(|k, _| {
                                let hit = k.starts_with(prefix.as_str());
                                if hit {
                                    jobs.push(k[prefix.len()..].to_owned());
                                }
                                !hit
                            })
                            .map_err(db_err)?;
                        for job in jobs {
                            if results
                                .remove(key_of(&tenant_prefix, &job).as_str())
                                .map_err(db_err)?
                                .is_some()
                            {
                                removed += 1;
                            }
                        }
                    }
                    None => {
                        subjects
                            .retain(|k, _| !k.starts_with(tenant_prefix.as_str()))
                            .map_err(db_err)?;
                        results
                            .retain(|k, _| {
                                let hit = k.starts_with(tenant_prefix.as_str());
                                removed += u64::from(hit);
                                !hit
                            })
                            .map_err(db_err)?;
                    }
                }
            }
            txn.commit().map_err(db_err)?;
            Ok(removed)
        })
        .await
        .map_err(db_err)?
    }

    async fn results(&self, tenant_id: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let db = self.db.clone();
        let prefix = format!("{tenant_id}\0");
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(RESULTS).map_err(db_err)?;
            let mut out = Vec::new();
            for entry in table.range(prefix.as_str()..).map_err(db_err)? {
                let (key, value) = entry.map_err(db_err)?;
                if !key.value().starts_with(prefix.as_str()) {
                    break;
                }
                out.push(value.value().get(8..).unwrap_or_default().to_vec());
            }
            Ok(out)
        })
        .await
        .map_err(db_err)?
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(RESULTS).map_err(db_err)?;
            table.len().map_err(db_err)
        })
        .await
        .map_err(db_err)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_reads_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let store = RedbJobStore::open(&path, Duration::from_secs(3600)).unwrap();
        assert!(store.get("acme", "j1").await.unwrap().is_none());
        let ids: Vec<String> = (0..100).map(|i| format!("j{i}")).collect();
        let puts = ids.iter().map(|id| store.put("acme", id, b"{}".to_vec()));
        for outcome in futures::future::join_all(puts).await {
            outcome.unwrap();
        }
        assert_eq!(store.get("acme", "j1").await.unwrap().unwrap(), b"{}");
        assert!(store.get("other", "j1").await.unwrap().is_none());
        assert_eq!(store.expire().await.unwrap(), 0);
        assert_eq!(store.count().await.unwrap(), 100);

        let expired = RedbJobStore {
            db: store.db.clone(),
            window: Duration::ZERO,
            writes: store.writes.clone(),
        };
        // Records written this second are not older than a zero window yet; those from the past are.
        assert!(expired.expire().await.unwrap() <= 100);
    }

    #[test]
    fn a_second_open_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let _first = RedbJobStore::open(&path, Duration::from_secs(1)).unwrap();
        let second = RedbJobStore::open(&path, Duration::from_secs(1));
        assert!(
            matches!(second, Err(StoreError::Locked(_))),
            "{:?}",
            second.err()
        );
    }
}
