//! Shared state on PostgreSQL (`[state] backend = "postgres"`): the idempotency records and
//! results of every replica (a job id is claimed once across the fleet), the tenant settings
//! with a version, and the usage metered per tenant and day (jobs; provider calls and tokens,
//! against which the daily token budget is checked fleet-wide), and the audit log of every
//! replica's provider calls. The schema is migrated at start under an advisory lock, so replicas that
//! start together apply each migration once.
//!
//! Connections come from a `deadpool-postgres` pool of `tokio-postgres` clients. The statements
//! every job makes (the tenant's settings version, the claim, the stored result) are batched:
//! whatever jobs wait at that moment share one statement and one commit (`batch.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::batch::Batcher;
use super::jobs::{Claim, JobStore, StoreError};
use crate::contract::keys::SubjectKey;
use crate::contract::tenant::TenantSettings;

/// The schema migrations, in order (each applied once, inside one transaction).
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_state.sql")),
    (2, include_str!("migrations/0002_usage.sql")),
    (3, include_str!("migrations/0003_audit.sql")),
];

/// One day of a tenant's metered usage with one provider (`""`: the jobs it finished).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageRow {
    pub day: String,
    pub provider: String,
    pub jobs: i64,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// `postgres://user@host:port/db` (a password in it is used).
    pub url: String,
    pub password: Option<String>,
    /// The schema the tables live in (created when missing); `public` by default.
    pub schema: String,
    /// Connections per replica.
    pub pool_size: usize,
    /// How long a claim holds a job for one replica before another may take it over (a replica
    /// that died while running it).
    pub claim_lease: Duration,
}

/// The pool, migrated.
#[derive(Clone)]
pub struct PgState {
    pool: Pool,
    /// Batches of settings-version reads.
    versions: Arc<Batcher<String, Option<i64>>>,
    /// How many batches of one kind run at once.
    lanes: usize,
    claim_lease: Duration,
    /// This process (pid and a random part), as the owner of its claims and of the results it
    /// stored.
    owner: String,
}

fn db(err: impl std::fmt::Display) -> StoreError {
    StoreError::Db(format!("postgres: {err}"))
}

/// A schema name that can be written into SQL as is.
fn valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit()
}

