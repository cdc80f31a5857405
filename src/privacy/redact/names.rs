//! First-name and last-name lists, loaded at run time from files a setup script fetched from a
//! package (never copied into the repo). Without them the person detector uses context cues only.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Lower-cased first and last names. Cheap to query; build once per [`super::Redactor`].
#[derive(Debug, Clone, Default)]
pub struct NameLists {
    first: HashSet<String>,
    last: HashSet<String>,
}

/// The name lists folder exists but a list in it could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct NameListError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl NameLists {
    /// File names inside the folder, one name a line (UTF-8, `#` lines ignored).
    pub const FIRST_NAMES_FILE: &'static str = "first_names.txt";
    pub const LAST_NAMES_FILE: &'static str = "last_names.txt";

    /// No names: the redactor falls back to context cues.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Loads `first_names.txt` and `last_names.txt` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, NameListError> {
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read_to_string(&path).map_err(|source| NameListError { path, source })
        };
        let first = read(Self::FIRST_NAMES_FILE)?;
        let last = read(Self::LAST_NAMES_FILE)?;
        Ok(Self::from_lists(first.lines(), last.lines()))
    }

    /// Builds the lists from in-memory names (tests, embedding callers).
    pub fn from_lists<'a>(
        first: impl IntoIterator<Item = &'a str>,
        last: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let normalise = |names: &mut dyn Iterator<Item = &'a str>| -> HashSet<String> {
            names
                .map(str::trim)
                .filter(|n| !n.is_empty() && !n.starts_with('#'))
                .map(str::to_lowercase)
                .collect()
        };
        Self {
            first: normalise(&mut first.into_iter()),
            last: normalise(&mut last.into_iter()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty() && self.last.is_empty()
    }

    pub fn is_first_name(&self, word: &str) -> bool {
        self.first.contains(&word.to_lowercase())
    }

    pub fn is_last_name(&self, word: &str) -> bool {
        self.last.contains(&word.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_blank_and_comment_lines() {
        let lists = NameLists::from_lists(["# header", "Anna", ""], ["Szöllösy"]);
        assert!(lists.is_first_name("ANNA"));
        assert!(lists.is_last_name("szöllösy"));
        assert!(!lists.is_first_name("# header"));
    }

    #[test]
    fn load_from_missing_folder_is_an_error() {
        assert!(NameLists::load(Path::new("/nonexistent/names")).is_err());
        assert!(NameLists::empty().is_empty());
    }
}
