//! What the one-shot commands share: reading their input, and running one job through the real
//! pipeline (no queue) to print its result event.

use serde_json::{Value, json};

use super::CliError;
use crate::config::Config;
use crate::queue::{Discard, Message};

/// A job envelope for a command-line job.
pub(super) fn job_json(job_type: &str, tenant: &str, payload: Value) -> Value {
    json!({
        "v": 1,
        "id": format!("cli-{:016x}", rand::random::<u64>()),
        "type": job_type,
        "tenant_id": tenant,
        "payload": payload,
    })
}

/// The bytes of a file, or of stdin for `-`.
pub(super) fn read_input(input: &str) -> Result<Vec<u8>, CliError> {
    if input == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map_err(CliError::failed)?;
        Ok(bytes)
    } else {
        std::fs::read(input).map_err(|err| CliError::Usage(format!("{input}: {err}")))
    }
}

/// Runs one job through the pipeline and prints its result event (compact JSON with `--json`,
/// pretty otherwise).
pub(super) async fn execute_and_print(
    config: &Config,
    job: Value,
    json_out: bool,
) -> Result<(), CliError> {
    let pipeline = crate::app::pipeline(config).await?;
    let message = Message::new(serde_json::to_vec(&job).map_err(CliError::failed)?);
    let executed = pipeline
        .execute(&message, &Discard)
        .await
        .map_err(|failure| CliError::from(failure.error))?;
    let text = if json_out {
        serde_json::to_string(&executed.event)
    } else {
        serde_json::to_string_pretty(&executed.event)
    }
    .map_err(CliError::failed)?;
    println!("{text}");
    Ok(())
}