impl PgState {
    /// Connects, creates the schema when missing and applies the migrations not applied yet.
    pub async fn connect(settings: &PgSettings) -> Result<PgState, StoreError> {
        if !valid_schema(&settings.schema) {
            return Err(StoreError::Db(format!(
                "state.schema {:?}: lower-case letters, digits and _ only",
                settings.schema
            )));
        }
        let mut config: tokio_postgres::Config = settings
            .url
            .parse()
            .map_err(|e| StoreError::Db(format!("state.url: {e}")))?;
        if let Some(password) = &settings.password {
            config.password(password);
        }
        config.options(format!("-c search_path={}", settings.schema));
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        // each replica's connections can be told apart in pg_stat_activity
        config.application_name(format!("jambo-worker {owner}"));
        config.connect_timeout(Duration::from_secs(10));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size.max(1))
            .build()
            .map_err(db)?;
        // a quarter of the pool for each of the three kinds of batched statement, the rest for
        // the others
        let lanes = (settings.pool_size / 4).max(1);
        let versions = {
            let pool = pool.clone();
            Batcher::new(lanes, move |ids: Vec<String>| {
                let pool = pool.clone();
                async move { versions(&pool, ids).await }
            })
        };
        let state = PgState {
            pool,
            versions: Arc::new(versions),
            lanes,
            claim_lease: settings.claim_lease,
            owner,
        };
        state.migrate(&settings.schema).await?;
        Ok(state)
    }

    async fn migrate(&self, schema: &str) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(db)?;
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .or_else(|err| {
                // two replicas creating the schema at once: the loser sees a duplicate
                if err.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                    Ok(())
                } else {
                    Err(db(err))
                }
            })?;
        let txn = client.transaction().await.map_err(db)?;
        // one replica migrates at a time; the others wait here, then find nothing to do
        txn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('jambo_migrations:' || current_schema()))",
            &[],
        )
        .await
        .map_err(db)?;
        txn.batch_execute(
            "CREATE TABLE IF NOT EXISTS jambo_migrations (
                 version    integer     PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(db)?;
        let applied: i32 = txn
            .query_one(
                "SELECT coalesce(max(version), 0) FROM jambo_migrations",
                &[],
            )
            .await
            .map_err(db)?
            .get(0);
        for (version, sql) in MIGRATIONS {
            if *version > applied {
                txn.batch_execute(sql).await.map_err(db)?;
                txn.execute(
                    "INSERT INTO jambo_migrations (version) VALUES ($1)",
                    &[version],
                )
                .await
                .map_err(db)?;
                tracing::info!(event = "state_migrated", version = *version);
            }
        }
        txn.commit().await.map_err(db)?;
        Ok(())
    }

    /// A client of the pool (tests and the tenant store).
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(db)
    }

    /// Connections open now / the pool's limit.
    pub fn connections(&self) -> (usize, usize) {
        let status = self.pool.status();
        (status.size, status.max_size)
    }

    /// A tenant's settings and their version.
    pub async fn tenant(
        &self,
        tenant_id: &str,
    ) -> Result<Option<(TenantSettings, i64)>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT settings::text, version FROM jambo_tenants WHERE tenant_id = $1",
                &[&tenant_id],
            )
            .await
            .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.get(0);
        let settings: TenantSettings = serde_json::from_str(&text)
            .map_err(|e| StoreError::Db(format!("tenant {tenant_id}: stored settings: {e}")))?;
        Ok(Some((settings, row.get(1))))
    }

    /// The version of a tenant's settings (one cheap read per job, batched with the other
    /// jobs' reads).
    pub async fn tenant_version(&self, tenant_id: &str) -> Result<Option<i64>, StoreError> {
        self.versions.call(tenant_id.to_owned()).await
    }

    /// Writes a tenant's settings; returns the new version (one more than the last).
    pub async fn put_tenant(&self, settings: &TenantSettings) -> Result<i64, StoreError> {
        let text = serde_json::to_string(settings).map_err(db)?;
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO jambo_tenants (tenant_id, settings, version)
                 VALUES ($1, $2::text::jsonb, 1)
                 ON CONFLICT (tenant_id) DO UPDATE
                   SET settings = excluded.settings,
                       version = jambo_tenants.version + 1,
                       updated_at = now()
                 RETURNING version",
                &[&settings.tenant_id, &text],
            )
            .await
            .map_err(db)?;
        Ok(row.get(0))
    }

    /// Adds one provider call's tokens to the tenant's usage of today (UTC).
    pub async fn add_usage(
        &self,
        tenant_id: &str,
        provider: &str,
        prompt_tokens: u64,
        completion_tokens: u64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO jambo_usage (tenant_id, day, provider, calls, prompt_tokens, completion_tokens)
                 VALUES ($1, (now() AT TIME ZONE 'utc')::date, $2, 1, $3, $4)
                 ON CONFLICT (tenant_id, day, provider) DO UPDATE
                   SET calls = jambo_usage.calls + 1,
                       prompt_tokens = jambo_usage.prompt_tokens + excluded.prompt_tokens,
                       completion_tokens = jambo_usage.completion_tokens + excluded.completion_tokens",
                &[
                    &tenant_id,
                    &provider,
                    &(prompt_tokens as i64),
                    &(completion_tokens as i64),
                ],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Provider tokens (prompt and completion) the whole fleet used for the tenant today (UTC).
    pub async fn tokens_today(&self, tenant_id: &str) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let n: i64 = client
            .query_one(
                "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0)::bigint FROM jambo_usage
                 WHERE tenant_id = $1 AND day = (now() AT TIME ZONE 'utc')::date",
                &[&tenant_id],
            )
            .await
            .map_err(db)?
            .get(0);
        Ok(n.max(0) as u64)
    }

    /// A tenant's metered usage, by day and provider, newest day first.
    pub async fn usage(&self, tenant_id: &str) -> Result<Vec<UsageRow>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT day::text, provider, jobs, calls, prompt_tokens, completion_tokens
                 FROM jambo_usage WHERE tenant_id = $1 ORDER BY day DESC, provider",
                &[&tenant_id],
            )
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| UsageRow {
                day: r.get(0),
                provider: r.get(1),
                jobs: r.get(2),
                calls: r.get(3),
                prompt_tokens: r.get(4),
                completion_tokens: r.get(5),
            })
            .collect())
    }

    /// Appends one audit record (its JSON), durable when this returns.
    pub async fn append_audit(
        &self,
        tenant_id: &str,
        time: &str,
        record: &str,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO jambo_audit (time, tenant_id, record)
                 VALUES ($1::text::timestamptz, $2, $3::text::jsonb)",
                &[&time, &tenant_id, &record],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Every audit record of the fleet (their JSON), oldest first.
    pub async fn audit_records(&self) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT record::text FROM jambo_audit ORDER BY time, id",
                &[],
            )
            .await
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Deletes the audit records older than `retention`; returns how many went.
    pub async fn expire_audit(&self, retention: Duration) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM jambo_audit WHERE time < now() - make_interval(secs => $1)",
                &[&retention.as_secs_f64()],
            )
            .await
            .map_err(db)
    }

    /// Every tenant id with settings.
    pub async fn tenant_ids(&self) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT tenant_id FROM jambo_tenants ORDER BY tenant_id",
                &[],
            )
            .await
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// The settings versions of `ids`, in their order.
async fn versions(pool: &Pool, ids: Vec<String>) -> Result<Vec<Option<i64>>, StoreError> {
    let client = pool.get().await.map_err(db)?;
    let rows = client
        .query(
            "SELECT tenant_id, version FROM jambo_tenants WHERE tenant_id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(db)?;
    let found: HashMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(ids.iter().map(|id| found.get(id).copied()).collect())
}

/// The job store on PostgreSQL: one row per job, `running` while a replica holds its claim,
/// `done` with the result once stored.
pub struct PgJobStore {
    state: PgState,
    window: Duration,
    claims: Batcher<(String, String), Claim>,
    puts: Batcher<Put, ()>,
}

/// A result to store.
struct Put {
    tenant_id: String,
    job_id: String,
    event: Vec<u8>,
    subjects: Vec<String>,
}

/// What a batch of claims or results needs to know of the store.
#[derive(Clone)]
struct Batching {
    pool: Pool,
    owner: String,
    lease_secs: f64,
    window_secs: f64,
}

impl PgJobStore {
    /// Must be called inside a Tokio runtime (it starts the batch tasks).
    pub fn new(state: PgState, window: Duration) -> PgJobStore {
        let batching = Batching {
            pool: state.pool.clone(),
            owner: state.owner.clone(),
            lease_secs: lease_secs(state.claim_lease),
            window_secs: window.as_secs_f64(),
        };
        let claims = {
            let batching = batching.clone();
            Batcher::new(state.lanes, move |keys| {
                let batching = batching.clone();
                async move { batching.claim(keys).await }
            })
        };
        let puts = Batcher::new(state.lanes, move |puts| {
            let batching = batching.clone();
            async move { batching.put(puts).await }
        });
        PgJobStore {
            state,
            window,
            claims,
            puts,
        }
    }
}

impl Batching {
    /// One statement for many claims: insert `running` rows, or take over lapsed claims and
    /// results older than the window; the rest are another replica's (busy) or results to
    /// answer with. Rows are locked in key order, so two batches never deadlock. A key twice in
    /// one batch: the first copy claims it, the others are busy.
    async fn claim(&self, keys: Vec<(String, String)>) -> Result<Vec<Claim>, StoreError> {
        let mut first = std::collections::HashSet::new();
        let (mut tenants, mut jobs) = (Vec::new(), Vec::new());
        for (tenant_id, job_id) in &keys {
            if first.insert((tenant_id.as_str(), job_id.as_str())) {
                tenants.push(tenant_id.as_str());
                jobs.push(job_id.as_str());
            }
        }
        let client = self.pool.get().await.map_err(db)?;
        let rows = client
            .query(
                "WITH input AS (
                     SELECT * FROM unnest($1::text[], $2::text[]) AS i(tenant_id, job_id)
                     ORDER BY tenant_id, job_id),
                 taken AS (
                     INSERT INTO jambo_jobs (tenant_id, job_id, state, owner, lease_until)
                     SELECT tenant_id, job_id, 'running', $3, now() + make_interval(secs => $4)
                     FROM input
                     ON CONFLICT (tenant_id, job_id) DO UPDATE
                       SET state = 'running', owner = $3, result = NULL, subjects = '{}',
                           lease_until = now() + make_interval(secs => $4), stored_at = now()
                       WHERE (jambo_jobs.state = 'running' AND jambo_jobs.lease_until < now())
                          OR (jambo_jobs.state = 'done'
                              AND jambo_jobs.stored_at <= now() - make_interval(secs => $5))
                     RETURNING tenant_id, job_id)
                 SELECT i.tenant_id, i.job_id, t.job_id IS NOT NULL, j.state, j.result
                 FROM input i
                 LEFT JOIN taken t ON t.tenant_id = i.tenant_id AND t.job_id = i.job_id
                 LEFT JOIN jambo_jobs j ON j.tenant_id = i.tenant_id AND j.job_id = i.job_id",
                &[
                    &tenants,
                    &jobs,
                    &self.owner,
                    &self.lease_secs,
                    &self.window_secs,
                ],
            )
            .await
            .map_err(db)?;
        let mut answers: HashMap<(String, String), Claim> = HashMap::new();
        for row in rows {
            let claim = if row.get::<_, bool>(2) {
                Claim::Run
            } else {
                // the row as it was before this statement: a result within the window, or a
                // claim of another replica (or a row that appeared meanwhile: ask again later)
                match (
                    row.get::<_, Option<String>>(3),
                    row.get::<_, Option<Vec<u8>>>(4),
                ) {
                    (Some(state), Some(bytes)) if state == "done" => Claim::Done(bytes),
                    _ => Claim::Busy,
                }
            };
            answers.insert((row.get(0), row.get(1)), claim);
        }
        Ok(keys
            .iter()
            .map(|key| answers.remove(key).unwrap_or(Claim::Busy))
            .collect())
    }

    /// One statement for many results, and the tenants' job counts of the day with them. A
    /// key twice in one batch: the last copy is stored.
    async fn put(&self, puts: Vec<Put>) -> Result<Vec<()>, StoreError> {
        let n = puts.len();
        let mut last: HashMap<(&str, &str), &Put> = HashMap::new();
        for put in &puts {
            last.insert((put.tenant_id.as_str(), put.job_id.as_str()), put);
        }
        let mut rows: Vec<&Put> = last.into_values().collect();
        rows.sort_by(|a, b| (&a.tenant_id, &a.job_id).cmp(&(&b.tenant_id, &b.job_id)));
        let tenants: Vec<&str> = rows.iter().map(|p| p.tenant_id.as_str()).collect();
        let jobs: Vec<&str> = rows.iter().map(|p| p.job_id.as_str()).collect();
        let events: Vec<&[u8]> = rows.iter().map(|p| p.event.as_slice()).collect();
        let subjects: Vec<String> = rows
            .iter()
            .map(|p| serde_json::to_string(&p.subjects).unwrap_or_else(|_| "[]".into()))
            .collect();
        let client = self.pool.get().await.map_err(db)?;
        client
            .execute(
                "WITH input AS (
                     SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[])
                       AS i(tenant_id, job_id, result, subjects)
                     ORDER BY tenant_id, job_id),
                 stored AS (
                     INSERT INTO jambo_jobs (tenant_id, job_id, state, result, subjects, owner)
                     SELECT tenant_id, job_id, 'done', result,
                            ARRAY(SELECT jsonb_array_elements_text(subjects::jsonb)), $5
                     FROM input
                     ON CONFLICT (tenant_id, job_id) DO UPDATE
                       SET state = 'done', result = excluded.result,
                           subjects = excluded.subjects, owner = excluded.owner,
                           lease_until = NULL, stored_at = now()
                     RETURNING tenant_id)
                 INSERT INTO jambo_usage (tenant_id, day, provider, jobs)
                 SELECT tenant_id, (now() AT TIME ZONE 'utc')::date, '', count(*)
                 FROM stored GROUP BY tenant_id ORDER BY tenant_id
                 ON CONFLICT (tenant_id, day, provider) DO UPDATE
                   SET jobs = jambo_usage.jobs + excluded.jobs",
                &[&tenants, &jobs, &events, &subjects, &self.owner],
            )
            .await
            .map_err(db)?;
        Ok(vec![(); n])
    }
}

