//! `jambo-worker demo`: the main job end to end on embedded defaults (no services, no API key).
//! Serves the bundled help-center site on loopback, then runs the bundled jobs (a tenant, the
//! site indexed as its knowledge, leads triaged and routed with suggested replies, a reply
//! request, a repeated job and a broken one) through the embedded queue and the real pipeline,
//! and prints the results.

pub mod site;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use super::CliError;
use crate::config::Config;
use crate::contract::event::Event;
use crate::queue::stdio::StdioQueue;
use crate::runtime::worker::Worker;

/// The bundled jobs, one per line.
pub const DEMO_JOBS: &str = include_str!("../../../fixtures/demo/jobs.jsonl");

pub async fn run(mut config: Config, json: bool) -> Result<(), CliError> {
    // The demo keeps its state apart from a real worker's data.
    config.data_dir = config.data_dir.join("demo");
    config.tenants_dir = config.data_dir.join("tenants");
    // The demo crawls its own site on 127.0.0.1, which the SSRF guard otherwise refuses.
    config.knowledge_allow_private_network = true;
    let (base, site) = site::serve(site::bundled_site_dir())
        .await
        .map_err(|err| CliError::Failed(format!("demo site: {err}")))?;
    let jobs = DEMO_JOBS.replace("{{BASE}}", &base);
    let pipeline = crate::app::pipeline(&config).await?;
    // Two passes, each job at a time: the tenant and its knowledge first (job families run
    // side by side, so a reply could otherwise be drafted before the site is indexed), then
    // the leads and the reply request.
    let (setup, work): (Vec<&str>, Vec<&str>) = jobs.lines().partition(|line| {
        line.contains("\"type\":\"tenant.configure\"")
            || line.contains("\"type\":\"source.reindex\"")
    });
    let mut concurrency = config.worker.concurrency.clone();
    concurrency.values_mut().for_each(|limit| *limit = 1);
    for batch in [setup, work] {
        let input = batch.join("\n") + "\n";
        let (out_writer, out_reader) = tokio::io::duplex(1 << 16);
        let queue = Arc::new(StdioQueue::new(
            std::io::Cursor::new(input.into_bytes()),
            out_writer,
            config.data_dir.clone(),
            config.worker.max_body_bytes,
        ));
        let worker = Worker::new(
            queue,
            pipeline.clone(),
            &concurrency,
            Duration::from_secs(30),
        );
        let printer = tokio::spawn(print_results(out_reader, json));
        worker.run(std::future::pending()).await;
        printer
            .await
            .map_err(|err| CliError::Failed(err.to_string()))?;
    }
    site.abort();
    if !json {
        println!("\nstate kept in {}", config.data_dir.display());
    }
    Ok(())
}

async fn print_results(output: tokio::io::DuplexStream, json: bool) {
    let mut lines = tokio::io::BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if json {
            println!("{line}");
            continue;
        }
        let Ok(event) = serde_json::from_str::<Event>(&line) else {
            println!("{line}");
            continue;
        };
        let job = event.job_id.as_deref().unwrap_or("-");
        if event.event_type == "source.progress" {
            let r = &event.result;
            println!(
                "   … {job}: {} pages seen, {} indexed, {} chunks",
                r["pages_seen"], r["pages_indexed"], r["chunks"]
            );
            continue;
        }
        println!("── {job} → {}", event.event_type);
        let pretty = serde_json::to_string_pretty(&event.result).unwrap_or_default();
        for text in pretty.lines() {
            println!("   {text}");
        }
        let privacy = serde_json::to_string(&event.privacy).unwrap_or_default();
        println!("   privacy: {privacy}");
    }
}
