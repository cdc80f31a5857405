//! `erase`: a contact's data, a source, or everything of a tenant, with the same effect as the
//! `contact.erase`, `source.delete` and `tenant.erase` jobs.

use serde_json::json;

use super::one_shot::{execute_and_print, job_json};
use super::{CliError, EraseArgs};
use crate::config::Config;

pub async fn run(config: &Config, args: &EraseArgs, json_out: bool) -> Result<(), CliError> {
    let (job_type, payload) = match (&args.contact, &args.source) {
        (Some(contact), _) => ("contact.erase", json!({"contact_id": contact})),
        (None, Some(source)) => ("source.delete", json!({"source_id": source})),
        (None, None) => ("tenant.erase", json!({})),
    };
    execute_and_print(config, job_json(job_type, &args.tenant, payload), json_out).await
}
