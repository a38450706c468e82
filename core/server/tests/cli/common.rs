//! Starting the real `poshub` binary for the server's own tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `poshub serve`; killed when dropped, so that a failed assertion
/// never leaves a hub behind.
pub struct RunningHub {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningHub {
    /// Sends a signal (`HUP`, `TERM`, ...) with `kill`.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args([&format!("-{name}"), pid.as_str()])
            .status()
            .unwrap()
            .success());
    }
}

/// Starts `poshub serve --listen 127.0.0.1:0 ARGS` with the admin token
/// `token` and waits for the address it logs.
pub fn start_hub(args: &[&str], token: &str) -> RunningHub {
    let mut child = Command::new(env!("CARGO_BIN_EXE_poshub"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("POSHUB_ADMIN_TOKEN", token)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("poshub starts");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                // Keep draining so that the hub never blocks on a full pipe.
                continue;
            }
        }
    });
    let mut hub = RunningHub {
        child,
        base: String::new(),
    };
    hub.base = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the hub logs where it listens");
        if let Some(at) = line.find("listening on ") {
            break line[at + 13..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
        }
    };
    hub
}

/// A new schema in the Postgres of POSHUB_TEST_POSTGRES_URL (None when it is
/// unset), as a database URL whose search path is that schema.
pub async fn fresh_schema(tag: &str) -> Option<String> {
    use sqlx::Connection;
    let base = std::env::var("POSHUB_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())?;
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("POSHUB_TEST_POSTGRES_URL={base} is set but unreachable: {e}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let schema = format!("poshub_t_{now}_{}_{tag}", std::process::id());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options%5Bsearch_path%5D={schema}"))
}
