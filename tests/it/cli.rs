//! The command line: exit codes (0 ok, 2 bad usage or input, 1 other failures) and messages that
//! name what is wrong.

use std::process::{Command, Output};

use crate::support::worker_binary;

fn jambo(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(worker_binary());
    command.args(args).env("JAMBO__LOG__LEVEL", "error");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run jambo-worker")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_config_value_exits_2_naming_the_key() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let output = jambo(
        &["--data-dir", dir, "run"],
        &[("JAMBO__AMQP__PREFETCH", "0")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("amqp.prefetch"),
        "{}",
        stderr(&output)
    );

    let config = data.path().join("jambo.toml");
    std::fs::write(
        &config,
        "[amqp]\nurl = \"amqp://guest:hunter2@127.0.0.1/%2f\"\n",
    )
    .unwrap();
    let output = jambo(&["--config", config.to_str().unwrap(), "run"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("amqp.url"));
    assert!(
        !stderr(&output).contains("hunter2"),
        "a secret never reaches the output"
    );
}

#[test]
fn bad_usage_exits_2_and_every_command_has_help() {
    assert_eq!(jambo(&["frobnicate"], &[]).status.code(), Some(2));
    for command in [
        "run", "demo", "ingest", "search", "triage", "suggest", "redact", "erase", "eval",
    ] {
        let output = jambo(&[command, "--help"], &[]);
        assert_eq!(output.status.code(), Some(0), "{command} --help");
    }
}

#[test]
fn triage_of_invalid_json_exits_2() {
    let data = tempfile::tempdir().unwrap();
    let input = data.path().join("lead.json");
    std::fs::write(&input, "{oops").unwrap();
    let output = jambo(
        &[
            "--data-dir",
            data.path().to_str().unwrap(),
            "triage",
            input.to_str().unwrap(),
            "--tenant",
            "t1",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid JSON"));
}

#[test]
fn demo_runs_on_embedded_defaults() {
    let data = tempfile::tempdir().unwrap();
    let output = jambo(
        &[
            "--data-dir",
            data.path().to_str().unwrap(),
            "--json",
            "demo",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.iter().any(|e| e["type"] == "tenant.configured"));
    let results: Vec<_> = events
        .iter()
        .filter(|e| e["type"] != "source.progress")
        .collect();
    assert_eq!(
        results.len(),
        jambo_worker::cli::demo::DEMO_JOBS.lines().count()
    );
    let indexed = results
        .iter()
        .find(|e| e["type"] == "source.indexed")
        .expect("the bundled site is indexed");
    assert!(
        indexed["result"]["pages_indexed"].as_u64().unwrap_or(0) >= 20,
        "{indexed}"
    );
    let leads: Vec<_> = results
        .iter()
        .filter(|e| e["type"] == "lead.processed")
        .collect();
    assert!(!leads.is_empty());
    for lead in &leads {
        for field in crate::support::LEAD_RESULT_FIELDS {
            assert!(
                !lead["result"][field].is_null(),
                "{field} missing in {lead}"
            );
        }
        assert_eq!(lead["privacy"]["external_ai"], false);
    }
    assert!(
        results
            .iter()
            .filter(|e| e["type"] == "lead.processed" || e["type"] == "reply.suggested")
            .any(|e| e["result"]["reply"]["citations"]
                .as_array()
                .is_some_and(|c| !c.is_empty())),
        "a suggested reply cites the help center"
    );
}

#[test]
fn redact_prints_placeholders_and_byte_offsets_into_the_input() {
    let input =
        "Grüße, ich bin Anna Schmidt: anna.schmidt@example.de, IBAN DE89 3704 0044 0532 0130 00";
    let output = crate::support::output_with_stdin(
        Command::new(worker_binary())
            .args(["--json", "redact", "-"])
            .env("JAMBO__LOG__LEVEL", "error"),
        input.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(0));
    let out: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = out["text"].as_str().unwrap();
    assert!(
        text.contains("<EMAIL_1>") && text.contains("<IBAN_1>"),
        "{text}"
    );
    assert!(!text.contains("anna.schmidt@example.de"));
    for entity in out["entities"].as_array().unwrap() {
        let (start, end) = (
            entity["start"].as_u64().unwrap() as usize,
            entity["end"].as_u64().unwrap() as usize,
        );
        let value = &input[start..end];
        match entity["type"].as_str().unwrap() {
            "EMAIL" => assert_eq!(value, "anna.schmidt@example.de"),
            "IBAN" => assert_eq!(value, "DE89 3704 0044 0532 0130 00"),
            _ => {}
        }
    }
}

#[test]
fn eval_redact_reports_scores_on_the_presidio_set() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/datasets/presidio_synth/synth_dataset_v2.json"
    );
    let output = jambo(&["--json", "eval", "redact", "--data", data], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["documents"], 1500);
    let f2 = report["any_pii"]["f2"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&f2));
    assert_eq!(
        jambo(&["eval", "redact", "--data", "/nonexistent"], &[])
            .status
            .code(),
        Some(2)
    );
}

/// A worker whose state database cannot be reached says so at start and consumes nothing: exit
/// 2 naming `state.url`, never the password.
#[test]
fn an_unreachable_state_database_exits_2_before_any_job() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let output = jambo(
        &["--data-dir", dir, "run"],
        &[
            ("JAMBO__STATE__BACKEND", "postgres"),
            (
                "JAMBO__STATE__URL",
                "postgres://jambo:hunter2@127.0.0.1:9/jambo",
            ),
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("state.url"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("hunter2"), "{}", stderr(&output));
    let output = jambo(
        &["--data-dir", dir, "run"],
        &[("JAMBO__STATE__BACKEND", "cassandra")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("state.backend"),
        "{}",
        stderr(&output)
    );
}

/// With `--http` a worker whose state database cannot be reached stays up, unready: `/readyz`
/// answers 503 with the reason (and it retries); a signal ends it.
#[test]
fn with_http_an_unusable_setup_keeps_readyz_unready_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let ops = crate::support::free_port();
    let mut child = Command::new(worker_binary())
        .args([
            "--data-dir",
            data.path().to_str().unwrap(),
            "run",
            "--http",
            &ops,
        ])
        .env("JAMBO__LOG__LEVEL", "error")
        .env("JAMBO__STATE__BACKEND", "postgres")
        .env(
            "JAMBO__STATE__URL",
            "postgres://jambo:hunter2@127.0.0.1:9/jambo",
        )
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        let answer = std::net::TcpStream::connect(&ops)
            .ok()
            .map(|_| crate::support::http_get(&ops, "/readyz"))
            .unwrap_or_default();
        if answer.contains("setup failed") || std::time::Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("state.url"), "{answer}");
    assert!(!answer.contains("hunter2"), "{answer}");
    assert!(child.try_wait().unwrap().is_none(), "the worker stays up");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
}
