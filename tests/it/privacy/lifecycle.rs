//! Training export and retention through the binary: what leaves in `export-training` and what
//! the retention sweep removes from the data dir.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{output_with_stdin, worker_binary};

const EMAIL: &str = "maria.lopez@agrotech.example";
const PHONE: &str = "+1 (415) 555-0132";

fn write_tenants(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (id, opt_in) in [("t-in", true), ("t-out", false)] {
        std::fs::write(
            dir.join(format!("{id}.toml")),
            format!(
                "tenant_id = \"{id}\"\ndefault_route = \"inbox\"\n[ai]\ntraining_opt_in = {opt_in}\n"
            ),
        )
        .unwrap();
    }
}

fn lead_job(id: &str, tenant: &str) -> String {
    json!({"v": 1, "id": id, "type": "lead.process", "tenant_id": tenant, "payload": {"lead": {
        "id": id, "channel": "form", "subject": "Quote for irrigation sensors",
        "body": format!("Hi, we need 40 soil sensors before June. Call me at {PHONE}.\n\nBest,\nMaria Lopez"),
        "contact": {"id": format!("c-{id}"), "name": "Maria Lopez", "email": EMAIL}
    }}})
    .to_string()
}

fn worker(data: &Path) -> Command {
    let mut command = Command::new(worker_binary());
    command
        .arg("--data-dir")
        .arg(data)
        .env("JAMBO__LOG__LEVEL", "warn");
    command
}

#[test]
fn export_holds_only_opted_in_tenants_and_no_pii() {
    let data = tempfile::tempdir().unwrap();
    write_tenants(&data.path().join("tenants"));

    let input = format!(
        "{}\n{}\n",
        lead_job("in-1", "t-in"),
        lead_job("out-1", "t-out")
    );
    let output = output_with_stdin(worker(data.path()).arg("run"), input.as_bytes());
    assert!(output.status.success());
    let processed = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("lead.processed"))
        .count();
    assert_eq!(processed, 2);

    // knowledge of the opted-in tenant, with a person's details in it
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(
        docs.path().join("delivery.txt"),
        format!("Delivery times\n\nSensors ship within 5 working days. Questions about an order go to our dispatcher Maria Lopez at {EMAIL}.\n"),
    )
    .unwrap();
    let ingest = worker(data.path())
        .arg("ingest")
        .arg(docs.path())
        .args(["--tenant", "t-in"])
        .output()
        .unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );

    let out = data.path().join("export.jsonl");
    let export = worker(data.path())
        .arg("export-training")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["tenant_id"] == "t-in"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "job_result" && l["job_id"] == "in-1")
    );
    assert!(lines.iter().any(|l| l["kind"] == "knowledge_chunk"));
    for value in [EMAIL, "555-0132", "Lopez"] {
        assert!(!text.contains(value), "{value} in the export");
    }
    assert!(text.contains("<EMAIL_"));
}

#[test]
fn retention_sweep_removes_expired_audit_days_while_running() {
    let data = tempfile::tempdir().unwrap();
    write_tenants(&data.path().join("tenants"));
    let audit = data.path().join("audit");
    std::fs::create_dir_all(&audit).unwrap();
    let old = audit.join("2020-01-01.jsonl");
    std::fs::write(&old, "{}\n").unwrap();
    let today = audit.join(format!("{}.jsonl", time::OffsetDateTime::now_utc().date()));
    std::fs::write(&today, "{}\n").unwrap();

    let mut child = worker(data.path())
        .arg("run")
        .env("JAMBO__PRIVACY__RETENTION_DAYS", "7")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // the first sweep runs at start; stdin stays open so the worker keeps running
    let deadline = Instant::now() + Duration::from_secs(30);
    while old.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(!old.exists(), "a day past retention is deleted");
    assert!(today.exists(), "today's audit records are kept");
}