fn lease_secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1.0)
}

#[async_trait]
impl JobStore for PgJobStore {
    async fn get(&self, tenant_id: &str, job_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.state.client().await?;
        let row = client
            .query_opt(
                "SELECT result FROM jambo_jobs
                 WHERE tenant_id = $1 AND job_id = $2 AND state = 'done'
                   AND stored_at > now() - make_interval(secs => $3)",
                &[&tenant_id, &job_id, &self.window.as_secs_f64()],
            )
            .await
            .map_err(db)?;
        Ok(row.and_then(|r| r.get::<_, Option<Vec<u8>>>(0)))
    }

    /// Batched with the other jobs' claims (see `Batching::claim`).
    async fn claim(&self, tenant_id: &str, job_id: &str) -> Result<Claim, StoreError> {
        self.claims
            .call((tenant_id.to_owned(), job_id.to_owned()))
            .await
    }

    fn renew_every(&self) -> Option<Duration> {
        Some(self.state.claim_lease / 3)
    }

    async fn renew(&self, tenant_id: &str, job_id: &str) -> Result<(), StoreError> {
        let client = self.state.client().await?;
        client
            .execute(
                "UPDATE jambo_jobs SET lease_until = now() + make_interval(secs => $4)
                 WHERE tenant_id = $1 AND job_id = $2 AND state = 'running' AND owner = $3",
                &[
                    &tenant_id,
                    &job_id,
                    &self.state.owner,
                    &lease_secs(self.state.claim_lease),
                ],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn release(&self, tenant_id: &str, job_id: &str) -> Result<(), StoreError> {
        let client = self.state.client().await?;
        client
            .execute(
                "DELETE FROM jambo_jobs
                 WHERE tenant_id = $1 AND job_id = $2 AND state = 'running' AND owner = $3",
                &[&tenant_id, &job_id, &self.state.owner],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn put_about(
        &self,
        tenant_id: &str,
        job_id: &str,
        event: Vec<u8>,
        subjects: Vec<SubjectKey>,
    ) -> Result<(), StoreError> {
        // batched with the other jobs' results (see `Batching::put`)
        self.puts
            .call(Put {
                tenant_id: tenant_id.to_owned(),
                job_id: job_id.to_owned(),
                event,
                subjects: subjects.iter().map(ToString::to_string).collect(),
            })
            .await
    }

    async fn erase(
        &self,
        tenant_id: &str,
        subject: Option<&SubjectKey>,
    ) -> Result<u64, StoreError> {
        let client = self.state.client().await?;
        let removed = match subject {
            Some(subject) => {
                client
                    .execute(
                        "DELETE FROM jambo_jobs WHERE tenant_id = $1 AND subjects @> ARRAY[$2]",
                        &[&tenant_id, &subject.to_string()],
                    )
                    .await
            }
            None => {
                // the whole tenant goes: its usage too
                client
                    .execute(
                        "DELETE FROM jambo_usage WHERE tenant_id = $1",
                        &[&tenant_id],
                    )
                    .await
                    .map_err(db)?;
                client
                    .execute("DELETE FROM jambo_jobs WHERE tenant_id = $1", &[&tenant_id])
                    .await
            }
        }
        .map_err(db)?;
        Ok(removed)
    }

    async fn expire(&self) -> Result<u64, StoreError> {
        let client = self.state.client().await?;
        client
            .execute(
                "DELETE FROM jambo_jobs
                 WHERE state = 'done' AND stored_at <= now() - make_interval(secs => $1)",
                &[&self.window.as_secs_f64()],
            )
            .await
            .map_err(db)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let client = self.state.client().await?;
        let n: i64 = client
            .query_one("SELECT count(*) FROM jambo_jobs WHERE state = 'done'", &[])
            .await
            .map_err(db)?
            .get(0);
        Ok(n.max(0) as u64)
    }

    async fn results(&self, tenant_id: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let client = self.state.client().await?;
        let rows = client
            .query(
                "SELECT result FROM jambo_jobs
                 WHERE tenant_id = $1 AND state = 'done' ORDER BY job_id",
                &[&tenant_id],
            )
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<_, Option<Vec<u8>>>(0))
            .collect())
    }
}
