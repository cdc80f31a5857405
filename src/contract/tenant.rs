//! Tenant settings (`<tenant_id>.toml` or a `tenant.configure` job): their shape and validation.
//! Where they are kept is `state::tenants`.

use std::collections::BTreeMap;

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
    /// The providers to ask, in order (names of the worker's `[openai]` = `"openai"` and
    /// `[providers.<name>]` sections): the next one answers when one fails, is rate limited or
    /// its circuit is open. Empty: every configured provider, `openai` first.
    #[serde(default)]
    pub providers: Vec<String>,
    /// A model per call (`triage`, `reply`) for this tenant, on whichever provider answers; else
    /// the provider's own choice.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// Provider tokens (prompt and completion) this tenant may use per UTC day; past it the
    /// local engine answers and the result says why. `None`: no limit.
    #[serde(default)]
    pub daily_token_budget: Option<u64>,
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

/// The provider calls a model can be chosen for (`ai.models.<call>`, `models.<call>`).
pub const MODEL_TASKS: [&str; 2] = ["triage", "reply"];

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
            providers: Vec::new(),
            models: BTreeMap::new(),
            daily_token_budget: None,
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
        for task in self.ai.models.keys() {
            if !MODEL_TASKS.contains(&task.as_str()) {
                return Err(format!(
                    "ai.models.{task}: not a call of the engine (one of {})",
                    MODEL_TASKS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The settings of a tenant nobody configured: local AI only, no categories, no routes.
    pub fn defaults(tenant_id: &str) -> TenantSettings {
        TenantSettings {
            tenant_id: tenant_id.to_owned(),
            default_route: default_route(),
            ai: AiSettings::default(),
            categories: Vec::new(),
            routes: Vec::new(),
        }
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
