//! The tenant settings store: one folder of `<tenant_id>.toml` files, loaded and checked, and
//! written by `tenant.configure`.
//!
//! Settings written by `tenant.configure` go to the tenants folder (`--tenants DIR`, else
//! `<data-dir>/tenants`). Lookups re-read a file when its modification time changes, so replicas
//! that share the folder see each other's changes. With the PostgreSQL state backend the
//! settings live in the shared database instead, with a version: every job's lookup reads the
//! current version, so a change made through one replica governs the next job on every replica
//! (a running job keeps the settings it started with).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::postgres::PgState;
use crate::contract::tenant::{TenantSettings, validate_tenant_id};

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
    /// The shared database failed (retry once it is back).
    #[error("tenant settings: {0}")]
    Shared(String),
}

/// Loads and stores tenant settings in one folder of `<tenant_id>.toml` files.
pub struct TenantStore {
    dir: PathBuf,
    /// Parsed settings with the modification time they were read at, so a file changed by
    /// another replica (or by hand) is re-read on the next lookup.
    cache: Mutex<HashMap<String, (SystemTime, Arc<TenantSettings>)>>,
    /// The shared database, when the settings live there; its lookups are cached by version.
    shared: Option<(PgState, Mutex<VersionedCache>)>,
}

/// Settings read from the shared database, with the version they were read at.
type VersionedCache = HashMap<String, (i64, Arc<TenantSettings>)>;

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
            shared: None,
        };
        for id in store.list()? {
            store.get(&id)?;
        }
        Ok(store)
    }

    /// The settings in the shared database instead of the folder.
    pub fn shared(state: PgState) -> TenantStore {
        TenantStore {
            dir: PathBuf::new(),
            cache: Mutex::new(HashMap::new()),
            shared: Some((state, Mutex::new(HashMap::new()))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tenant's current settings, from the shared database or the folder (the pipeline's
    /// lookup for every job).
    pub async fn lookup(
        &self,
        tenant_id: &str,
    ) -> Result<Option<Arc<TenantSettings>>, TenantError> {
        let Some((state, versions)) = &self.shared else {
            return self.get(tenant_id);
        };
        if validate_tenant_id(tenant_id).is_err() {
            return Ok(None);
        }
        let Some(version) = state
            .tenant_version(tenant_id)
            .await
            .map_err(|e| TenantError::Shared(e.to_string()))?
        else {
            return Ok(None);
        };
        let lock = || versions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, settings)) = lock().get(tenant_id)
            && *v == version
        {
            return Ok(Some(settings.clone()));
        }
        let Some((settings, version)) = state
            .tenant(tenant_id)
            .await
            .map_err(|e| TenantError::Shared(e.to_string()))?
        else {
            return Ok(None);
        };
        let settings = Arc::new(settings);
        lock().insert(tenant_id.to_owned(), (version, settings.clone()));
        Ok(Some(settings))
    }

    /// Stores a tenant's settings (`tenant.configure`): in the shared database with the next
    /// version, or atomically in the folder.
    pub async fn store(self: &Arc<Self>, settings: &TenantSettings) -> Result<(), TenantError> {
        if let Some((state, _)) = &self.shared {
            state
                .put_tenant(settings)
                .await
                .map_err(|e| TenantError::Shared(e.to_string()))?;
            return Ok(());
        }
        let store = self.clone();
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || store.put(&settings))
            .await
            .map_err(|e| TenantError::Shared(e.to_string()))?
    }

    /// Every configured tenant's id (the shared database's or the folder's).
    pub async fn ids(&self) -> Result<Vec<String>, TenantError> {
        match &self.shared {
            Some((state, _)) => state
                .tenant_ids()
                .await
                .map_err(|e| TenantError::Shared(e.to_string())),
            None => self.list(),
        }
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

    /// The tenant's settings, or the defaults (local AI only) for a tenant not configured: what
    /// the operator's one-shot commands use.
    pub async fn lookup_or_default(
        &self,
        tenant_id: &str,
    ) -> Result<Arc<TenantSettings>, TenantError> {
        Ok(self
            .lookup(tenant_id)
            .await?
            .unwrap_or_else(|| Arc::new(TenantSettings::defaults(tenant_id))))
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
