-- The audit log of every replica's provider calls (no content: ids, purpose, provider, model,
-- outcome, token counts, redaction counts), one JSON record a row.
CREATE TABLE IF NOT EXISTS jambo_audit (
    id        bigserial   PRIMARY KEY,
    time      timestamptz NOT NULL,
    tenant_id text        NOT NULL,
    record    jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS jambo_audit_tenant_time ON jambo_audit (tenant_id, time);
CREATE INDEX IF NOT EXISTS jambo_audit_time ON jambo_audit (time);
