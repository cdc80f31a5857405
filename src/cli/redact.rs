//! `redact`: placeholders in the text, entities with byte offsets into the input.

use serde_json::json;

use super::one_shot::read_input;
use super::{CliError, RedactArgs};
use crate::config::Config;
use crate::privacy::redact::{Pseudonymizer, Redactor};

pub fn run(config: &Config, args: &RedactArgs, json_out: bool) -> Result<(), CliError> {
    let bytes = read_input(&args.input)?;
    let redactor = Redactor::for_tier(&config.models_dir, args.tier);
    let redacted = Pseudonymizer::new().redact_bytes(&redactor, &bytes);
    if json_out {
        let out = json!({"text": redacted.text, "entities": redacted.entities});
        println!("{out}");
    } else {
        println!("{}", redacted.text);
        let counts: Vec<String> = redacted
            .counts_by_type
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        eprintln!(
            "redacted: {}",
            if counts.is_empty() {
                "nothing".into()
            } else {
                counts.join(", ")
            }
        );
    }
    Ok(())
}
