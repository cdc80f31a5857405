//! `eval TASK --data PATH`: the quality evaluations of `crate::eval`.

use super::{CliError, EvalArgs};
use crate::config::Config;
use crate::eval::Options;

pub async fn run(config: &Config, args: &EvalArgs, json_out: bool) -> Result<(), CliError> {
    let options = Options {
        tier: args.tier,
        repeat: args.repeat,
        predictions: args.predictions.clone(),
        split: args.split,
        engine: args.engine,
        limit: args.limit,
    };
    crate::eval::run(config, args.task, &args.data, &options, json_out).await?;
    Ok(())
}
