//! Tenant settings (`<tenant_id>.toml` or a `tenant.configure` job): their shape, validation, and
//! the store that loads them from the tenants folder and writes the ones configured by jobs.
//!
//! Settings written by `tenant.configure` go to the tenants folder (`--tenants DIR`, else
//! `<data-dir>/tenants`). Lookups re-read a file when its modification time changes, so replicas
//! that share the folder see each other's changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The settings of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    pub tenant_id: String,
    #[serde(default = "default_route")]
    pub default_route: String,
    #[serde(default)]
    pub ai: AiSettings,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Routing rules; the first match wins.
    #[serde(default)]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiSettings {
    /// May content leave for an external AI provider at all.
    #[serde(default)]
    pub external: bool,
    /// May content be used to train or improve models (provider storage, exports).
    #[serde(default)]
    pub training_opt_in: bool,
    #[serde(default)]
    pub provider: Provider,
    /// Redact personal data in crawled knowledge before it is embedded and stored (the chunk
    /// text then holds typed placeholders). Off by default: knowledge is redacted by the
    /// provider gate before anything leaves the process, and PII found is tagged on each chunk.
    #[serde(default)]
    pub redact_knowledge: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    #[default]
    Local,
    Openai,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Conditions, all of which must hold (keys such as `category`, `language`, `spam`).
    #[serde(default)]
    pub when: Map<String, Value>,
    pub to: String,
}

fn default_route() -> String {
    "inbox".to_owned()
}

impl Default for AiSettings {
    fn default() -> Self {
        AiSettings {
            external: false,
            training_opt_in: false,
            provider: Provider::Local,
            redact_knowledge: false,
        }
    }
}

impl TenantSettings {
    /// Checks what serde cannot: ids, names and destinations. The error names the bad key.
    pub fn validate(&self) -> Result<(), String> {
        validate_tenant_id(&self.tenant_id).map_err(|msg| format!("tenant_id: {msg}"))?;
        if self.default_route.trim().is_empty() {
            return Err("default_route: must not be empty".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, category) in self.categories.iter().enumerate() {
            if category.name.trim().is_empty() {
                return Err(format!("categories[{i}].name: must not be empty"));
            }
            if !seen.insert(category.name.as_str()) {
                return Err(format!(
                    "categories[{i}].name: {:?} is defined twice",
                    category.name
                ));
            }
        }
        for (i, route) in self.routes.iter().enumerate() {
            if route.to.trim().is_empty() {
                return Err(format!("routes[{i}].to: must not be empty"));
            }
        }
        Ok(())
    }

    /// Every destination a lead of this tenant may be routed to.
    pub fn destinations(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.routes.iter().map(|r| r.to.as_str()).collect();
        all.push(&self.default_route);
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Tenant ids become file names and store keys: 1 to 64 of `a-z A-Z 0-9 _ -`.
pub fn validate_tenant_id(id: &str) -> Result<(), &'static str> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 64 characters of a-z, A-Z, 0-9, _ and -")
    }
}

/// Why settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Loads and stores tenant settings in one folder of `<tenant_id>.toml` files.
pub struct TenantStore {
    dir: PathBuf,
    /// Parsed settings with the modification time they were read at, so a file changed by
    /// another replica (or by hand) is re-read on the next lookup.
    cache: Mutex<HashMap<String, (SystemTime, Arc<TenantSettings>)>>,
}

impl TenantStore {
    /// Opens the folder, creating it when missing, and checks every settings file in it so that a
    /// broken file is reported at start rather than on the first job of that tenant.
    pub fn open(dir: impl Into<PathBuf>) -> Result<TenantStore, TenantError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| TenantError::Io {
            path: dir.clone(),
            source,
        })?;
        let store = TenantStore {
            dir,
            cache: Mutex::new(HashMap::new()),
        };
        for id in store.list()? {
            store.get(&id)?;
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The ids of all tenants with a settings file.
    pub fn list(&self) -> Result<Vec<String>, TenantError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| TenantError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.strip_suffix(".toml")?;
                validate_tenant_id(id).ok().map(|_| id.to_owned())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The tenant's settings, or `None` when the tenant is not configured.
    pub fn get(&self, tenant_id: &str) -> Result<Option<Arc<TenantSettings>>, TenantError> {
        if validate_tenant_id(tenant_id).is_err() {
            return Ok(None);
        }
        let path = self.path_of(tenant_id);
        let modified = match std::fs::metadata(&path).and_then(|m| m.modified()) {
            Ok(modified) => modified,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                self.lock().remove(tenant_id);
                return Ok(None);
            }
            Err(source) => return Err(TenantError::Io { path, source }),
        };
        if let Some((at, settings)) = self.lock().get(tenant_id)
            && *at == modified
        {
            return Ok(Some(settings.clone()));
        }
        let text = std::fs::read_to_string(&path).map_err(|source| TenantError::Io {
            path: path.clone(),
            source,
        })?;
        let settings: TenantSettings =
            toml::from_str(&text).map_err(|err| TenantError::Invalid {
                path: path.clone(),
                message: err.to_string(),
            })?;
        let invalid = |message: String| TenantError::Invalid {
            path: path.clone(),
            message,
        };
        settings.validate().map_err(invalid)?;
        if settings.tenant_id != tenant_id {
            return Err(invalid(format!(
                "tenant_id {:?} does not match the file name",
                settings.tenant_id
            )));
        }
        let settings = Arc::new(settings);
        self.lock()
            .insert(tenant_id.to_owned(), (modified, settings.clone()));
        Ok(Some(settings))
    }

    /// Writes the settings atomically (temporary file, then rename) and caches them.
    pub fn put(&self, settings: &TenantSettings) -> Result<(), TenantError> {
        let path = self.path_of(&settings.tenant_id);
        let io = |source| TenantError::Io {
            path: path.clone(),
            source,
        };
        let text = toml::to_string_pretty(settings).map_err(|err| TenantError::Invalid {
            path: path.clone(),
            message: err.to_string(),
        })?;
        let tmp = path.with_extension(format!("toml.tmp-{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        self.lock().remove(&settings.tenant_id);
        Ok(())
    }

    fn path_of(&self, tenant_id: &str) -> PathBuf {
        self.dir.join(format!("{tenant_id}.toml"))
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (SystemTime, Arc<TenantSettings>)>> {
        // A panic while holding this lock cannot leave the map inconsistent: recover it.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: &str = r#"
tenant_id = "acme"
default_route = "inbox"

[ai]
external = false
training_opt_in = false
provider = "local"

[[categories]]
name = "sales"
description = "wants to buy"
examples = ["Can I get a quote for 20 seats?"]

[[routes]]
when = { category = "sales", language = "en" }
to = "sales-team"
"#;

    #[test]
    fn parses_the_contract_example_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acme.toml"), ACME).unwrap();
        let store = TenantStore::open(dir.path()).unwrap();
        let acme = store.get("acme").unwrap().unwrap();
        assert_eq!(acme.destinations(), vec!["inbox", "sales-team"]);
        let mut changed = (*acme).clone();
        changed.default_route = "triage".into();
        store.put(&changed).unwrap();
        assert_eq!(store.get("acme").unwrap().unwrap().default_route, "triage");
        assert!(store.get("nobody").unwrap().is_none());
        assert!(store.get("../x").unwrap().is_none());
    }

    #[test]
    fn a_broken_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.toml"), "tenant_id = 3").unwrap();
        let err = TenantStore::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("bad.toml"), "{err}");
    }
}
