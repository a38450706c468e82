//! Builds the connector plugins the tests load (the canonical connector and
//! the misbehaving test plugins, which are never bundled) and tells the tests
//! where they are (`POSHUB_TEST_PLUGINS`).

use std::path::PathBuf;

use poshub_build_support::build_plugins;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let plugins = manifest
        .join("../plugins")
        .canonicalize()
        .expect("plugins/ next to tests/");
    let packages = [
        "poshub-connector-canonical",
        "poshub-test-plugin-trap",
        "poshub-test-plugin-spin",
        "poshub-test-plugin-membomb",
        "poshub-test-plugin-garbage",
        "poshub-test-plugin-logflood",
        "poshub-test-plugin-forbidden",
        "poshub-test-plugin-versioned-v1",
        "poshub-test-plugin-versioned-v2",
        "poshub-test-plugin-wanderer",
        "poshub-test-plugin-world-0-1",
        "poshub-test-plugin-world-0-2",
    ];
    let dir = build_plugins(&plugins, &packages);
    println!("cargo:rustc-env=POSHUB_TEST_PLUGINS={}", dir.display());

    // The template connector for plugin authors, built as they would build it.
    let template = manifest
        .join("../examples/connector-template")
        .canonicalize()
        .unwrap();
    println!("cargo:rerun-if-changed={}", template.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        template.join("Cargo.toml").display()
    );
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&template)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(plugins.join("target"));
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    assert!(
        cmd.status().expect("cargo").success(),
        "building examples/connector-template failed"
    );
}
