//! The real `poshub` binary: `serve --demo` starts, prints an API key and
//! three curl calls that work exactly as printed, and SIGTERM stops it
//! cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn demo_prints_curl_calls_that_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let (mut child, rx) = start(&db);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    let mut curls = Vec::new();
    while curls.len() < 3 {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                panic!("no three curl calls printed; got:\n{}", printed.join("\n"))
            });
        if line.trim_start().starts_with("curl ") {
            curls.push(line.trim().to_string());
        }
        printed.push(line);
    }
    let all = printed.join("\n");
    assert!(
        all.contains("Admin token (shown once"),
        "first start prints the admin token:\n{all}"
    );
    assert!(all.contains("psk_"), "the demo API key is printed:\n{all}");

    let run = |cmd: &str| -> serde_json::Value {
        let out = Command::new("sh")
            .args(["-c", cmd])
            .output()
            .expect("sh runs");
        assert!(
            out.status.success(),
            "`{cmd}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "`{cmd}` did not answer JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    };
    let items = run(&curls[0]);
    let rows = items["items"].as_array().expect("items listed");
    assert_eq!(rows.len(), 3);
    assert!(
        rows[0]["price"].is_string() && rows[0]["available"].is_string(),
        "{items}"
    );
    let order = run(&curls[1]);
    assert_eq!(order["status"], "pending", "{order}");
    assert_eq!(order["total"], "1447.00");
    assert_eq!(order["customer"]["phone"], "+919845012345");
    let orders = run(&curls[2]);
    assert_eq!(orders["sales_orders"][0]["id"], order["id"], "{orders}");

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "poshub did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A second start on the same database keeps the admin token and the data.
    let (mut again, rx) = start(&db);
    let mut text = String::new();
    while !text.contains("List pending orders") {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("second start printed:\n{text}"));
        text.push_str(&line);
        text.push('\n');
    }
    Command::new("kill")
        .args(["-TERM", &again.id().to_string()])
        .status()
        .unwrap();
    again.wait().unwrap();
    assert!(text.contains("the one printed on first start"), "{text}");
    assert!(
        !text.contains("pat_"),
        "the admin token is not shown again: {text}"
    );
}

/// Starts `poshub serve --demo` and streams its stdout lines.
fn start(db: &str) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_poshub"))
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            db,
        ])
        .arg("--plugin-cache")
        .arg(
            std::path::Path::new(db.trim_start_matches("sqlite://")).with_file_name("plugin-cache"),
        )
        .env_remove("POSHUB_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("poshub starts");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}
