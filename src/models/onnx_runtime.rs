//! The process-wide ONNX Runtime: loads libonnxruntime.so once and hands out its environment.
//!
//! ONNX Runtime allows one environment per process, and the `ort` crate panics if a session
//! is created before the library is loaded; every ONNX model of the worker (this embedder and
//! the PII tagger) gets its environment here so neither can happen. In the worker this module
//! belongs next to both users (e.g. `src/onnx.rs`) rather than under `embed/`.

use std::path::Path;
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;

use super::EmbedError;

/// The environment, created on first use. A failed attempt leaves it empty so a later call
/// (after the fetch script ran) can succeed.
static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

/// Loads libonnxruntime from `library` (first call only) and returns the process environment.
///
/// Later calls return the same environment whatever `library` they name: a process cannot
/// switch runtimes once one is loaded.
pub fn environment(library: &Path) -> Result<Environment, EmbedError> {
    let mut slot = ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(environment) = slot.as_ref() {
        return Ok(environment.clone());
    }
    let runtime_error = |message: String| EmbedError::Runtime {
        path: library.to_path_buf(),
        message,
    };
    let environment = ort::init_from(library)
        .map_err(|err| runtime_error(err.to_string()))?
        .with_name("jambo-worker")
        .build()
        .map_err(|err| runtime_error(err.to_string()))?;
    *slot = Some(environment.clone());
    Ok(environment)
}

/// How a session allocates the tensors of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// ONNX Runtime's CPU arena: buffers are kept for the next run. Faster (no page faults per
    /// run) and bounded by the largest batch shape, so for small batches only.
    Arena,
    /// Plain malloc/free per run: for large or rare batches whose peak should not stay resident.
    PerRun,
}

/// Opens `model` with `intra_threads` threads for the operators of one run and no
/// inter-operator parallelism (these BERT graphs are a chain, it would only add threads).
pub fn session(
    environment: &Environment,
    model: &Path,
    intra_threads: usize,
    allocation: Allocation,
) -> Result<Session, EmbedError> {
    let load_error = |message: String| EmbedError::ModelLoad {
        path: model.to_path_buf(),
        message,
    };
    let mut builder = Session::builder(environment)
        .map_err(|err| load_error(err.to_string()))?
        .with_intra_threads(intra_threads.max(1))
        .map_err(|err| load_error(err.to_string()))?
        .with_inter_threads(1)
        .map_err(|err| load_error(err.to_string()))?
        // Every batch has its own shape (padded to its longest text); planning memory per
        // shape keeps a buffer set for each, so peak RSS grows with the number of shapes seen.
        .with_memory_pattern(false)
        .map_err(|err| load_error(err.to_string()))?
        // The CPU arena keeps the largest buffers any batch ever needed and never returns them
        // (batches of 32 texts of 256 tokens: 1.5 GB in one process); without it every run
        // page-faults its buffers afresh (about 30% slower with one thread here).
        .with_execution_providers([ort::ep::CPU::default()
            .with_arena_allocator(allocation == Allocation::Arena)
            .build()])
        .map_err(|err| load_error(err.to_string()))?;
    builder
        .commit_from_file(model)
        .map_err(|err| load_error(err.to_string()))
}
