//! `tenant.configure`: validates and stores a tenant's settings (the tenants folder, or the
//! shared database).

use std::sync::Arc;

use serde_json::json;

use crate::contract::error::JobError;
use crate::contract::tenant::TenantSettings;
use crate::runtime::handler::Output;
use crate::state::tenants::{TenantError, TenantStore};

/// Stores tenant settings.
pub struct TenantHandler {
    tenants: Arc<TenantStore>,
}

impl TenantHandler {
    pub fn new(tenants: Arc<TenantStore>) -> TenantHandler {
        TenantHandler { tenants }
    }

    pub async fn configure(&self, settings: &TenantSettings) -> Result<Output, JobError> {
        self.tenants
            .store(settings)
            .await
            .map_err(|err| match err {
                TenantError::Io { .. } | TenantError::Shared(_) => {
                    JobError::Storage(err.to_string())
                }
                TenantError::Invalid { .. } => JobError::Rejected(err.to_string()),
            })?;
        Ok(Output::new(json!({
            "tenant_id": settings.tenant_id,
            "categories": settings.categories.len(),
            "routes": settings.routes.len(),
            "destinations": settings.destinations(),
            "ai": settings.ai,
        })))
    }
}
