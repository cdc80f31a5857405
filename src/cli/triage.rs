//! `triage` and `suggest`: one lead or one conversation through the tenant's triage engine.
//! Each accepts the inner object or a whole job.

use serde_json::{Value, json};

use super::one_shot::{execute_and_print, job_json, read_input};
use super::{CliError, JobInputArgs};
use crate::config::Config;

/// `triage`: a lead, or a whole `lead.process` job.
pub async fn lead(config: &Config, args: &JobInputArgs, json_out: bool) -> Result<(), CliError> {
    run_one(config, "lead.process", "lead", args, json_out).await
}

/// `suggest`: a conversation, or a whole `reply.suggest` job.
pub async fn reply(config: &Config, args: &JobInputArgs, json_out: bool) -> Result<(), CliError> {
    run_one(config, "reply.suggest", "conversation", args, json_out).await
}

async fn run_one(
    config: &Config,
    job_type: &str,
    key: &str,
    args: &JobInputArgs,
    json_out: bool,
) -> Result<(), CliError> {
    let bytes = read_input(&args.input)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|err| CliError::Usage(format!("{}: invalid JSON: {err}", args.input)))?;
    let job = if value.get("type").is_some() && value.get("payload").is_some() {
        value
    } else {
        job_json(job_type, &args.tenant, json!({ key: value }))
    };
    execute_and_print(config, job, json_out).await
}
