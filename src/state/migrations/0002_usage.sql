-- Usage metered per tenant and day: jobs finished (provider '') and, per provider, calls and
-- tokens. The daily token budget of a tenant is checked against the fleet's sum here.
CREATE TABLE IF NOT EXISTS jambo_usage (
    tenant_id         text   NOT NULL,
    day               date   NOT NULL,
    provider          text   NOT NULL,
    jobs              bigint NOT NULL DEFAULT 0,
    calls             bigint NOT NULL DEFAULT 0,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, provider)
);
