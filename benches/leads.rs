//! Triage throughput: leads/s through `jambo-worker run` on the embedded queue (JSONL on stdin)
//! with the local engine and reply suggestions off, next to the embedding-only rate of the same
//! texts, in one run. Goal: leads/s >= 80% of the embedding-only rate.
//!
//! `cargo bench --bench leads -- [leads=2000]` (needs ../shared/datasets/bitext_cs)
//!
//! The leads are Bitext customer-support requests (the `instruction` column, in file order after
//! a stride so every category appears), sent as form leads of one tenant whose 11 categories are
//! configured with 5 examples each (rows not among the leads). Embedding-only is measured two
//! ways on the same texts: batches of 32 over both sessions (the best the model can do) and one
//! text per call with the worker's lead concurrency (32), as the worker calls it. The worker's
//! rate is counted from its first result to its last, so process start, model loading and the
//! tenant's category training are not in it (they are printed apart).

#[path = "support/rss.rs"]
mod rss;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use jambo_worker::models::{Embedder, LocalMiniLm, LocalMiniLmConfig, ModelCache};

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {err}");
    std::process::exit(1)
}

fn dataset() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets/bitext_cs/Bitext_Sample_Customer_Support_Training_Dataset.csv")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);

    let rows =
        jambo_worker::eval::classify::read_csv(&dataset()).unwrap_or_else(|e| fail("data", e));
    // columns: context, role, instruction, intent, entity_type, entity_value, start_offset,
    // end_offset, category, tags, response (read_csv drops the header row)
    let (text_col, cat_col) = (2, 8);
    let rows: Vec<(String, String)> = rows
        .iter()
        .filter_map(|r| Some((r.get(text_col)?.clone(), r.get(cat_col)?.clone())))
        .filter(|(t, c)| !t.trim().is_empty() && !c.is_empty())
        .collect();
    // every 7th row is a lead, the first 5 of each category among the others are its examples
    let stride = (rows.len() / n.max(1)).clamp(1, 7);
    let leads: Vec<&str> = rows
        .iter()
        .step_by(stride)
        .take(n)
        .map(|(t, _)| t.as_str())
        .collect();
    let mut examples: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, (text, category)) in rows.iter().enumerate() {
        let slot = examples.entry(category.as_str()).or_default();
        if i % stride != 0 && slot.len() < 5 {
            slot.push(text.as_str());
        }
    }
    let texts: Vec<String> = leads.iter().map(|t| t.to_string()).collect();

    // embedding only, the same texts
    let model = LocalMiniLm::load(&ModelCache::from_env(), LocalMiniLmConfig::default())
        .unwrap_or_else(|e| fail("model", e));
    let _ = model.embed(&texts[..texts.len().min(32)]).await;
    let started = Instant::now();
    for batch in texts.chunks(32) {
        model
            .embed(batch)
            .await
            .unwrap_or_else(|e| fail("embed", e));
    }
    let batched = texts.len() as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(texts.clone().into_iter()));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (model, queue) = (model.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().map(|mut q| q.next()).ok().flatten();
                    let Some(text) = next else { break };
                    model
                        .embed(&[text])
                        .await
                        .unwrap_or_else(|e| fail("embed", e));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap_or_else(|e| fail("task", e));
    }
    let one_by_one = texts.len() as f64 / started.elapsed().as_secs_f64();
    drop(model);

    // the worker
    let data = tempfile::tempdir().unwrap_or_else(|e| fail("tempdir", e));
    let tenants = data.path().join("tenants");
    std::fs::create_dir_all(&tenants).unwrap_or_else(|e| fail("tenants", e));
    let mut tenant = String::from("tenant_id = \"bench\"\ndefault_route = \"inbox\"\n");
    for (category, texts) in &examples {
        let examples: Vec<String> = texts.iter().map(|t| toml_string(t)).collect();
        tenant.push_str(&format!(
            "\n[[categories]]\nname = {}\nexamples = [{}]\n",
            toml_string(&category.to_lowercase()),
            examples.join(", ")
        ));
    }
    std::fs::write(tenants.join("bench.toml"), tenant).unwrap_or_else(|e| fail("tenant", e));
    let mut input = String::new();
    for (i, text) in leads.iter().enumerate() {
        let job = serde_json::json!({"v": 1, "id": format!("lead-{i}"), "type": "lead.process",
            "tenant_id": "bench", "payload": {"lead": {"id": format!("l{i}"), "channel": "form",
            "body": text}, "suggest_reply": false}});
        input.push_str(&job.to_string());
        input.push('\n');
    }
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jambo-worker"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("run")
        .env("JAMBO__LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail("worker", e));
    let mut stdin = child
        .stdin
        .take()
        .unwrap_or_else(|| fail("worker", "no stdin"));
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| fail("worker", "no stdout"));
    let (mut first, mut last, mut processed, mut failed) = (None, None, 0usize, 0usize);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap_or_else(|e| fail("worker output", e));
        let now = Instant::now();
        first.get_or_insert(now);
        last = Some(now);
        if line.contains("\"lead.processed\"") {
            processed += 1;
        } else {
            failed += 1;
        }
    }
    let _ = writer.join();
    let status = child.wait().unwrap_or_else(|e| fail("worker", e));
    let (Some(first), Some(last)) = (first, last) else {
        fail("worker", "no results")
    };
    let warmup = first.duration_since(started).as_secs_f64();
    let rate =
        (processed + failed).saturating_sub(1) as f64 / last.duration_since(first).as_secs_f64();
    println!(
        "leads={} (processed {processed}, other results {failed}, worker {status})\n\
         embedding only, batches of 32:      {batched:.1} texts/s\n\
         embedding only, 1 per call x 32:    {one_by_one:.1} texts/s\n\
         jambo-worker run (local engine):    {rate:.1} leads/s (first result after {warmup:.2}s)\n\
         leads/s / embedding-only: {:.2} (batched), {:.2} (one per call)\n\
         bench peak RSS {} MiB (the worker is a separate process)",
        leads.len(),
        rate / batched,
        rate / one_by_one,
        rss::peak_rss_kib().unwrap_or(0) / 1024
    );
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}
