//! `poshub plugins list`: every connector with its id, version, platform,
//! topics, hosts and where it came from.

use std::process::Command;

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
