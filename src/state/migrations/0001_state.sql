-- Shared state of a fleet of workers: idempotency records and results, tenant settings with a
-- version, and the audit log and usage counters (written by later steps of the fleet work).
CREATE TABLE IF NOT EXISTS jambo_jobs (
    tenant_id   text        NOT NULL,
    job_id      text        NOT NULL,
    -- 'running' while a replica holds the claim, 'done' once the result is stored
    state       text        NOT NULL,
    owner       text,
    lease_until timestamptz,
    result      bytea,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    subjects    text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, job_id)
);
CREATE INDEX IF NOT EXISTS jambo_jobs_subjects ON jambo_jobs USING gin (subjects);
CREATE INDEX IF NOT EXISTS jambo_jobs_stored_at ON jambo_jobs (stored_at);

CREATE TABLE IF NOT EXISTS jambo_tenants (
    tenant_id  text        PRIMARY KEY,
    settings   jsonb       NOT NULL,
    version    bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
