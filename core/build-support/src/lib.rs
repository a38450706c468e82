//! Shared by the host's and the tests' build scripts (a build-dependency of
//! both): builds packages of the plugins workspace for `wasm32-wasip2` and
//! returns the directory holding the `.wasm` files.

use std::path::{Path, PathBuf};

/// Runs `cargo build --release --target wasm32-wasip2` in the plugins
/// workspace for `packages`, and asks cargo to rerun the calling build
/// script when any plugin source or the WIT changes.
pub fn build_plugins(plugins: &Path, packages: &[&str]) -> PathBuf {
    for watched in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
        "sdk",
        "canonical",
        "shopify",
        "woocommerce",
        "gofrugal",
        "vendure/src",
        "vendure/Cargo.toml",
        "test-plugins",
    ] {
        println!("cargo:rerun-if-changed={}", plugins.join(watched).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        plugins.join("../wit").display()
    );
    let target_dir = plugins.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(plugins)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for p in packages {
        cmd.args(["-p", p]);
    }
    // The outer build's settings are not the guests' (clippy's wrapper, host
    // rustflags, a redirected target directory).
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo for the plugins");
    if !status.success() {
        panic!("building the connector plugins failed; is the target installed? `rustup target add wasm32-wasip2`");
    }
    target_dir.join("wasm32-wasip2/release")
}
