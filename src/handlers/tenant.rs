//! `tenant.configure`: validates and stores a tenant's settings in the tenants folder.

use std::sync::Arc;

use serde_json::json;

use super::Output;
use crate::error::JobError;
use crate::tenant::{TenantError, TenantSettings, TenantStore};

pub async fn configure(
    tenants: &Arc<TenantStore>,
    settings: &TenantSettings,
) -> Result<Output, JobError> {
    let store = tenants.clone();
    let to_write = settings.clone();
    tokio::task::spawn_blocking(move || store.put(&to_write))
        .await
        .map_err(|err| JobError::Storage(err.to_string()))?
        .map_err(|err| match err {
            TenantError::Io { .. } => JobError::Storage(err.to_string()),
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
