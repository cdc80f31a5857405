//! Shared state on PostgreSQL (`[state] backend = "postgres"`): the idempotency records and
//! results of every replica (a job id is claimed once across the fleet), the tenant settings
//! with a version, and the usage metered per tenant and day (jobs; provider calls and tokens,
//! against which the daily token budget is checked fleet-wide), and the audit log of every
//! replica's provider calls. The schema is migrated at start under an advisory lock, so replicas that
//! start together apply each migration once.
//!
//! Connections come from a `deadpool-postgres` pool of `tokio-postgres` clients.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

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
    claim_lease: Duration,
    /// This process, as the owner of its claims.
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
        config.application_name("jambo-worker");
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
        let state = PgState {
            pool,
            claim_lease: settings.claim_lease,
            owner: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()),
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

    /// The version of a tenant's settings (one cheap read per job).
    pub async fn tenant_version(&self, tenant_id: &str) -> Result<Option<i64>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT version FROM jambo_tenants WHERE tenant_id = $1",
                &[&tenant_id],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|r| r.get(0)))
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

/// The job store on PostgreSQL: one row per job, `running` while a replica holds its claim,
/// `done` with the result once stored.
pub struct PgJobStore {
    state: PgState,
    window: Duration,
}

impl PgJobStore {
    pub fn new(state: PgState, window: Duration) -> PgJobStore {
        PgJobStore { state, window }
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

    /// One statement: insert a `running` row, or take over a `running` row whose lease ran
    /// out, or a `done` row older than the window; else the row is another replica's (busy) or
    /// a result to answer with.
    async fn claim(&self, tenant_id: &str, job_id: &str) -> Result<Claim, StoreError> {
        let client = self.state.client().await?;
        let taken = client
            .query_opt(
                "INSERT INTO jambo_jobs (tenant_id, job_id, state, owner, lease_until)
                 VALUES ($1, $2, 'running', $3, now() + make_interval(secs => $4))
                 ON CONFLICT (tenant_id, job_id) DO UPDATE
                   SET state = 'running', owner = $3, result = NULL, subjects = '{}',
                       lease_until = now() + make_interval(secs => $4), stored_at = now()
                   WHERE (jambo_jobs.state = 'running' AND jambo_jobs.lease_until < now())
                      OR (jambo_jobs.state = 'done'
                          AND jambo_jobs.stored_at <= now() - make_interval(secs => $5))
                 RETURNING owner",
                &[
                    &tenant_id,
                    &job_id,
                    &self.state.owner,
                    &lease_secs(self.state.claim_lease),
                    &self.window.as_secs_f64(),
                ],
            )
            .await
            .map_err(db)?;
        if taken.is_some() {
            return Ok(Claim::Run);
        }
        let row = client
            .query_opt(
                "SELECT state, result FROM jambo_jobs WHERE tenant_id = $1 AND job_id = $2",
                &[&tenant_id, &job_id],
            )
            .await
            .map_err(db)?;
        Ok(match row {
            Some(row) if row.get::<_, String>(0) == "done" => {
                match row.get::<_, Option<Vec<u8>>>(1) {
                    Some(bytes) => Claim::Done(bytes),
                    None => Claim::Busy,
                }
            }
            // running elsewhere, or gone between the two statements (erased): ask again later
            Some(_) | None => Claim::Busy,
        })
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
        let subjects: Vec<String> = subjects.iter().map(ToString::to_string).collect();
        let client = self.state.client().await?;
        // the result and the tenant's job count of the day in one statement
        client
            .execute(
                "WITH stored AS (
                     INSERT INTO jambo_jobs (tenant_id, job_id, state, result, subjects)
                     VALUES ($1, $2, 'done', $3, $4)
                     ON CONFLICT (tenant_id, job_id) DO UPDATE
                       SET state = 'done', result = $3, subjects = $4, owner = NULL,
                           lease_until = NULL, stored_at = now()
                     RETURNING 1)
                 INSERT INTO jambo_usage (tenant_id, day, provider, jobs)
                 SELECT $1, (now() AT TIME ZONE 'utc')::date, '', count(*) FROM stored
                 ON CONFLICT (tenant_id, day, provider) DO UPDATE
                   SET jobs = jambo_usage.jobs + excluded.jobs",
                &[&tenant_id, &job_id, &event, &subjects],
            )
            .await
            .map_err(db)?;
        Ok(())
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
