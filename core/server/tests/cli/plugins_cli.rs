//! `poshub plugins list`: every connector with its id, version, platform,
//! topics, hosts and where it came from.

use std::process::Command;

use crate::common;

#[test]
fn plugins_list_shows_bundled_and_directory_connectors() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_poshub"))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let bundled = run(&["plugins", "list", "--plugin-cache", cache_arg]);
    let line = bundled
        .lines()
        .find(|l| l.starts_with("canonical "))
        .unwrap_or_else(|| panic!("{bundled}"));
    assert!(
        line.contains("orders/create,orders/cancelled")
            && line.contains("bundled (canonical.wasm)"),
        "{line}"
    );
    assert!(line.contains("poshub") && line.contains("0.1.0"), "{line}");
    let vendure = bundled
        .lines()
        .find(|l| l.starts_with("vendure "))
        .unwrap_or_else(|| panic!("no vendure connector: {bundled}"));
    assert!(
        vendure.contains("Vendure")
            && vendure.contains("orders/placed,orders/cancelled,refunds/settled")
            && vendure.contains("bundled (vendure.wasm)"),
        "{vendure}"
    );

    // A file in the plugins directory with the same id replaces the bundled one.
    let dir = tempfile::tempdir().unwrap();
    let (_, wasm) = poshub_connectors::bundled::BUNDLED[0];
    let file = dir.path().join("my-canonical.wasm");
    std::fs::write(&file, wasm).unwrap();
    std::fs::write(dir.path().join("broken.wasm"), b"nope").unwrap();
    let listed = run(&[
        "plugins",
        "list",
        "--plugins-dir",
        dir.path().to_str().unwrap(),
        "--plugin-cache",
        cache_arg,
    ]);
    let line = listed
        .lines()
        .find(|l| l.starts_with("canonical "))
        .unwrap();
    assert!(line.ends_with(file.to_str().unwrap()), "{line}");
    // The compiled component was cached for the next start.
    assert!(std::fs::read_dir(cache.path()).unwrap().any(|e| e
        .unwrap()
        .path()
        .extension()
        .is_some_and(|x| x == "cwasm")));
}

/// SIGHUP makes a running hub rescan its plugins directory.
#[test]
fn sighup_reloads_the_plugins_directory() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let cache = dir.path().join("cache");
    let hub = common::start_hub(
        &[
            "--database",
            &db,
            "--plugins-dir",
            plugins.to_str().unwrap(),
            "--plugin-cache",
            cache.to_str().unwrap(),
        ],
        "t",
    );
    let base = hub.base.clone();
    let source_of_canonical = || {
        let out = Command::new("curl")
            .args([
                "-s",
                "-H",
                "Authorization: Bearer t",
                &format!("{base}/admin/v1/plugins"),
            ])
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "canonical")
            .unwrap()["source"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(source_of_canonical(), "bundled (canonical.wasm)");
    let file = plugins.join("canonical.wasm");
    std::fs::write(&file, poshub_connectors::bundled::BUNDLED[0].1).unwrap();
    hub.signal("HUP");
    let started = Instant::now();
    while source_of_canonical() != file.display().to_string() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "SIGHUP did not reload the plugins"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    hub.signal("TERM");
    let mut hub = hub;
    assert!(hub.child.wait().unwrap().success());
}
