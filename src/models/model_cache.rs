//! Where `scripts/fetch-models.sh` puts the model files, and the check that they are there.
//!
//! The cache is shared by every data dir and filled only by the fetch script (which verifies
//! the sha256 of every file). This module only finds files; it never downloads anything.

use std::path::{Path, PathBuf};

use super::EmbedError;

/// The model cache directory and the layout the fetch script gives it.
#[derive(Debug, Clone)]
pub struct ModelCache {
    dir: PathBuf,
}

/// The files one ONNX model needs.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub model: PathBuf,
    pub tokenizer: PathBuf,
}

impl ModelCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelCache { dir: dir.into() }
    }

    /// The fetch script's default: `$JAMBO_MODEL_CACHE`, else
    /// `${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/models`.
    pub fn from_env() -> Self {
        Self::new(default_dir(|name| {
            std::env::var_os(name).filter(|v| !v.is_empty())
        }))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// all-MiniLM-L6-v2, int8 ONNX, with its tokenizer.
    pub fn minilm(&self) -> Result<ModelFiles, EmbedError> {
        self.model_files("minilm-l6-v2-int8", "model.onnx")
    }

    /// The Rampart PII token classifier (privacy issue), with its tokenizer.
    pub fn rampart(&self) -> Result<ModelFiles, EmbedError> {
        self.model_files("rampart", "model_q4.onnx")
    }

    /// Where `scripts/fetch-name-lists.sh` writes the first- and last-name lists.
    pub fn name_lists_dir(&self) -> PathBuf {
        self.dir.join("names")
    }

    /// libonnxruntime.so from the onnxruntime wheel.
    pub fn onnxruntime_library(&self) -> Result<PathBuf, EmbedError> {
        let dir = self.dir.join("onnxruntime");
        let library = dir.join("libonnxruntime.so");
        require(&dir, &[&library])?;
        Ok(library)
    }

    fn model_files(&self, name: &str, model: &str) -> Result<ModelFiles, EmbedError> {
        let dir = self.dir.join(name);
        let files = ModelFiles {
            model: dir.join(model),
            tokenizer: dir.join("tokenizer.json"),
            dir,
        };
        require(&files.dir, &[&files.model, &files.tokenizer])?;
        Ok(files)
    }
}

fn default_dir(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if let Some(dir) = var("JAMBO_MODEL_CACHE") {
        return PathBuf::from(dir);
    }
    let cache_home = match (var("XDG_CACHE_HOME"), var("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => Path::new(&home).join(".cache"),
        // No home at all (a bare container): a relative dir is still better than failing here;
        // the missing-files error names it.
        (None, None) => PathBuf::from(".cache"),
    };
    cache_home.join("jambo-worker").join("models")
}

fn require(dir: &Path, files: &[&Path]) -> Result<(), EmbedError> {
    let missing: Vec<String> = files
        .iter()
        .filter(|file| !file.is_file())
        .map(|file| {
            file.file_name()
                .unwrap_or(file.as_os_str())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(EmbedError::ModelMissing {
        dir: dir.to_path_buf(),
        missing: format!("no {}", missing.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(
        pairs: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<std::ffi::OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).into())
        }
    }

    #[test]
    fn default_dir_follows_the_fetch_script() {
        assert_eq!(
            default_dir(env(&[("JAMBO_MODEL_CACHE", "/m"), ("HOME", "/h")])),
            Path::new("/m")
        );
        assert_eq!(
            default_dir(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Path::new("/x/jambo-worker/models")
        );
        assert_eq!(
            default_dir(env(&[("HOME", "/h")])),
            Path::new("/h/.cache/jambo-worker/models")
        );
    }

    #[test]
    fn missing_files_name_the_fetch_script() {
        let cache = ModelCache::new("/nonexistent/jambo-models");
        let err = cache.minilm().unwrap_err();
        let message = err.to_string();
        assert!(message.contains("fetch-models.sh"), "{message}");
        assert!(message.contains("model.onnx, tokenizer.json"), "{message}");
        assert!(!err.is_retryable());
    }
}
