//! The embedded queue through the binary: JSONL jobs on stdin, JSONL results on stdout.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{job, output_with_stdin, work, worker_binary, write_tenant};

fn run_stdin(data_dir: &std::path::Path, input: &[u8]) -> (Vec<Value>, std::process::ExitStatus) {
    write_tenant(&data_dir.join("tenants"));
    let output = output_with_stdin(
        Command::new(worker_binary())
            .arg("--data-dir")
            .arg(data_dir)
            .arg("run")
            .env("JAMBO__WORKER__TEST_JOBS", "true")
            .env("JAMBO__AMQP__RETRY_BASE_MS", "10")
            .env("JAMBO__LOG__LEVEL", "warn"),
        input,
    );
    let events = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each output line is JSON"))
        .collect();
    (events, output.status)
}

#[test]
fn jsonl_in_jsonl_out_with_retries_dead_letters_and_repeats() {
    let data = tempfile::tempdir().unwrap();
    let mut input = Vec::new();
    for body in [
        work("a", json!({})),
        work("flaky", json!({"fail_attempts": 1})),
        b"this is not json".to_vec(),
        job(
            "lead-1",
            "lead.process",
            json!({"lead": {"id": "l", "channel": "form"}}),
        ),
        work("a", json!({})),
    ] {
        input.extend_from_slice(&body);
        input.push(b'\n');
    }
    input.extend_from_slice(b"\n   \n\xff\xfe\n");
    let (events, status) = run_stdin(data.path(), &input);
    assert!(status.success());
    assert_eq!(events.len(), 6, "{events:#?}");
    let of = |id: &str| {
        events
            .iter()
            .filter(|e| e["job_id"] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let repeats = of("a");
    assert_eq!(repeats.len(), 2);
    assert_eq!(
        repeats[0], repeats[1],
        "the repeat is answered from the store, not run again"
    );
    assert_eq!(of("flaky")[0]["result"]["attempt"], 2);
    assert_eq!(of("lead-1")[0]["result"]["error"]["kind"], "invalid_job");
    let failed = events.iter().filter(|e| e["type"] == "job.failed").count();
    assert_eq!(failed, 3);

    let dead = std::fs::read_to_string(data.path().join("dead-letter.jsonl")).unwrap();
    let dead: Vec<Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dead.len(), 3);
    assert!(
        dead.iter()
            .any(|d| d["message"]["body"] == "this is not json")
    );
    assert!(
        dead.iter().any(|d| d["message"]["body_base64"] == "//4="),
        "invalid UTF-8 kept byte for byte"
    );
}

#[test]
fn tenant_configure_applies_to_the_jobs_after_it() {
    let data = tempfile::tempdir().unwrap();
    let configure = serde_json::to_vec(
        &json!({"v": 1, "id": "cfg", "type": "tenant.configure", "tenant_id": "newco",
        "payload": {"tenant_id": "newco"}}),
    )
    .unwrap();
    let after = serde_json::to_vec(
        &json!({"v": 1, "id": "after", "type": "test.work", "tenant_id": "newco", "payload": {}}),
    )
    .unwrap();
    let input = [configure, b"\n".to_vec(), after, b"\n".to_vec()].concat();
    let (events, status) = run_stdin(data.path(), &input);
    assert!(status.success());
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["tenant.configured", "test.done"]);
    assert!(data.path().join("tenants/newco.toml").exists());
}
