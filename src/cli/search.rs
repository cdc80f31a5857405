//! `search`: a tenant's knowledge searched from the operator's shell (JSON:
//! `{"hits": [...]}`).

use serde_json::json;

use super::ingest::tenant_or_default;
use super::{CliError, SearchArgs};
use crate::config::Config;

/// `search`: prints the hits (JSON: `{"hits": [...]}`).
pub async fn run(config: &Config, args: &SearchArgs, json_out: bool) -> Result<(), CliError> {
    let (query, limit, source, mode) = (
        args.query.as_str(),
        args.limit,
        args.source.as_deref(),
        args.mode,
    );
    if query.trim().is_empty() {
        return Err(CliError::Usage("the query is empty".into()));
    }
    let tenant = tenant_or_default(config, &args.tenant).await?;
    let privacy = crate::app::Privacy::build(config);
    let knowledge = crate::app::knowledge(config, &privacy)?;
    let job_id = format!("search-{}", std::process::id());
    let (hits, _) = knowledge
        .search(&tenant, &job_id, query, source, limit.max(1), mode)
        .await?;
    if json_out {
        let hits: Vec<_> = hits
            .iter()
            .map(|h| {
                json!({
                    "url": h.payload.url,
                    "title": h.payload.title,
                    "text": h.payload.text,
                    "score": h.score,
                    "chunk_id": h.chunk_id,
                    "source_id": h.payload.source_id,
                    "heading_path": h.payload.heading_path,
                })
            })
            .collect();
        println!("{}", json!({ "hits": hits }));
    } else if hits.is_empty() {
        println!("no results");
    } else {
        for (rank, hit) in hits.iter().enumerate() {
            let title = hit.payload.title.as_deref().unwrap_or("(untitled)");
            let mut text: String = hit.payload.text.chars().take(240).collect();
            if text.len() < hit.payload.text.len() {
                text.push('…');
            }
            println!(
                "{}. {title}  [{:.4}]\n   {}\n   {}\n",
                rank + 1,
                hit.score,
                hit.payload.url,
                text.replace('\n', " ")
            );
        }
    }
    Ok(())
}
